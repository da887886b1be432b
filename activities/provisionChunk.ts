/**
 * provisionChunk: writes the authentication methods of one chunk and records each write's outcome
 * in the run store. Idempotent: a finished chunk is not redone, and after a crash the writes
 * already recorded are skipped while the rest are written POST-first and reconciled, so nothing
 * is written twice.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { GraphRequestError, GraphUnavailableError } from "../shared/graph/errors.js";
import { handOverLimiter, resumeLimiter } from "../shared/graph/limiterHandover.js";
import { recheckKeys, type ChangedUser } from "../shared/guards/recheck.js";
import {
  writePhoneMethods,
  type PhoneWrite,
  type PhoneWriterOptions,
} from "../shared/graph/phoneWriter.js";
import { logEvent } from "../shared/log/events.js";
import { provisionedLine, provisioningFailedLine } from "../shared/log/seedLines.js";
import {
  chunkTurnSchema,
  countOutcomes,
  methodOf,
  graphWaitsSchema,
  runIdSchema,
  runKeys,
  writeKey,
  wrote,
  type ChunkItem,
  type ChunkOutcomeFile,
  type Outcome,
  type RunCounts,
  type TurnMark,
} from "../shared/run/index.js";
import { METHODS, type Method } from "../shared/settings/index.js";
import { services } from "../shared/services.js";

/** Input of one chunk. */
export const provisionChunkInput = z.strictObject({
  runId: runIdSchema,
  chunkNo: z.number().int().min(0),
  /** Write again the users whose earlier outcome was a transient failure (a rerun). */
  retryFailed: z.boolean().optional(),
  logPhoneNumbers: z.enum(["masked", "full"]),
  /** How the writer waits on Graph (the run's tuning; the writer's defaults when absent). */
  graphWaits: graphWaitsSchema.optional(),
  /**
   * Taking turns with the wave's chunks before and after it (absent: the chunk just writes). The
   * wave schedules the next chunk while this one still writes; this one marks `token` when every
   * write of it has left and none waits to go again, and again when it ends, and, with `after`,
   * waits for the chunk before to mark its token (at most `waitMs`) before it sends anything. See
   * {@link waitForTurn}.
   */
  turn: chunkTurnSchema.optional(),
});

/** Input of one chunk. */
export type ProvisionChunkInput = z.infer<typeof provisionChunkInput>;

/**
 * Result: counts, or the fatal reason that must stop the run, or that the run was cancelled, or
 * that Graph was unavailable (the run pauses and this chunk is attempted again later), or that
 * its turn did not come within its wait (it wrote nothing; the wave runs it again once the chunk
 * before has ended).
 */
export type ProvisionChunkResult =
  | { chunkNo: number; counts: RunCounts; throttled: number }
  | { chunkNo: number; fatal: string }
  | { chunkNo: number; stopped: true }
  | { chunkNo: number; unavailable: string }
  | { chunkNo: number; turnMissed: true };

/** Save partial progress at most this often. */
const CHECKPOINT_MS = 2_000;

/** How often a chunk waiting for its turn looks for the chunk before's mark. */
const TURN_POLL_MS = 250;

/**
 * Waits until the chunk before this one has passed its turn (or ended): chunks take turns
 * (shared/run/turns.ts). A chunk before that found Graph unavailable or the app without a
 * permission ends this one the same way before it sends; a cancelled run ends the wait. After
 * `waitMs` without a mark (the chunk before is slow, or crashed and is being retried) this one
 * ends without sending: sending anyway would make two chunks, two limiters, send at once; the
 * wave runs it again once the chunk before has ended.
 *
 * @returns nothing to say, or why this one must not write: how the chunk before ended, or that
 *   its turn did not come.
 */
async function waitForTurn(
  input: ProvisionChunkInput,
  shouldStop: () => Promise<boolean>,
): Promise<{ fatal: string } | { unavailable: string } | { turnMissed: true } | undefined> {
  const after = input.turn?.after;
  if (after === undefined) {
    return undefined;
  }
  const { store } = services();
  const until = Date.now() + (input.turn?.waitMs ?? 0);
  for (;;) {
    const mark = await store.getJson<TurnMark>(runKeys.sendingDone(input.runId, after));
    if (mark?.state === "ended" && mark.end === "fatal") {
      return { fatal: mark.message };
    }
    if (mark?.state === "ended" && mark.end === "unavailable") {
      return { unavailable: mark.message };
    }
    if (mark !== undefined || (await shouldStop())) {
      return undefined;
    }
    if (Date.now() >= until) {
      return { turnMissed: true };
    }
    await new Promise((resolve) => setTimeout(resolve, TURN_POLL_MS));
  }
}

