/**
 * provisionWave: a sub-orchestration that provisions a bounded set of chunks, one provisionChunk
 * activity sending after the other (taking turns: the next is scheduled while the one before
 * waits for its last answers). Waves keep every history small: the parent holds one event pair per
 * wave, a wave a few per chunk, so replay cost stays linear at a million users.
 */
import type { OrchestrationContext, RetryOptions, Task } from "durable-functions";
import { z } from "zod";
import { probeGraphActivity } from "../activities/probeGraph.js";
import {
  provisionChunkActivity,
  type ProvisionChunkInput,
  type ProvisionChunkResult,
} from "../activities/provisionChunk.js";
import {
  defineOrchestration,
  resultOf,
  retryOptions,
  settleAll,
  settleOne,
  type TypedTask,
} from "../shared/durable/index.js";
import {
  DEFAULT_RUN_TUNING,
  emptyCounts,
  mergeCounts,
  runIdSchema,
  graphWaitsSchema,
  runTuningSchema,
  QUICK_CHUNK_MS,
  TURN_WAIT_MS,
  type RunCounts,
  type RunTuning,
  type WaveStatus,
} from "../shared/run/index.js";

/** Input of one wave. */
export const provisionWaveInput = z.strictObject({
  runId: runIdSchema,
  chunkNos: z.array(z.number().int().min(0)).min(1),
  /**
   * Chunk activities in flight: {@link WRITING_CHUNKS} for every wave provisionWaves starts; waves
   * started before that may hold more, and replay with it. Bounded like the run's tuning.
   */
  chunksInFlight: runTuningSchema.shape.chunksInFlight,
  retryFailed: z.boolean(),
  logPhoneNumbers: z.enum(["masked", "full"]),
  /** First retry interval of a failed chunk activity (bounded like the run's tuning). */
  retryIntervalMs: runTuningSchema.shape.retryIntervalMs,
  /** How the phone writer waits on Graph (the run's tuning). */
  graphWaits: graphWaitsSchema.optional(),
  /**
   * Chunks take turns ({@link runWaveInTurns}): each next chunk is scheduled while the one before
   * still writes, and sends once that one has sent all. Set by every wave provisionWaves starts;
   * waves started before that run `chunksInFlight` at a time, and replay so.
   */
  takeTurns: z.boolean().optional(),
  /**
   * With `takeTurns`: the second chunk is scheduled at once, to take its turn after the first
   * (the run's first wave, or the wave before had quick chunks); otherwise the first must prove
   * quick.
   */
  quickStart: z.boolean().optional(),
});

/** Input of one wave. */
export type ProvisionWaveInput = z.infer<typeof provisionWaveInput>;

/** One chunk's result inside a wave. */
export type WaveChunkResult =
  | { chunkNo: number; ok: true; counts: RunCounts; throttled: number }
  | { chunkNo: number; ok: false; error: string };

/** Output of one wave. */
export interface ProvisionWaveOutput {
  results: WaveChunkResult[];
  /** Set when a chunk met a problem that fails every user alike (permission); the run stops. */
  fatal?: string;
  /** Set when a chunk found Graph unavailable; the wave started no further chunk. */
  unavailable?: string;
  /** With `unavailable`: the wave's chunks not finished (that one and those not started). */
  unfinished?: number[];
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? text).slice(0, 300);
}

/** What one settled chunk task says: its result in the wave, or what must end the wave. */
type ChunkEnd = { result: WaveChunkResult } | { fatal: string } | { unavailable: string };

/** Reads one settled chunk activity. */
function chunkEnd(chunkNo: number, task: Task): ChunkEnd {
  if (task.isFaulted) {
    return { result: { chunkNo, ok: false, error: firstLine(task.result) } };
  }
  const r: ProvisionChunkResult = resultOf(task as TypedTask<ProvisionChunkResult>);
  if ("fatal" in r) {
    return { fatal: r.fatal };
  }
  if ("unavailable" in r) {
    return { unavailable: r.unavailable };
  }
  if ("stopped" in r) {
    return { result: { chunkNo, ok: false, error: "The run was cancelled." } };
  }
  if ("turnMissed" in r) {
    // Only a chunk taking turns waits for one, and runWaveInTurns runs it again first.
    return { result: { chunkNo, ok: false, error: "The chunk's turn to write did not come." } };
  }
  return { result: { chunkNo, ok: true, counts: r.counts, throttled: r.throttled } };
}

