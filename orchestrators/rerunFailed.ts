/**
 * rerunFailed: provisions again, for a finished run, only its failed chunks and the chunks that
 * hold transiently failed users, then rebuilds that run's report. Users already done are not
 * written again: provisionChunk keeps every recorded outcome except transient failures.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import {
  summarizeRunName,
  type SummarizeRunInput,
  type SummarizeRunResult,
} from "../activities/summarizeRun.js";
import {
  DEFAULT_RUN_TUNING,
  type RerunFailedInput,
  type RunOutput,
  type RunTuning,
} from "../shared/runTypes.js";
import { provisionWaves, retryOptions } from "./provisionWave.js";

/** Registered name. */
export const rerunFailedName = "rerunFailed";

export type { RerunFailedInput };

/**
 * The orchestration.
 *
 * @param context - the orchestration context.
 */
export const rerunFailed: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<Task, RunOutput, unknown> {
  const input = context.df.getInput() as RerunFailedInput | undefined;
  const source = input?.source;
  if (!source || typeof source.runId !== "string" || !Array.isArray(source.failedChunks)) {
    throw new Error("rerunFailed: the input needs the output of a finished run.");
  }
  if (source.dryRun) {
    throw new Error(`rerunFailed: run '${source.runId}' was a dry run; there is nothing to rerun.`);
  }
  const tuning: RunTuning = { ...DEFAULT_RUN_TUNING, ...input.tuning };
  const chunkNos = [...new Set([...source.failedChunks, ...(source.retryableChunks ?? [])])].sort(
    (a, b) => a - b,
  );
  const startedAt = context.df.currentUtcDateTime.toISOString();
  context.df.setCustomStatus({
    runId: source.runId,
    phase: "provisioning",
    chunks: { total: chunkNos.length, done: 0, failed: 0 },
  });
  const result = yield* provisionWaves(context, {
    runId: source.runId,
    chunkNos,
    tuning,
    retryFailed: true,
    logPhoneNumbers: input.logPhoneNumbers,
    onProgress: (p) =>
      context.df.setCustomStatus({
        runId: source.runId,
        phase: "provisioning",
        chunks: { total: chunkNos.length, done: p.chunksDone, failed: p.chunksFailed },
        counts: p.counts,
        throttled: p.throttled,
      }),
  });
  if (result.fatal) {
    throw new Error(result.fatal);
  }
  const summaryInput: SummarizeRunInput = {
    runId: source.runId,
    dryRun: false,
    userPages: source.userPages,
    chunks: source.chunks,
    withoutMfa: source.withoutMfa,
    logPhoneNumbers: input.logPhoneNumbers,
    startedAt: source.startedAt,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
  };
  const summary = (yield context.df.callActivityWithRetry(
    summarizeRunName,
    retryOptions(tuning.retryIntervalMs, 5),
    summaryInput,
  )) as SummarizeRunResult;
  context.df.setCustomStatus({ runId: source.runId, phase: "completed", counts: summary.counts });
  return {
    ...source,
    counts: summary.counts,
    failedChunks: result.failedChunks,
    retryableChunks: summary.retryableChunks.filter((c) => !result.failedChunks.includes(c)),
    throttled: result.progress.throttled,
    startedAt,
    finishedAt: summaryInput.finishedAt,
    reportKeys: summary.reportKeys,
  };
};

df.app.orchestration(rerunFailedName, rerunFailed);
