/**
 * The last step of a run: join plan and outcomes into the report and build the run's output.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { summarizeRunActivity } from "../../activities/summarizeRun.js";
import type { RunOutput, RunTrigger } from "../../shared/run/index.js";
import type { ApprovalResult } from "./approve.js";
import type { PlanTotals } from "./plan.js";
import type { DiscoveredRun } from "./run.js";

/**
 * Summarizes the run.
 *
 * @param context - the orchestration context.
 * @param run - the run's id, settings, tuning, retry options, progress and what the steps before
 *   did.
 */
export function* summarize(
  context: OrchestrationContext,
  run: DiscoveredRun & {
    plan: PlanTotals;
    approval: ApprovalResult;
    failedChunks: number[];
    /** Why provisioning gave up (Graph unavailable); the run ends `failed`, its chunks rerunnable. */
    failure?: string;
    startedBy?: RunOutput["startedBy"];
    trigger?: RunTrigger;
  },
): Generator<Task, RunOutput, unknown> {
  const { progress, settings, approval } = run;
  const notApproved = approval.status === "notApproved";
  progress.enter("summarizing");
  const finishedAt = progress.now().toISOString();
  const summary = yield* summarizeRunActivity.call(
    context,
    {
      runId: run.runId,
      dryRun: settings.dryRun || notApproved,
      ...(notApproved ? { unwrittenOutcome: "notApproved" as const } : {}),
      userPages: run.discovery.userPages,
      chunks: run.plan.chunks,
      withoutMfa: run.plan.withoutMfa,
      logPhoneNumbers: settings.logPhoneNumbers,
      numberSettleDays: settings.numberSettleDays,
      settings,
      ...(run.trigger ? { trigger: run.trigger } : {}),
      ...(run.startedBy ? { startedBy: run.startedBy } : {}),
      ...(approval.status === "notNeeded" ? {} : { approval: approvalOutput(approval) }),
      startedAt: progress.status.startedAt,
      finishedAt,
    },
    run.retry,
  );
  progress.status.counts = summary.counts;
  progress.status.methods = summary.methods;
  if (run.failure) {
    // The report and output are complete, so the run can be rerun; its phase says it failed.
    progress.status.message = run.failure;
    progress.enter("failed");
  } else {
    progress.enter(notApproved ? "notApproved" : "completed");
  }
  return {
    runId: run.runId,
    dryRun: settings.dryRun,
    settings,
    tuning: run.tuning,
    ...(run.startedBy ? { startedBy: run.startedBy } : {}),
    excludedGroupIds: run.discovery.excludedGroupIds,
    ...(approval.status === "notNeeded" ? {} : { approval: approvalOutput(approval) }),
    counts: summary.counts,
    methods: summary.methods,
    ...(progress.status.readiness ? { readiness: progress.status.readiness } : {}),
    plan: progress.status.plan,
    failedChunks: run.failedChunks,
    ...(run.failure ? { failure: run.failure } : {}),
    retryableChunks: summary.retryableChunks.filter((c) => !run.failedChunks.includes(c)),
    chunks: run.plan.chunks,
    userPages: run.discovery.userPages,
    withoutMfa: run.plan.withoutMfa,
    throttled: progress.status.throttled,
    startedAt: progress.status.startedAt,
    finishedAt,
    reportKeys: summary.reportKeys,
  };
}

function approvalOutput(
  a: Exclude<ApprovalResult, { status: "notNeeded" }>,
): NonNullable<RunOutput["approval"]> {
  return a.status === "approved"
    ? { status: a.status, threshold: a.threshold, planned: a.planned, by: a.by, at: a.at }
    : { status: a.status, threshold: a.threshold, planned: a.planned };
}