/** The chunk activity's input in this wave. */
function chunkInput(
  input: ProvisionWaveInput,
  chunkNo: number,
  turn?: ProvisionChunkInput["turn"],
): ProvisionChunkInput {
  return {
    runId: input.runId,
    chunkNo,
    retryFailed: input.retryFailed,
    logPhoneNumbers: input.logPhoneNumbers,
    graphWaits: input.graphWaits,
    ...(turn ? { turn } : {}),
  };
}

/**
 * The wave: its chunks, `chunksInFlight` at a time, or taking turns. A chunk activity is
 * idempotent, so a retry finishes what a crash or an outage left.
 */
function* runWave(
  context: OrchestrationContext,
  input: ProvisionWaveInput,
): Generator<Task, ProvisionWaveOutput, unknown> {
  if (input.takeTurns) {
    return yield* runWaveInTurns(context, input);
  }
  const chunkRetry = retryOptions(input.retryIntervalMs, 4);
  const results: WaveChunkResult[] = [];
  for (let i = 0; i < input.chunkNos.length; i += input.chunksInFlight) {
    const group = input.chunkNos.slice(i, i + input.chunksInFlight);
    const tasks = group.map((chunkNo) =>
      provisionChunkActivity.schedule(context, chunkInput(input, chunkNo), chunkRetry),
    );
    const settled = yield* settleAll(context, tasks);
    let fatal: string | undefined;
    let unavailable: string | undefined;
    const unfinished: number[] = [];
    settled.forEach((task, k) => {
      const chunkNo = group[k] as number;
      const end = chunkEnd(chunkNo, task);
      if ("fatal" in end) {
        fatal ??= end.fatal;
      } else if ("unavailable" in end) {
        unavailable ??= end.unavailable;
        unfinished.push(chunkNo);
      } else {
        results.push(end.result);
      }
    });
    publishWave(context, results);
    if (fatal) {
      return { results, fatal };
    }
    if (unavailable) {
      unfinished.push(...input.chunkNos.slice(i + group.length));
      return { results, unavailable, unfinished };
    }
  }
  return { results };
}

/** One chunk activity in flight, and the token of its turn. */
interface InFlight {
  chunkNo: number;
  task: TypedTask<ProvisionChunkResult>;
  token: string;
  scheduledAt: number;
}

/**
 * Awaits a chunk that takes turns, and returns its settled task. A chunk whose turn did not come
 * (the one before took longer than its wait) wrote nothing: the one before has ended by now
 * (runWaveInTurns settles chunks in order), so it runs again at once, without a turn to wait for
 * but with its token, which the chunk after it, if scheduled, still waits for.
 */
function* chunkInTurn(
  context: OrchestrationContext,
  input: ProvisionWaveInput,
  chunk: InFlight,
  retry: RetryOptions,
): Generator<Task, TypedTask<ProvisionChunkResult>, unknown> {
  const task = yield* settleOne(chunk.task);
  if (task.isFaulted || !("turnMissed" in resultOf(task))) {
    return task;
  }
  return yield* settleOne(
    provisionChunkActivity.schedule(
      context,
      chunkInput(input, chunk.chunkNo, { token: chunk.token, waitMs: TURN_WAIT_MS }),
      retry,
    ),
  );
}

/**
 * The wave's chunks taking turns: while one writes, the next is already scheduled, and sends
 * once every write of the one before has left (the activity waits for its mark in the run store:
 * `waitForTurn` in activities/provisionChunk.ts). So one chunk of the run sends at a time, as the
 * one write budget asks, but neither the one's wait for its last answers and read-backs nor
 * Durable's starting the next leaves the budget unused. In a wave that does not start quick
 * (`quickStart`), and after a chunk that was slow ({@link QUICK_CHUNK_MS}), the next starts only
 * once the one in flight has ended: at a quota of a few writes a second it would only wait. A
 * chunk whose turn did not come within its wait ends without writing and runs again (see
 * {@link chunkInTurn}).
 *
 * The next chunk is scheduled by yielding it in a `Task.any` with a timer due now, and the one
 * in flight is then awaited alone: a task already yielded inside a compound must never go into
 * another one (the SDK would send its action again; see settleAll), so the two are never
 * yielded together.
 */