/**
 * Marks this chunk's turn as passed; a lost mark only makes the next chunk wait its bound, end
 * without sending, and run again after this one.
 */
async function markTurn(input: ProvisionChunkInput, mark: TurnMark): Promise<void> {
  if (input.turn) {
    await services()
      .store.putJson(runKeys.sendingDone(input.runId, input.turn.token), mark)
      .catch(() => undefined);
  }
}

/**
 * The mark of a chunk that ended with `result` (undefined: it threw); none when its turn did not
 * come: the chunk after it waits for its run again.
 */
function endMark(result: ProvisionChunkResult | undefined): TurnMark | undefined {
  if (result === undefined) {
    return { state: "ended", end: "failed" };
  }
  if ("fatal" in result) {
    return { state: "ended", end: "fatal", message: result.fatal };
  }
  if ("unavailable" in result) {
    return { state: "ended", end: "unavailable", message: result.unavailable };
  }
  if ("turnMissed" in result) {
    return undefined;
  }
  return { state: "ended", end: "stopped" in result ? "stopped" : "done" };
}

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
      done.set(writeKey(o.userId, o.method), o);
    }
  }
  return { done, complete: previous?.complete === true && done.size === previous.outcomes.length };
}

/**
 * The outcomes of one chunk as they come in: recorded by user, logged as the runbook's Status
 * lines, saved as a partial file every few seconds (a crash loses at most that much), and saved
 * complete at the end.
 */
class ChunkRecorder {
  private lastSave = Date.now();
  private saving: Promise<void> | undefined;
  /**
   * This attempt: when it started writing (after its turn came), and the users it gave an outcome
   * and wrote (the report's timeline spreads them over that span).
   */
  private startedAt = new Date().toISOString();
  private readonly attempt = { users: 0, wrote: 0 };
  /** 429 answers this attempt met. */
  throttled = 0;

  constructor(
    private readonly input: ProvisionChunkInput,
    private readonly items: Map<string, ChunkItem>,
    readonly done: Map<string, Outcome>,
    private readonly context: InvocationContext,
  ) {}

  /** Marks the start of writing: the wait for the chunk's turn is not part of its span. */
  began(): void {
    this.startedAt = new Date().toISOString();
  }

  /** Records one outcome (the writer calls it as soon as a write's outcome is final). */
  readonly record = (o: Outcome): void => {
    const key = writeKey(o.userId, o.method);
    const item = this.items.get(key);
    const upn = item?.userPrincipalName ?? o.userId;
    this.done.set(key, o);
    this.attempt.users++;
    if (wrote(o)) {
      this.attempt.wrote++;
      this.context.info(
        provisionedLine(
          upn,
          item?.phoneNumber ?? item?.emailAddress ?? "",
          this.input.logPhoneNumbers,
          methodOf(o),
        ),
      );
    } else if (o.result === "failed") {
      this.context.warn(provisioningFailedLine(upn, o.code, o.message ?? `HTTP ${o.status}`));
    }
    if (!this.saving && Date.now() - this.lastSave > CHECKPOINT_MS) {
      this.lastSave = Date.now();
      this.saving = this.save(false).finally(() => {
        this.saving = undefined;
      });
    }
  };

  /**
   * Saves what is recorded: as the partial file, or as the complete outcome file.
   *
   * @param complete - every user of the chunk has an outcome.
   */
  async save(complete: boolean): Promise<void> {
    await this.saving;
    const { runId, chunkNo } = this.input;
    const { store, limiter } = services();
    const file: ChunkOutcomeFile = { chunkNo, complete, outcomes: [...this.done.values()] };
    if (complete) {
      file.timing = {
        startedAt: this.startedAt,
        endedAt: new Date().toISOString(),
        ...this.attempt,
        throttled: this.throttled,
        window: limiter.limit,
      };
    }
    await store.putJson(
      complete ? runKeys.outcome(runId, chunkNo) : runKeys.partialOutcome(runId, chunkNo),
      file,
    );
    if (complete) {
      await store.delete(runKeys.partialOutcome(runId, chunkNo));
    }
  }
}

