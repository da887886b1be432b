/**
 * provisionWave: a sub-orchestration that provisions a bounded set of chunks, a few
 * provisionChunk activities at a time. Waves keep every history small: the parent holds one
 * event pair per wave, a wave a few per chunk, so replay cost stays linear at a million users.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { provisionChunkActivity, type ProvisionChunkResult } from "../activities/provisionChunk.js";
import {
  defineOrchestration,
  resultOf,
  retryOptions,
  settleAll,
  type TypedTask,
} from "../shared/durable/index.js";
import {
  emptyCounts,
  mergeCounts,
  runIdSchema,
  graphWaitsSchema,
  type RunCounts,
  type RunTuning,
} from "../shared/run/index.js";

/** Input of one wave. */
export const provisionWaveInput = z.strictObject({
  runId: runIdSchema,
  chunkNos: z.array(z.number().int().min(0)).min(1),
  chunksInFlight: z.number().int().min(1),
  retryFailed: z.boolean(),
  logPhoneNumbers: z.enum(["masked", "full"]),
  /** First retry interval of a failed chunk activity. */
  retryIntervalMs: z.number().int().min(1),
  /** How the phone writer waits on Graph (the run's tuning). */
  graphWaits: graphWaitsSchema.optional(),
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
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split("\n")[0] ?? text).slice(0, 300);
}

/**
 * The wave: its chunks, `chunksInFlight` at a time. A chunk activity is idempotent, so a retry
 * finishes what a crash or an outage left.
 */
function* runWave(
  context: OrchestrationContext,
  input: ProvisionWaveInput,
): Generator<Task, ProvisionWaveOutput, unknown> {
  const chunkRetry = retryOptions(input.retryIntervalMs, 4);
  const results: WaveChunkResult[] = [];
  for (let i = 0; i < input.chunkNos.length; i += input.chunksInFlight) {
    const group = input.chunkNos.slice(i, i + input.chunksInFlight);
    const tasks = group.map((chunkNo) =>
      provisionChunkActivity.schedule(
        context,
        {
          runId: input.runId,
          chunkNo,
          retryFailed: input.retryFailed,
          logPhoneNumbers: input.logPhoneNumbers,
          graphWaits: input.graphWaits,
        },
        chunkRetry,
      ),
    );
    const settled = yield* settleAll(context, tasks);
    let fatal: string | undefined;
    settled.forEach((task, k) => {
      const chunkNo = group[k] as number;
      if (task.isFaulted) {
        results.push({ chunkNo, ok: false, error: firstLine(task.result) });
        return;
      }
      const r: ProvisionChunkResult = resultOf(task);
      if ("fatal" in r) {
        fatal ??= r.fatal;
        return;
      }
      if ("stopped" in r) {
        results.push({ chunkNo, ok: false, error: "The run was cancelled." });
        return;
      }
      results.push({ chunkNo, ok: true, counts: r.counts, throttled: r.throttled });
    });
    if (fatal) {
      return { results, fatal };
    }
  }
  return { results };
}

/** The wave orchestration. */
export const provisionWaveOrchestration = defineOrchestration({
  name: "provisionWave",
  input: provisionWaveInput,
  run: runWave,
});

/** Progress of all waves so far, for the parent's custom status. */
export interface WavesProgress {
  chunksDone: number;
  chunksFailed: number;
  counts: RunCounts;
  throttled: number;
}

/** Result of {@link provisionWaves}. */
export interface WavesResult {
  failedChunks: number[];
  fatal?: string;
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

/** Folds one finished wave into the progress; returns its fatal message, if any. */
function addWave(
  progress: WavesProgress,
  failedChunks: number[],
  chunkNos: number[],
  task: TypedTask<ProvisionWaveOutput>,
): string | undefined {
  if (task.isFaulted) {
    failedChunks.push(...chunkNos);
    progress.chunksFailed += chunkNos.length;
    return undefined;
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
  return out.fatal;
}

/**
 * Runs chunks as waves of sub-orchestrations, a few waves at a time. Used by nightlyRun and
 * rerunFailed; call with `yield*` from an orchestrator.
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
  const waves: number[][] = [];
  for (let i = 0; i < options.chunkNos.length; i += tuning.chunksPerWave) {
    waves.push(options.chunkNos.slice(i, i + tuning.chunksPerWave));
  }
  // A wave fails only if its orchestration itself fails, which a retry may mend.
  const waveRetry = retryOptions(2 * tuning.retryIntervalMs, 3);
  for (let w = 0; w < waves.length; w += tuning.wavesInFlight) {
    const group = waves.slice(w, w + tuning.wavesInFlight);
    const tasks = group.map((chunkNos, k) =>
      provisionWaveOrchestration.schedule(
        context,
        {
          runId: options.runId,
          chunkNos,
          chunksInFlight: tuning.chunksInFlight,
          retryFailed: options.retryFailed,
          logPhoneNumbers: options.logPhoneNumbers,
          retryIntervalMs: tuning.retryIntervalMs,
          graphWaits: tuning.graphWaits,
        },
        { instanceId: `${context.df.instanceId}:wave:${w + k}`, retry: waveRetry },
      ),
    );
    const settled = yield* settleAll(context, tasks);
    let fatal: string | undefined;
    settled.forEach((task, k) => {
      fatal ??= addWave(progress, failedChunks, group[k] as number[], task);
    });
    options.onProgress(progress);
    if (fatal) {
      return { failedChunks, fatal, progress };
    }
  }
  failedChunks.sort((a, b) => a - b);
  return { failedChunks, progress };
}