function* runWaveInTurns(
  context: OrchestrationContext,
  input: ProvisionWaveInput,
): Generator<Task, ProvisionWaveOutput, unknown> {
  const chunkRetry = retryOptions(input.retryIntervalMs, 4);
  const results: WaveChunkResult[] = [];
  const unfinished: number[] = [];
  let fatal: string | undefined;
  let unavailable: string | undefined;
  let quick = input.quickStart === true;
  let current: InFlight | undefined;
  const now = (): number => context.df.currentUtcDateTime.getTime();

  /** Awaits the chunk in flight (see {@link chunkInTurn}) and folds in what it says. */
  function* settle(chunk: InFlight): Generator<Task, void, unknown> {
    const task = yield* chunkInTurn(context, input, chunk, chunkRetry);
    quick = now() - chunk.scheduledAt < QUICK_CHUNK_MS;
    const end = chunkEnd(chunk.chunkNo, task);
    if ("fatal" in end) {
      fatal ??= end.fatal;
    } else if ("unavailable" in end) {
      unavailable ??= end.unavailable;
      unfinished.push(chunk.chunkNo);
    } else {
      results.push(end.result);
    }
    publishWave(context, results);
  }

  for (const [i, chunkNo] of input.chunkNos.entries()) {
    if (current && !quick) {
      yield* settle(current);
      current = undefined;
    }
    if (fatal || unavailable) {
      unfinished.push(...input.chunkNos.slice(i));
      break;
    }
    const token = context.df.newGuid(context.df.instanceId);
    const next: InFlight = {
      chunkNo,
      token,
      scheduledAt: now(),
      task: provisionChunkActivity.schedule(
        context,
        chunkInput(input, chunkNo, {
          token,
          ...(current ? { after: current.token } : {}),
          waitMs: TURN_WAIT_MS,
        }),
        chunkRetry,
      ),
    };
    yield context.df.Task.any([next.task, context.df.createTimer(context.df.currentUtcDateTime)]);
    if (current) {
      yield* settle(current);
    }
    current = next;
  }
  if (current) {
    yield* settle(current);
  }
  if (fatal) {
    return { results, fatal };
  }
  if (unavailable) {
    // In the wave's order: the chunk in turn after the one that found the outage ends after the
    // chunks not started were listed.
    const order = (c: number): number => input.chunkNos.indexOf(c);
    return { results, unavailable, unfinished: unfinished.sort((a, b) => order(a) - order(b)) };
  }
  return { results };
}

/** Publishes the wave's finished chunks as its custom status, for readers of the run's progress. */
function publishWave(context: OrchestrationContext, results: WaveChunkResult[]): void {
  const status: WaveStatus = {
    chunksDone: 0,
    chunksFailed: 0,
    counts: emptyCounts(),
    throttled: 0,
  };
  for (const r of results) {
    if (r.ok) {
      status.chunksDone++;
      status.throttled += r.throttled;
      mergeCounts(status.counts, r.counts);
    } else {
      status.chunksFailed++;
    }
  }
  context.df.setCustomStatus(status);
}

/** The wave orchestration. */
export const provisionWaveOrchestration = defineOrchestration({
  name: "provisionWave",
  input: provisionWaveInput,
  run: runWave,
});

/**
 * provisionChunk activities of one run that send at once: one. The write budget belongs to the
 * app in the tenant, not to a process, and Flex Consumption may run each activity on another
 * instance with a limiter of its own; so one chunk sends at a time, with the whole limiter's
 * concurrency inside it, and hands what its limiter learned to the next one through the run store
 * (`runKeys.limiter`). The one-run lock makes that one writer per app. Not a tuning: a run's
 * `chunksInFlight` and `wavesInFlight` no longer apply to writes. Waves run one at a time; inside
 * one, chunks take turns ({@link runWaveInTurns}), and waves started before turns ran this many
 * chunks at a time.
 */
