/**
 * What happened to one planned write: the outcome the writer reports, the chunk records in the run
 * store and the summary joins to the plan by user id. A new outcome is added here, in
 * {@link tally} (`counts.ts`), and where the writer produces it (`shared/graph/phoneWriter.ts`).
 */
import type { Method } from "../settings/index.js";

/**
 * The outcome of one user's write of one method. `method` is absent for the mobile phone (the
 * writer reports per call, for one method, and outcome files of older runs name none).
 */
export type Outcome = { method?: Method } & (
  | { userId: string; result: "created"; note?: "smsSignInNumberNotUnique" }
  | { userId: string; result: "replaced" }
  | { userId: string; result: "alreadyPresent" }
  /** The user has a method of the kind with another value, left alone (REPLACE_EXISTING off, or not a mobile). */
  | { userId: string; result: "existingDiffers" }
  /** Not written: a re-check before writing found the user changed since the plan. */
  | { userId: string; result: "changedSincePlan"; why: string }
  | {
      userId: string;
      result: "failed";
      status: number;
      code: string;
      /** Graph's message, when it gave one. */
      message?: string;
      requestId?: string;
      /** True when trying again later may succeed (throttling, outages); false for per-user refusals. */
      transient: boolean;
    }
);

/** The results an outcome can have. */
export type OutcomeResult = Outcome["result"];

/**
 * When a chunk's last attempt wrote and how much: the report's write rate and concurrency over
 * time come from these (about 150 bytes a chunk; counts and times only, nobody's data).
 */
export interface ChunkTiming {
  /** When the attempt started writing (ISO). */
  startedAt: string;
  /** When its last outcome was recorded (ISO). */
  endedAt: string;
  /** Users given an outcome by this attempt. */
  users: number;
  /** Of them, written (created or replaced). */
  wrote: number;
  /** 429 answers this attempt met. */
  throttled: number;
  /** The write limiter's window (requests in flight allowed) when the attempt ended. */
  window: number;
}

/** The outcome file of one chunk in the run store. */
export interface ChunkOutcomeFile {
  chunkNo: number;
  /** True once every user of the chunk has an outcome. */
  complete: boolean;
  outcomes: Outcome[];
  /** The last attempt that wrote (absent when the chunk was complete before it started). */
  timing?: ChunkTiming;
}

/**
 * Whether an outcome wrote to Graph.
 *
 * @param outcome - one user's outcome.
 */
export function wrote(outcome: Outcome): boolean {
  return outcome.result === "created" || outcome.result === "replaced";
}
