/**
 * What happened to one planned write: the outcome the writer reports, the chunk records in the run
 * store and the summary joins to the plan by user id. A new outcome is added here, in
 * {@link tally} (`counts.ts`), and where the writer produces it (`shared/graph/phoneWriter.ts`).
 */

/** The outcome of one user's write. */
export type Outcome =
  | { userId: string; result: "created"; note?: "smsSignInNumberNotUnique" }
  | { userId: string; result: "replaced" }
  | { userId: string; result: "alreadyPresent" }
  /** The user has a mobile method with another number, left alone (REPLACE_EXISTING off). */
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
    };

/** The results an outcome can have. */
export type OutcomeResult = Outcome["result"];

/** The outcome file of one chunk in the run store. */
export interface ChunkOutcomeFile {
  chunkNo: number;
  /** True once every user of the chunk has an outcome. */
  complete: boolean;
  outcomes: Outcome[];
}

/**
 * Whether an outcome wrote to Graph.
 *
 * @param outcome - one user's outcome.
 */
export function wrote(outcome: Outcome): boolean {
  return outcome.result === "created" || outcome.result === "replaced";
}
