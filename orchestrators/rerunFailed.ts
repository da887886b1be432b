/**
 * rerunFailed: provisions again, for a finished run, only its failed chunks and the chunks that
 * hold transiently failed users, then rebuilds that run's report. It runs with the settings and
 * tuning the finished run was started with, re-reads every user it would write and leaves out
 * those who changed since the plan (`changedSincePlan`). Users already done are not written
 * again: provisionChunk keeps every recorded outcome except transient failures.
 */
import type { OrchestrationContext, RetryOptions, Task } from "durable-functions";
import { recheckChunksActivity } from "../activities/recheckChunks.js";
import { refreshHoldersActivity } from "../activities/refreshHolders.js";
import { releaseRunLockActivity } from "../activities/releaseRunLock.js";
import { summarizeRunActivity } from "../activities/summarizeRun.js";
import { defineOrchestration, retryOptions } from "../shared/durable/index.js";
import {
  RUN_ORCHESTRATIONS,
  rerunInputSchema,
  type RerunFailedInput,
  type RunOutput,
} from "../shared/run/index.js";
import { provisionWaves } from "./provisionWave.js";

/**
 * Fresh at write time: the run is hours or days old, so the exclusion groups and role holders
 * are read again and every user about to be written is re-read (number, state, type).
 */
function* recheckUsers(
  context: OrchestrationContext,
  source: RunOutput,
  chunkNos: number[],
  retry: RetryOptions,
): Generator<Task, void, unknown> {
  const { settings } = source;
  const fresh = yield* refreshHoldersActivity.call(
    context,
    {
      runId: source.runId,
      excludedGroupIds: source.excludedGroupIds,
      skipAdmins: settings.skipAdmins,
    },
    retry,
  );
  if (!fresh.ok) {
    throw new Error(fresh.error);
  }
  if (chunkNos.length > 0) {
    yield* recheckChunksActivity.call(
      context,
      {
        runId: source.runId,
        chunkNos,
        rereadUsers: true,
        allowLandline: settings.allowLandline,
        ...(settings.defaultRegion ? { defaultRegion: settings.defaultRegion } : {}),
      },
      retry,
    );
  }
}

/**
 * The rerun.
 *
 * @param context - the orchestration context.
 * @param input - the checked input: the finished run's output.
 */
function* runRerun(
  context: OrchestrationContext,
  input: RerunFailedInput,
): Generator<Task, RunOutput, unknown> {
  const { source } = input;
  if (source.dryRun) {
    throw new Error(`rerunFailed: run '${source.runId}' was a dry run; there is nothing to rerun.`);
  }
  const { tuning, settings } = source;
  const chunkNos = [...new Set([...source.failedChunks, ...source.retryableChunks])].sort(
    (a, b) => a - b,
  );
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const retry = retryOptions(tuning.retryIntervalMs, 5);
  const status = (extra: Record<string, unknown>): void =>
    context.df.setCustomStatus({ runId: source.runId, ...extra });
  status({ phase: "provisioning", chunks: { total: chunkNos.length, done: 0, failed: 0 } });
  yield* recheckUsers(context, source, chunkNos, retry);
  const result = yield* provisionWaves(context, {
    runId: source.runId,
    chunkNos,
    tuning,
    retryFailed: true,
    logPhoneNumbers: settings.logPhoneNumbers,
    onProgress: (p) =>
      status({
        phase: "provisioning",
        chunks: { total: chunkNos.length, done: p.chunksDone, failed: p.chunksFailed },
        counts: p.counts,
        throttled: p.throttled,
      }),
  });
  if (result.fatal) {
    throw new Error(result.fatal);
  }
  const finishedAt = context.df.currentUtcDateTime.toISOString();
  const summary = yield* summarizeRunActivity.call(
    context,
    {
      runId: source.runId,
      dryRun: false,
      userPages: source.userPages,
      chunks: source.chunks,
      withoutMfa: source.withoutMfa,
      logPhoneNumbers: settings.logPhoneNumbers,
      numberSettleDays: settings.numberSettleDays,
      settings,
      ...(source.startedBy ? { startedBy: source.startedBy } : {}),
      ...(source.approval ? { approval: source.approval } : {}),
      startedAt: source.startedAt,
      finishedAt,
    },
    retry,
  );
  status(
    result.unavailable
      ? { phase: "failed", counts: summary.counts, message: result.unavailable }
      : { phase: "completed", counts: summary.counts },
  );
  return {
    ...source,
    counts: summary.counts,
    failedChunks: result.failedChunks,
    // This rerun's own ending: Graph unavailable again, or none (the source's is over).
    failure: result.unavailable,
    retryableChunks: summary.retryableChunks.filter((c) => !result.failedChunks.includes(c)),
    throttled: result.progress.throttled,
    startedAt,
    finishedAt,
    reportKeys: summary.reportKeys,
  };
}

/** The rerun, giving the one-run lock back when it ends, however it ends. */
function* runRerunAndRelease(
  context: OrchestrationContext,
  input: RerunFailedInput,
): Generator<Task, RunOutput, unknown> {
  const release = { runId: context.df.instanceId };
  const retry = retryOptions(input.source.tuning.retryIntervalMs, 5);
  try {
    const output = yield* runRerun(context, input);
    yield* releaseRunLockActivity.call(context, release, retry);
    return output;
  } catch (error) {
    yield* releaseRunLockActivity.call(context, release, retry);
    throw error;
  }
}

/** The orchestration. */
export const rerunFailedOrchestration = defineOrchestration({
  name: RUN_ORCHESTRATIONS.rerunFailed,
  input: rerunInputSchema,
  run: runRerunAndRelease,
});