/** Marks the users a re-check before writing (an approval wait, a rerun) left out. */
async function leaveOutChanged(
  input: ProvisionChunkInput,
  done: Map<string, Outcome>,
): Promise<void> {
  const changed = await services().store.getJson<ChangedUser[]>(
    recheckKeys.chunk(input.runId, input.chunkNo),
  );
  for (const c of changed ?? []) {
    const key = writeKey(c.userId, c.method);
    if (!done.has(key) || done.get(key)?.result === "failed") {
      done.set(key, {
        userId: c.userId,
        result: "changedSincePlan",
        why: c.why,
        ...(c.method && c.method !== "mobile" ? { method: c.method } : {}),
      });
    }
  }
}

/** A chunk item as the writer takes it. */
function toWrite(i: ChunkItem): PhoneWrite {
  const { userId, action } = i;
  return i.method === "email"
    ? { userId, action, kind: "email", emailAddress: i.emailAddress }
    : { userId, action, kind: i.method ?? "mobile", phoneNumber: i.phoneNumber };
}

/** The writer's options for the run's {@link ProvisionChunkInput.graphWaits}. */
function writerWaits(input: ProvisionChunkInput): Partial<PhoneWriterOptions> {
  const { readAfterWriteMs, retryBaseMs, graphDownMs } = input.graphWaits ?? {};
  return {
    readAfterWriteMs,
    backoff:
      retryBaseMs === undefined ? undefined : { baseDelayMs: retryBaseMs, maxDelayMs: 60_000 },
    unavailableAfter: graphDownMs === undefined ? undefined : { batches: 5, ms: graphDownMs },
  };
}

/**
 * Writes the chunk's open writes, one method after the other (the writer takes one write per
 * user in a call), while marking the chunk as writing (a cancelled run reads "cancelling" until
 * no chunk of it writes). The limiter starts from what the run's previous chunk learned, and
 * hands on what it learned when the chunk ends, however it ends.
 *
 * @returns throttled answers, or the fatal reason that must stop the run, or that Graph was
 *   unavailable (the users whose write may have been applied are stored, to be read first).
 */
async function writeOpenUsers(
  input: ProvisionChunkInput,
  todo: ChunkItem[],
  recorder: ChunkRecorder,
  shouldStop: () => Promise<boolean>,
): Promise<
  { throttled: number } | { fatal: string } | { unavailable: string } | { turnMissed: true }
> {
  const { graph, store, limiter } = services();
  // Nothing to write (an attempt after a crash found every outcome): no turn to wait for.
  const before = todo.length > 0 ? await waitForTurn(input, shouldStop) : undefined;
  if (before) {
    return before;
  }
  recorder.began();
  const running = runKeys.runningChunk(input.runId, input.chunkNo);
  const uncertainKey = runKeys.uncertain(input.runId, input.chunkNo);
  const uncertain = new Set((await store.getJson<string[]>(uncertainKey)) ?? []);
  await store.putJson(running, { startedAt: new Date().toISOString() });
  await resumeLimiter(store, input.runId, limiter);
  const methods = METHODS.filter((m) => todo.some((i) => methodOf(i) === m));
  // Once the last method's writes have all left, the next chunk may send: it starts from what
  // the limiter knows then.
  let passing: Promise<void> | undefined;
  const passTurn = (): void => {
    passing = handOverLimiter(store, input.runId, limiter)
      .catch(() => undefined)
      .then(() => markTurn(input, { state: "sent" }));
  };
  // The method being written: the writer names uncertain users, the store keeps their writes.
  let writing: Method = "mobile";
  try {
    for (const method of methods) {
      writing = method;
      const writes = todo
        .filter((i) => methodOf(i) === method)
        .map((i) => ({ ...toWrite(i), reconcileFirst: uncertain.has(writeKey(i.userId, method)) }));
      if (await shouldStop()) {
        continue;
      }
      await writePhoneMethods(graph, writes, {
        limiter,
        onThrottled: (n) => (recorder.throttled += n),
        onOutcome: (o) => recorder.record(withMethod(o, method)),
        shouldStop,
        ...(method === methods.at(-1) ? { onAllSent: passTurn } : {}),
        ...writerWaits(input),
      });
    }
    return { throttled: recorder.throttled };
  } catch (error) {
    await recorder.save(false);
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return { fatal: error.message };
    }
    if (error instanceof GraphUnavailableError) {
      // Still uncertain: writes read back since are recorded, the rest stay to be read first.
      const still = [...uncertain].filter((u) => !recorder.done.has(u));
      const now = error.uncertain.map((u) => writeKey(u, writing));
      await store.putJson(uncertainKey, [...new Set([...still, ...now])]);
      return { unavailable: error.message };
    }
    throw error;
  } finally {
    // The "sent" mark first, so that the chunk's end mark always comes after it.
    await passing;
    await store.delete(running);
    // Once the turn passed, the next chunk's limiter speaks for the quota (this one's later
    // answers meet that chunk's writes too). Not worth failing a chunk over: without a handover
    // the next chunk starts in slow start.
    if (!(input.turn && passing)) {
      await handOverLimiter(store, input.runId, limiter).catch(() => undefined);
    }
  }
}

