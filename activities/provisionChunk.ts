/**
 * provisionChunk: writes the phone methods of one chunk and records each user's outcome in the
 * run store. Idempotent: a finished chunk is not redone, and after a crash the users already
 * recorded are skipped while the rest are written POST-first and reconciled, so nothing is
 * written twice.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { GraphRequestError } from "../shared/graph/errors.js";
import { writePhoneMethods, type WriteOutcome } from "../shared/graph/phoneWriter.js";
import { logEvent } from "../shared/log/events.js";
import { provisionedLine, provisioningFailedLine } from "../shared/log/seedLines.js";
import type { ChunkItem } from "../shared/planning.js";
import { runKeys } from "../shared/runTypes.js";
import { services } from "../shared/services.js";

/** Registered name. */
export const provisionChunkName = "provisionChunk";

/** Input of one chunk. */
export interface ProvisionChunkInput {
  runId: string;
  chunkNo: number;
  /** Write again the users whose earlier outcome was a transient failure (a rerun). */
  retryFailed?: boolean;
  logPhoneNumbers: "masked" | "full";
}

/** Outcome counts of a chunk. */
export interface ChunkCounts {
  created: number;
  replaced: number;
  alreadyPresent: number;
  existingDiffers: number;
  failed: number;
  /** Of `failed`, those that a later rerun may fix (throttling, outages). */
  failedTransient: number;
  smsSignInNotUnique: number;
}

/** Result: counts, or the fatal reason that must stop the run. */
export type ProvisionChunkResult =
  { chunkNo: number; counts: ChunkCounts; throttled: number } | { chunkNo: number; fatal: string };

/** One user's recorded outcome. */
export type StoredOutcome = WriteOutcome & { userPrincipalName: string };

/** The outcome file of a chunk. */
export interface ChunkOutcomeFile {
  chunkNo: number;
  complete: boolean;
  outcomes: StoredOutcome[];
}

/**
 * Adds one outcome to the counts.
 *
 * @param c - counts to add to.
 * @param o - one user's outcome.
 */
export function addOutcome(c: ChunkCounts, o: WriteOutcome): void {
  switch (o.result) {
    case "created":
      c.created++;
      if (o.note === "smsSignInNumberNotUnique") {
        c.smsSignInNotUnique++;
      }
      break;
    case "replaced":
      c.replaced++;
      break;
    case "alreadyPresent":
      c.alreadyPresent++;
      break;
    case "existingDiffers":
      c.existingDiffers++;
      break;
    case "failed":
      c.failed++;
      if (o.transient) {
        c.failedTransient++;
      }
      break;
  }
}

/**
 * Counts outcomes.
 *
 * @param outcomes - per-user outcomes.
 */
export function countOutcomes(outcomes: Iterable<WriteOutcome>): ChunkCounts {
  const c: ChunkCounts = {
    created: 0,
    replaced: 0,
    alreadyPresent: 0,
    existingDiffers: 0,
    failed: 0,
    failedTransient: 0,
    smsSignInNotUnique: 0,
  };
  for (const o of outcomes) {
    addOutcome(c, o);
  }
  return c;
}

/** Save partial progress at most this often. */
const CHECKPOINT_MS = 2_000;

/**
 * Provisions one chunk.
 *
 * @param input - run, chunk and rerun flag.
 * @param context - invocation context: gets the seed-style Status lines.
 */
export async function provisionChunk(
  input: ProvisionChunkInput,
  context: InvocationContext,
): Promise<ProvisionChunkResult> {
  const { graph, store, limiter } = services();
  const outcomeKey = runKeys.outcome(input.runId, input.chunkNo);
  const partialKey = runKeys.partialOutcome(input.runId, input.chunkNo);
  const items = await store.getJson<ChunkItem[]>(runKeys.chunk(input.runId, input.chunkNo));
  if (!items) {
    throw new Error(
      `provisionChunk: chunk ${input.chunkNo} of run '${input.runId}' is missing from the run store.`,
    );
  }
  const done = new Map<string, StoredOutcome>();
  const previous =
    (await store.getJson<ChunkOutcomeFile>(outcomeKey)) ??
    (await store.getJson<ChunkOutcomeFile>(partialKey));
  for (const o of previous?.outcomes ?? []) {
    if (!(input.retryFailed && o.result === "failed" && o.transient)) {
      done.set(o.userId, o);
    }
  }
  if (previous?.complete && done.size === previous.outcomes.length) {
    return { chunkNo: input.chunkNo, counts: countOutcomes(previous.outcomes), throttled: 0 };
  }

  const byId = new Map(items.map((i) => [i.userId, i]));
  const todo = items.filter((i) => !done.has(i.userId));
  let throttled = 0;
  let lastSave = Date.now();
  let saving: Promise<void> | undefined;
  const save = async (complete: boolean): Promise<void> => {
    const file: ChunkOutcomeFile = {
      chunkNo: input.chunkNo,
      complete,
      outcomes: [...done.values()],
    };
    await store.putJson(complete ? outcomeKey : partialKey, file);
  };

  try {
    await writePhoneMethods(
      graph,
      todo.map((i) => ({ userId: i.userId, phoneNumber: i.phoneNumber, action: i.action })),
      {
        limiter,
        onThrottled: (n) => {
          throttled += n;
        },
        onOutcome: (o) => {
          const item = byId.get(o.userId);
          const upn = item?.userPrincipalName ?? o.userId;
          done.set(o.userId, { ...o, userPrincipalName: upn });
          if (o.result === "created" || o.result === "replaced") {
            context.info(provisionedLine(upn, item?.phoneNumber ?? "", input.logPhoneNumbers));
          } else if (o.result === "failed") {
            context.warn(provisioningFailedLine(upn, o.code, o.message ?? `HTTP ${o.status}`));
          }
          if (!saving && Date.now() - lastSave > CHECKPOINT_MS) {
            lastSave = Date.now();
            saving = save(false).finally(() => {
              saving = undefined;
            });
          }
        },
      },
    );
  } catch (error) {
    await saving;
    await save(false);
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return { chunkNo: input.chunkNo, fatal: error.message };
    }
    throw error;
  }
  await saving;
  await save(true);
  await store.delete(partialKey);
  const counts = countOutcomes(done.values());
  logEvent(context, "chunkProvisioned", {
    runId: input.runId,
    chunkNo: input.chunkNo,
    throttled,
    ...counts,
  });
  return { chunkNo: input.chunkNo, counts, throttled };
}

df.app.activity(provisionChunkName, { handler: provisionChunk });