export const WRITING_CHUNKS = 1;

/** Progress of all waves so far, for the parent's custom status. */
export interface WavesProgress {
  chunksDone: number;
  chunksFailed: number;
  counts: RunCounts;
  throttled: number;
  /** While provisioning waits for Graph to answer again: why, until when, which pause. */
  paused?: { why: string; until: string; pause: number; of: number };
  /** The wave instances in flight (their own statuses carry their finished chunks). */
  wavesRunning?: string[];
}

/** Result of {@link provisionWaves}. */
export interface WavesResult {
  failedChunks: number[];
  fatal?: string;
  /**
   * Set when Graph stayed unavailable through every pause: `Graph unavailable: ...`; the chunks
   * not finished are among `failedChunks`, for a rerun.
   */
  unavailable?: string;
  progress: WavesProgress;
}

/** Options of {@link provisionWaves}. */
export interface ProvisionWavesOptions {
  runId: string;
  chunkNos: number[];
  tuning: RunTuning;
  /** Write again the users whose earlier outcome was a transient failure (a rerun). */
  retryFailed: boolean;
  logPhoneNumbers: "masked" | "full";
  /** Called after each group of waves with the progress so far. */
  onProgress: (progress: WavesProgress) => void;
}

/** What a group of waves left: a fatal message, or Graph unavailable and the chunks unfinished. */
interface GroupEnd {
  fatal?: string;
  unavailable?: string;
  unfinished: number[];
}

/** Folds one finished wave into the progress and what the group left. */
function addWave(
  progress: WavesProgress,
  failedChunks: number[],
  chunkNos: number[],
  task: TypedTask<ProvisionWaveOutput>,
  end: GroupEnd,
): void {
  if (task.isFaulted) {
    failedChunks.push(...chunkNos);
    progress.chunksFailed += chunkNos.length;
    return;
  }
  const out = resultOf(task);
  for (const r of out.results) {
    if (r.ok) {
      progress.chunksDone++;
      progress.throttled += r.throttled;
      mergeCounts(progress.counts, r.counts);
    } else {
      progress.chunksFailed++;
      failedChunks.push(r.chunkNo);
    }
  }
  end.fatal ??= out.fatal;
  if (out.unavailable) {
    end.unavailable ??= out.unavailable;
    end.unfinished.push(...(out.unfinished ?? []));
  }
}

/** Cuts chunks into waves of `chunksPerWave`. */
function cutWaves(chunkNos: number[], chunksPerWave: number): number[][] {
  const waves: number[][] = [];
  for (let i = 0; i < chunkNos.length; i += chunksPerWave) {
    waves.push(chunkNos.slice(i, i + chunksPerWave));
  }
  return waves;
}

/**
 * The breaker: Graph is unavailable, so provisioning waits on a durable timer (no activity runs,
 * nothing is sent) and then probes with one read, as often as the tuning allows.
 *
 * @returns whether Graph answered again, and the pauses used so far.
 */
function* waitForGraph(
  context: OrchestrationContext,
  options: ProvisionWavesOptions,
  progress: WavesProgress,
  state: { pauses: number; why: string },
): Generator<Task, boolean, unknown> {
  const pauseMs = options.tuning.outagePauseMs ?? DEFAULT_RUN_TUNING.outagePauseMs;
  const most = options.tuning.outagePauses ?? DEFAULT_RUN_TUNING.outagePauses;
  const probeRetry = retryOptions(options.tuning.retryIntervalMs, 2);
  while (state.pauses < most) {
    state.pauses++;
    const until = new Date(context.df.currentUtcDateTime.getTime() + pauseMs);
    progress.paused = { why: state.why, until: until.toISOString(), pause: state.pauses, of: most };
    options.onProgress(progress);
    yield context.df.createTimer(until);
    const probe = yield* probeGraphActivity.call(context, { runId: options.runId }, probeRetry);
    if (probe.up) {
      progress.paused = undefined;
      return true;
    }
    state.why = probe.why;
  }
  progress.paused = undefined;
  return false;
}

