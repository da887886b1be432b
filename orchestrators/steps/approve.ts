/**
 * The brake a person releases: a run that plans more writes than `APPROVAL_THRESHOLD` writes the
 * plan's report, then waits (a durable timer, so it survives restarts and crashes) for an
 * operator's approval, up to `APPROVAL_TIMEOUT_HOURS`. Without approval it ends with nothing
 * written. After approval, the exclusion groups and role holders are read again before any
 * write, since hours may have passed.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { z } from "zod";
import { recheckChunksActivity } from "../../activities/recheckChunks.js";
import { refreshHoldersActivity } from "../../activities/refreshHolders.js";
import { summarizeRunActivity } from "../../activities/summarizeRun.js";
import { APPROVAL_EVENT } from "../../shared/run/index.js";
import type { PlanTotals } from "./plan.js";
import type { DiscoveredRun } from "./run.js";

/** What an approval event carries: who approved (from the API's caller or the CLI's user). */
const approvalEvent = z.strictObject({ by: z.string().min(1).max(256) });

/** How the approval went. */
export type ApprovalResult =
  | { status: "notNeeded" }
  | { status: "approved"; threshold: number; planned: number; by: string; at: string }
  | { status: "notApproved"; threshold: number; planned: number };

/** Options of {@link awaitApproval}: the run after planning. */
interface ApprovalOptions extends DiscoveredRun {
  plan: PlanTotals;
}

/**
 * Waits for approval when the plan needs it.
 *
 * @param context - the orchestration context.
 * @param run - the run, its settings, progress, discovery and plan.
 */
export function* awaitApproval(
  context: OrchestrationContext,
  run: ApprovalOptions,
): Generator<Task, ApprovalResult, unknown> {
  const { settings, progress, plan } = run;
  const threshold = settings.approvalThreshold;
  if (settings.dryRun || threshold === 0 || plan.writes <= threshold) {
    return { status: "notNeeded" };
  }
  const preview = yield* summarizeRunActivity.call(
    context,
    {
      runId: run.runId,
      dryRun: true,
      unwrittenOutcome: "awaitingApproval",
      userPages: run.discovery.userPages,
      chunks: plan.chunks,
      withoutMfa: plan.withoutMfa,
      logPhoneNumbers: settings.logPhoneNumbers,
      numberSettleDays: settings.numberSettleDays,
      settings,
      approval: { status: "awaiting", threshold, planned: plan.writes },
      startedAt: progress.status.startedAt,
      finishedAt: progress.now().toISOString(),
    },
    run.retry,
  );
  const expiresAt = new Date(progress.now().getTime() + settings.approvalTimeoutHours * 3_600_000);
  progress.status.approval = {
    threshold,
    planned: plan.writes,
    expiresAt: expiresAt.toISOString(),
    reportKeys: preview.reportKeys,
  };
  progress.enter("awaitingApproval");
  const approval = context.df.waitForExternalEvent(APPROVAL_EVENT);
  const timeout = context.df.createTimer(expiresAt);
  const winner = yield context.df.Task.any([approval, timeout]);
  if (winner !== approval) {
    return { status: "notApproved", threshold, planned: plan.writes };
  }
  timeout.cancel();
  const parsed = approvalEvent.safeParse(approval.result);
  const by = parsed.success ? parsed.data.by : "unknown";
  const at = progress.now().toISOString();
  progress.status.approval = { ...progress.status.approval, approvedBy: by, approvedAt: at };
  progress.publish();
  yield* recheckBeforeWriting(context, run);
  return { status: "approved", threshold, planned: plan.writes, by, at };
}

/** Reads the exclusion groups and role holders again and marks who must not be written now. */
function* recheckBeforeWriting(
  context: OrchestrationContext,
  run: ApprovalOptions,
): Generator<Task, void, unknown> {
  const fresh = yield* refreshHoldersActivity.call(
    context,
    {
      runId: run.runId,
      excludedGroupIds: run.discovery.excludedGroupIds,
      skipAdmins: run.settings.skipAdmins,
    },
    run.retry,
  );
  if (!fresh.ok) {
    return run.progress.fail(fresh.error);
  }
  const perCall = run.tuning.chunksPerWave * run.tuning.wavesInFlight;
  for (let from = 0; from < run.plan.chunks; from += perCall) {
    const to = Math.min(run.plan.chunks, from + perCall);
    yield* recheckChunksActivity.call(
      context,
      {
        runId: run.runId,
        chunkNos: Array.from({ length: to - from }, (_, i) => from + i),
        rereadUsers: false,
        allowLandline: run.settings.allowLandline,
        ...(run.settings.defaultRegion ? { defaultRegion: run.settings.defaultRegion } : {}),
      },
      run.retry,
    );
  }
}
