/**
 * provisionWave: a sub-orchestration that provisions a bounded set of chunks, a few
 * provisionChunk activities at a time. Waves keep every history small: the parent holds one
 * event pair per wave, a wave a few per chunk, so replay cost stays linear at a million users.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import {
  countOutcomes,
  provisionChunkName,
  type ChunkCounts,
  type ProvisionChunkInput,
  type ProvisionChunkResult,
} from "../activities/provisionChunk.js";
import type { RunTuning } from "../shared/runTypes.js";

/** Registered name. */
export const provisionWaveName = "provisionWave";

/** Input of one wave. */
export interface ProvisionWaveInput {
  runId: string;
  chunkNos: number[];
  chunksInFlight: number;
  retryFailed: boolean;
  logPhoneNumbers: "masked" | "full";
  /** First retry interval of a failed chunk activity (default 5 s). */
  retryIntervalMs?: number;
}

/** One chunk's result inside a wave. */
export type WaveChunkResult =
  | { chunkNo: number; ok: true; counts: ChunkCounts; throttled: number }
  | { chunkNo: number; ok: false; error: string };

/** Output of one wave. */
export interface ProvisionWaveOutput {
  results: WaveChunkResult[];
  /** Set when a chunk met a problem that fails every user alike (permission); the run stops. */
  fatal?: string;
}

/**
 * Retry options with exponential backoff, at most 60 s between attempts.
 *
 * @param firstIntervalMs - wait before the first retry.
 * @param attempts - attempts in all, the first included.
 */
export function retryOptions(firstIntervalMs: number, attempts: number): df.RetryOptions {
  const options = new df.RetryOptions(Math.max(1, firstIntervalMs), attempts);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = 60_000;
  return options;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? text).slice(0, 300);
}

/**
 * Waits for every task of a group and returns them. A compound task re-sends the actions of
 * its children, so a task already yielded inside one must never go into another (the extension
 * would schedule it twice): each group is yielded once, and after a failure the still-running
 * tasks are awaited one by one, which re-sends nothing.
 */
function* settleAll(
  context: OrchestrationContext,
  tasks: Task[],
): Generator<Task, Task[], unknown> {
  try {
    yield context.df.Task.all(tasks);
  } catch {
    for (const task of tasks) {
      if (!task.isCompleted) {
        try {
          yield task;
        } catch {
          // Its failure is read from the task below.
        }
      }
    }
  }
  return tasks;
}

/**
 * The wave orchestration.
 *
 * @param context - the orchestration context.
 */
export const provisionWave: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, ProvisionWaveOutput, unknown> {
  const input = context.df.getInput() as ProvisionWaveInput | undefined;
  if (!input || !Array.isArray(input.chunkNos) || typeof input.runId !== "string") {
    throw new Error("provisionWave: the input needs a runId and chunkNos.");
  }
  const width = Math.max(1, input.chunksInFlight);
  // A chunk activity is idempotent, so a retry finishes what a crash or an outage left.
  const chunkRetry = retryOptions(input.retryIntervalMs ?? 5_000, 4);
  const results: WaveChunkResult[] = [];
  for (let i = 0; i < input.chunkNos.length; i += width) {
    const group = input.chunkNos.slice(i, i + width);
    const tasks = group.map((chunkNo) => {
      const chunkInput: ProvisionChunkInput = {
        runId: input.runId,
        chunkNo,
        retryFailed: input.retryFailed,
        logPhoneNumbers: input.logPhoneNumbers,
      };
      return context.df.callActivityWithRetry(provisionChunkName, chunkRetry, chunkInput);
    });
    const settled = yield* settleAll(context, tasks);
    let fatal: string | undefined;
    settled.forEach((task, k) => {
      const chunkNo = group[k] as number;
      if (task.isFaulted) {
        results.push({ chunkNo, ok: false, error: firstLine(task.result) });
        return;
      }
      const r = task.result as ProvisionChunkResult;
      if ("fatal" in r) {
        fatal ??= r.fatal;
        return;
      }
      results.push({ chunkNo, ok: true, counts: r.counts, throttled: r.throttled });
    });
    if (fatal) {
      return { results, fatal };
    }
  }
  return { results };
};

/** Progress of all waves so far, for the parent's custom status. */
export interface WavesProgress {
  chunksDone: number;
  chunksFailed: number;
  counts: ChunkCounts;
  throttled: number;
}

/** Called after each wave. */
export type WaveProgress = (progress: WavesProgress) => void;

/** Result of {@link provisionWaves}. */
export interface WavesResult {
  failedChunks: number[];
  fatal?: string;
  progress: WavesProgress;
}

/**
 * Runs chunks as waves of sub-orchestrations, a few waves at a time. Used by nightlyRun and
 * rerunFailed; call with `yield*` from an orchestrator.
 *
 * @param context - the calling orchestration's context.
 * @param args - run, chunks, tuning and a progress callback.
 */
export function* provisionWaves(
  context: OrchestrationContext,
  args: {
    runId: string;
    chunkNos: number[];
    tuning: RunTuning;
    retryFailed: boolean;
    logPhoneNumbers: "masked" | "full";
    onProgress: WaveProgress;
  },
): Generator<Task, WavesResult, unknown> {
  const progress: WavesProgress = {
    chunksDone: 0,
    chunksFailed: 0,
    counts: countOutcomes([]),
    throttled: 0,
  };
  const failedChunks: number[] = [];
  const waves: number[][] = [];
  for (let i = 0; i < args.chunkNos.length; i += args.tuning.chunksPerWave) {
    waves.push(args.chunkNos.slice(i, i + args.tuning.chunksPerWave));
  }
  const width = Math.max(1, args.tuning.wavesInFlight);
  // A wave fails only if its orchestration itself fails, which a retry may mend.
  const waveRetry = retryOptions(2 * args.tuning.retryIntervalMs, 3);
  for (let w = 0; w < waves.length; w += width) {
    const group = waves.slice(w, w + width);
    const tasks = group.map((chunkNos, k) => {
      const waveInput: ProvisionWaveInput = {
        runId: args.runId,
        chunkNos,
        chunksInFlight: args.tuning.chunksInFlight,
        retryFailed: args.retryFailed,
        logPhoneNumbers: args.logPhoneNumbers,
        retryIntervalMs: args.tuning.retryIntervalMs,
      };
      const instanceId = `${context.df.instanceId}:wave:${w + k}`;
      return context.df.callSubOrchestratorWithRetry(
        provisionWaveName,
        waveRetry,
        waveInput,
        instanceId,
      );
    });
    const settled = yield* settleAll(context, tasks);
    let fatal: string | undefined;
    settled.forEach((task, k) => {
      const chunkNos = group[k] as number[];
      if (task.isFaulted) {
        failedChunks.push(...chunkNos);
        progress.chunksFailed += chunkNos.length;
        return;
      }
      const out = task.result as ProvisionWaveOutput;
      for (const r of out.results) {
        if (r.ok) {
          progress.chunksDone++;
          progress.throttled += r.throttled;
          for (const key of Object.keys(progress.counts) as (keyof ChunkCounts)[]) {
            progress.counts[key] += r.counts[key];
          }
        } else {
          progress.chunksFailed++;
          failedChunks.push(r.chunkNo);
        }
      }
      fatal ??= out.fatal;
    });
    args.onProgress(progress);
    if (fatal) {
      return { failedChunks, fatal, progress };
    }
  }
  failedChunks.sort((a, b) => a - b);
  return { failedChunks, progress };
}

df.app.orchestration(provisionWaveName, provisionWave);
