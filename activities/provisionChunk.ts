/**
 * provisionChunk: writes the phone methods of one chunk and records each user's outcome in the
 * run store. Idempotent: a finished chunk is not redone, and after a crash the users already
 * recorded are skipped while the rest are written POST-first and reconciled, so nothing is
 * written twice.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { recheckKeys, type ChangedUser } from "../shared/guards/recheck.js";
import { writePhoneMethods } from "../shared/graph/phoneWriter.js";
import { logEvent } from "../shared/log/events.js";
import { provisionedLine, provisioningFailedLine } from "../shared/log/seedLines.js";
import {
  countOutcomes,
  runIdSchema,
  runKeys,
  wrote,
  type ChunkItem,
  type ChunkOutcomeFile,
  type ChunkTiming,
  type Outcome,
  type RunCounts,
} from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input of one chunk. */
export const provisionChunkInput = z.strictObject({
  runId: runIdSchema,
  chunkNo: z.number().int().min(0),
  /** Write again the users whose earlier outcome was a transient failure (a rerun). */
  retryFailed: z.boolean().optional(),
  logPhoneNumbers: z.enum(["masked", "full"]),
});

/** Input of one chunk. */
export type ProvisionChunkInput = z.infer<typeof provisionChunkInput>;

/** Result: counts, or the fatal reason that must stop the run, or that the run was cancelled. */
export type ProvisionChunkResult =
  | { chunkNo: number; counts: RunCounts; throttled: number }
  | { chunkNo: number; fatal: string }
  | { chunkNo: number; stopped: true };

/** Save partial progress at most this often. */
const CHECKPOINT_MS = 2_000;

/**
 * The outcomes recorded by an earlier attempt, less the transient failures a rerun retries.
 *
 * @returns the outcomes to keep, and whether the chunk was already complete with all of them.
 */
async function recordedOutcomes(
  input: ProvisionChunkInput,
): Promise<{ done: Map<string, Outcome>; complete: boolean }> {
  const { store } = services();
  const previous =
    (await store.getJson<ChunkOutcomeFile>(runKeys.outcome(input.runId, input.chunkNo))) ??
    (await store.getJson<ChunkOutcomeFile>(runKeys.partialOutcome(input.runId, input.chunkNo)));
  const done = new Map<string, Outcome>();
  for (const o of previous?.outcomes ?? []) {
    if (!(input.retryFailed && o.result === "failed" && o.transient)) {
      done.set(o.userId, o);
    }
  }
  return { done, complete: previous?.complete === true && done.size === previous.outcomes.length };
}

/** The timing of the attempt that ends now. */
function timingOf(
  startedAt: string,
  attempt: { users: number; wrote: number },
  throttled: number,
  window: number,
): ChunkTiming {
  return { startedAt, endedAt: new Date().toISOString(), ...attempt, throttled, window };
}

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
  const { done, complete } = await recordedOutcomes(input);
  if (complete) {
    return { chunkNo: input.chunkNo, counts: countOutcomes(done.values()), throttled: 0 };
  }
  // Stop means stop: a cancel writes the flag before it terminates the run, and every batch
  // checks it, so no batch starts after the cancel is recorded.
  const stopKey = runKeys.stopFlag(input.runId);
  const shouldStop = (): Promise<boolean> => store.exists(stopKey);
  if (await shouldStop()) {
    return { chunkNo: input.chunkNo, stopped: true };
  }
  // A re-check before writing (after an approval wait, or a rerun) left these users out.
  const changed = await store.getJson<ChangedUser[]>(recheckKeys.chunk(input.runId, input.chunkNo));
  for (const c of changed ?? []) {
    if (!done.has(c.userId) || done.get(c.userId)?.result === "failed") {
      done.set(c.userId, { userId: c.userId, result: "changedSincePlan", why: c.why });
    }
  }

  const byId = new Map(items.map((i) => [i.userId, i]));
  const todo = items.filter((i) => !done.has(i.userId));
  let throttled = 0;
  const startedAt = new Date().toISOString();
  const attempt = { users: 0, wrote: 0 };
  let lastSave = Date.now();
  let saving: Promise<void> | undefined;
  const save = async (final: boolean): Promise<void> => {
    const file: ChunkOutcomeFile = {
      chunkNo: input.chunkNo,
      complete: final,
      outcomes: [...done.values()],
      ...(final ? { timing: timingOf(startedAt, attempt, throttled, limiter.limit) } : {}),
    };
    await store.putJson(final ? outcomeKey : partialKey, file);
  };
  const onOutcome = (o: Outcome): void => {
    const item = byId.get(o.userId);
    const upn = item?.userPrincipalName ?? o.userId;
    done.set(o.userId, o);
    attempt.users++;
    if (wrote(o)) {
      attempt.wrote++;
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
  };

  // While this marker exists the run counts as still writing (a cancel is "cancelling").
  const running = runKeys.runningChunk(input.runId, input.chunkNo);
  await store.putJson(running, { startedAt: new Date().toISOString() });
  try {
    await writePhoneMethods(
      graph,
      todo.map((i) => ({ userId: i.userId, phoneNumber: i.phoneNumber, action: i.action })),
      { limiter, onThrottled: (n) => (throttled += n), onOutcome, shouldStop },
    );
  } catch (error) {
    await saving;
    await save(false);
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return { chunkNo: input.chunkNo, fatal: error.message };
    }
    throw error;
  } finally {
    await store.delete(running);
  }
  await saving;
  if (done.size < items.length && (await shouldStop())) {
    await save(false);
    return { chunkNo: input.chunkNo, stopped: true };
  }
  await save(true);
  await store.delete(partialKey);
  const counts = countOutcomes(done.values());
  logEvent(context, "chunkProvisioned", {
    runId: input.runId,
    chunkNo: input.chunkNo,
    throttled,
    created: counts.created,
    replaced: counts.replaced,
    alreadyPresent: counts.alreadyPresent,
    existingDiffers: counts.existingDiffers,
    failed: counts.failed,
    failedTransient: counts.failedTransient,
    smsSignInNotUnique: counts.smsSignInNotUnique,
    changedSincePlan: counts.changedSincePlan,
  });
  return { chunkNo: input.chunkNo, counts, throttled };
}

/** The activity. */
export const provisionChunkActivity = defineActivity({
  name: "provisionChunk",
  input: provisionChunkInput,
  handler: provisionChunk,
});