/**
 * Provisions one chunk and, when it takes turns with the wave's next chunk, marks its turn as
 * passed however it ends.
 *
 * @param input - run, chunk, rerun flag and turn.
 * @param context - invocation context: gets the seed-style Status lines.
 */
export async function provisionChunk(
  input: ProvisionChunkInput,
  context: InvocationContext,
): Promise<ProvisionChunkResult> {
  let result: ProvisionChunkResult | undefined;
  try {
    result = await provisionOneChunk(input, context);
    return result;
  } finally {
    const mark = endMark(result);
    if (mark) {
      await markTurn(input, mark);
    }
  }
}

/** Provisions one chunk: see {@link provisionChunk}. */
async function provisionOneChunk(
  input: ProvisionChunkInput,
  context: InvocationContext,
): Promise<ProvisionChunkResult> {
  const { store } = services();
  const { chunkNo } = input;
  const items = await store.getJson<ChunkItem[]>(runKeys.chunk(input.runId, chunkNo));
  if (!items) {
    throw new Error(
      `provisionChunk: chunk ${chunkNo} of run '${input.runId}' is missing from the run store.`,
    );
  }
  const { done, complete } = await recordedOutcomes(input);
  if (complete) {
    return { chunkNo, counts: countOutcomes(done.values()), throttled: 0 };
  }
  // Stop means stop: a cancel writes the flag before it terminates the run, and every batch
  // checks it, so no batch starts after the cancel is recorded.
  const stopKey = runKeys.stopFlag(input.runId);
  const shouldStop = (): Promise<boolean> => store.exists(stopKey);
  if (await shouldStop()) {
    return { chunkNo, stopped: true };
  }
  await leaveOutChanged(input, done);
  const recorder = new ChunkRecorder(
    input,
    new Map(items.map((i) => [writeKey(i.userId, methodOf(i)), i])),
    done,
    context,
  );
  const todo = items.filter((i) => !done.has(writeKey(i.userId, methodOf(i))));
  const written = await writeOpenUsers(input, todo, recorder, shouldStop);
  if ("fatal" in written) {
    return { chunkNo, fatal: written.fatal };
  }
  if ("unavailable" in written) {
    return { chunkNo, unavailable: written.unavailable };
  }
  if ("turnMissed" in written) {
    return { chunkNo, turnMissed: true };
  }
  if (done.size < items.length && (await shouldStop())) {
    await recorder.save(false);
    return { chunkNo, stopped: true };
  }
  await recorder.save(true);
  await store.delete(runKeys.uncertain(input.runId, chunkNo));
  const counts = countOutcomes(done.values());
  const { created, replaced, alreadyPresent, existingDiffers, failed, failedTransient } = counts;
  logEvent(context, "chunkProvisioned", {
    runId: input.runId,
    chunkNo,
    throttled: written.throttled,
    ...{ created, replaced, alreadyPresent, existingDiffers, failed, failedTransient },
    smsSignInNotUnique: counts.smsSignInNotUnique,
    changedSincePlan: counts.changedSincePlan,
  });
  return { chunkNo, counts, throttled: written.throttled };
}

/** An outcome of the writer, naming its method (the mobile phone's names none). */
function withMethod(o: Outcome, method: Method): Outcome {
  return method === "mobile" ? o : { ...o, method };
}

/** The activity. */
export const provisionChunkActivity = defineActivity({
  name: "provisionChunk",
  input: provisionChunkInput,
  handler: provisionChunk,
});