/**
 * Runs chunks as waves of sub-orchestrations, one wave after the other and one chunk at a time
 * inside it ({@link WRITING_CHUNKS}). Used by nightlyRun and
 * rerunFailed; call with `yield*` from an orchestrator. When a chunk finds Graph unavailable,
 * the waves still running finish, then provisioning pauses ({@link waitForGraph}) and resumes with
 * the chunks not finished; after `outagePauses` pauses without an answer it gives up.
 *
 * @param context - the calling orchestration's context.
 * @param options - run, chunks, tuning and a progress callback.
 */
export function* provisionWaves(
  context: OrchestrationContext,
  options: ProvisionWavesOptions,
): Generator<Task, WavesResult, unknown> {
  const { tuning } = options;
  const progress: WavesProgress = {
    chunksDone: 0,
    chunksFailed: 0,
    counts: emptyCounts(),
    throttled: 0,
  };
  const failedChunks: number[] = [];
  let waves = cutWaves(options.chunkNos, tuning.chunksPerWave);
  // A wave fails only if its orchestration itself fails, which a retry may mend.
  const waveRetry = retryOptions(2 * tuning.retryIntervalMs, 3);
  const outage = { pauses: 0, why: "" };
  // Whether the next wave's chunks take turns from its start: the last wave's were quick. The
  // first wave's do: a first chunk that proves slow costs only the second's wait, which then ends
  // unwritten and runs again after it (runWaveInTurns), while running it alone would idle the
  // budget for its tail and Durable's gap before the second in every run.
  let quickStart = true;
  // Each resume after a pause runs new wave instances (a sub-orchestration id is used once).
  for (let round = 0; ; round++) {
    let left: number[] = [];
    // A running wave has a chunk writing, so waves run one at a time too.
    for (let w = 0; w < waves.length; w += WRITING_CHUNKS) {
      const group = waves.slice(w, w + WRITING_CHUNKS);
      progress.wavesRunning = group.map((_, k) => waveInstanceId(context, round, w + k));
      options.onProgress(progress);
      const startedAt = context.df.currentUtcDateTime.getTime();
      const tasks = group.map((chunkNos, k) =>
        provisionWaveOrchestration.schedule(
          context,
          {
            runId: options.runId,
            chunkNos,
            chunksInFlight: WRITING_CHUNKS,
            retryFailed: options.retryFailed,
            logPhoneNumbers: options.logPhoneNumbers,
            retryIntervalMs: tuning.retryIntervalMs,
            graphWaits: tuning.graphWaits,
            takeTurns: true,
            quickStart,
          },
          { instanceId: waveInstanceId(context, round, w + k), retry: waveRetry },
        ),
      );
      const settled = yield* settleAll(context, tasks);
      const perChunk =
        (context.df.currentUtcDateTime.getTime() - startedAt) / Math.max(1, group.flat().length);
      quickStart = perChunk < QUICK_CHUNK_MS;
      const end: GroupEnd = { unfinished: [] };
      settled.forEach((task, k) =>
        addWave(progress, failedChunks, group[k] as number[], task, end),
      );
      progress.wavesRunning = undefined;
      options.onProgress(progress);
      if (end.fatal) {
        return { failedChunks, fatal: end.fatal, progress };
      }
      if (end.unavailable) {
        outage.why = end.unavailable;
        left = [...end.unfinished, ...waves.slice(w + group.length).flat()];
        break;
      }
    }
    if (left.length === 0) {
      break;
    }
    if (!(yield* waitForGraph(context, options, progress, outage))) {
      failedChunks.push(...left);
      failedChunks.sort((a, b) => a - b);
      const unavailable = `Graph unavailable: no answer through ${outage.pauses} pauses; ${left.length} chunks unfinished, a rerun finishes them (last: ${outage.why})`;
      return { failedChunks, unavailable, progress };
    }
    waves = cutWaves(left, tuning.chunksPerWave);
  }
  failedChunks.sort((a, b) => a - b);
  return { failedChunks, progress };
}

/** The first round keeps the ids runs always had; resumes get their own. */
function waveInstanceId(context: OrchestrationContext, round: number, wave: number): string {
  const id = `${context.df.instanceId}:wave:${wave}`;
  return round === 0 ? id : `${id}:r${round}`;
}
