/**
 * Step 4 of a run: provision the planned chunks in waves, publishing progress, the write rate and
 * the estimated end after each group of waves. A dry run skips it.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import {
  provisioningPace,
  usersDone,
  type RunSettings,
  type RunTuning,
} from "../../shared/run/index.js";
import { provisionWaves, type WavesProgress } from "../provisionWave.js";
import type { PlanTotals } from "./plan.js";
import type { RunProgress } from "./progress.js";

/**
 * Copies the waves' progress into the status, with the rate and ETA measured since provisioning
 * started (orchestration time, so replays compute the same) and that start, for readers.
 */
function showProgress(
  progress: RunProgress,
  p: WavesProgress,
  planned: number,
  startedMs: number,
): void {
  const status = progress.status;
  status.chunks.done = p.chunksDone;
  status.chunks.failed = p.chunksFailed;
  const { counts } = status;
  counts.created = p.counts.created;
  counts.replaced = p.counts.replaced;
  counts.alreadyPresent = p.counts.alreadyPresent;
  counts.failed = p.counts.failed;
  counts.failedTransient = p.counts.failedTransient;
  counts.existingDiffers = p.counts.existingDiffers;
  counts.smsSignInNotUnique = p.counts.smsSignInNotUnique;
  status.throttled = p.throttled;
  status.wavesRunning = p.wavesRunning;
  // While paused for Graph, the status says so and when it tries again.
  status.message = p.paused
    ? `Paused until ${p.paused.until} (pause ${p.paused.pause} of ${p.paused.of}): ${p.paused.why}`
    : undefined;
  // Readers measure the pace again with the chunks of the waves in flight (withWavesInFlight).
  status.provisioningStartedAt = new Date(startedMs).toISOString();
  const pace = provisioningPace(usersDone(p.counts), planned, startedMs, progress.now().getTime());
  if (pace) {
    status.usersPerHour = pace.usersPerHour;
    status.etaAt = pace.etaAt;
  }
  progress.publish();
}

/**
 * Provisions the run's chunks.
 *
 * @param context - the orchestration context.
 * @param run - the run's id, settings, tuning, progress and plan.
 * @returns the chunks that failed, and why the run gave up on Graph if it did (its unfinished
 *   chunks are among the failed ones, for a rerun).
 */
export function* provision(
  context: OrchestrationContext,
  run: {
    runId: string;
    settings: RunSettings;
    tuning: RunTuning;
    progress: RunProgress;
    plan: PlanTotals;
  },
): Generator<Task, { failedChunks: number[]; failure?: string }, unknown> {
  const { progress, plan } = run;
  if (run.settings.dryRun || plan.chunks === 0) {
    return { failedChunks: [] };
  }
  progress.enter("provisioning");
  const startedMs = progress.now().getTime();
  const result = yield* provisionWaves(context, {
    runId: run.runId,
    chunkNos: Array.from({ length: plan.chunks }, (_, i) => i),
    tuning: run.tuning,
    retryFailed: false,
    logPhoneNumbers: run.settings.logPhoneNumbers,
    onProgress: (p) => showProgress(progress, p, plan.writes, startedMs),
  });
  if (result.fatal) {
    return progress.fail(result.fatal);
  }
  return result.unavailable
    ? { failedChunks: result.failedChunks, failure: result.unavailable }
    : { failedChunks: result.failedChunks };
}
