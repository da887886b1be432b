/**
 * nightlyRun: one run of the product, as a deterministic orchestration in seven steps: discover
 * (resolve the groups, read the role holders, page the report, the audit log, exclusion members
 * and users into the run store, count the readiness), census (which values are shared, which are
 * not settled), plan (decide every user and method, write chunks), the policy pre-flight (stop
 * before any write when the policy leaves a method unusable), approval (above `APPROVAL_THRESHOLD` planned writes, wait for
 * an operator and re-check before writing), provision (waves of sub-orchestrations, so no history
 * grows past a few hundred events) and summarize (the report). No time limit or token expiry can stop
 * it: every step is a retried activity that resumes from the last stored page or chunk.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { releaseRunLockActivity } from "../activities/releaseRunLock.js";
import { defineOrchestration, retryOptions } from "../shared/durable/index.js";
import {
  RUN_ORCHESTRATIONS,
  runInputSchema,
  type RunInput,
  type RunOutput,
} from "../shared/run/index.js";
import { awaitApproval } from "./steps/approve.js";
import { census } from "./steps/census.js";
import { discover } from "./steps/discover.js";
import { plan } from "./steps/plan.js";
import { preflight } from "./steps/preflight.js";
import { RunProgress } from "./steps/progress.js";
import { provision } from "./steps/provision.js";
import { summarize } from "./steps/summarize.js";

/**
 * The run. Its settings and tuning come from its input alone, fixed when it was started.
 *
 * @param context - the orchestration context.
 * @param input - the checked input.
 */
function* runNightly(
  context: OrchestrationContext,
  input: RunInput,
): Generator<Task, RunOutput, unknown> {
  const { runId, settings, tuning } = input;
  const progress = new RunProgress(context, { runId, dryRun: settings.dryRun });
  // Retries of a whole activity: a crash, a host restart, or a transient error after the
  // activity's own retries.
  const retry = retryOptions(tuning.retryIntervalMs, 5);
  const run = { runId, settings, tuning, retry, progress };
  try {
    const discovery = yield* discover(context, run);
    yield* census(context, { ...run, discovery });
    const totals = yield* plan(context, { ...run, discovery });
    yield* preflight(context, { ...run, plan: totals });
    const approval = yield* awaitApproval(context, { ...run, discovery, plan: totals });
    const provisioned =
      approval.status === "notApproved"
        ? { failedChunks: [] }
        : yield* provision(context, { ...run, plan: totals });
    const output = yield* summarize(context, {
      ...run,
      discovery,
      plan: totals,
      approval,
      ...provisioned,
      startedBy: input.startedBy,
      trigger: input.trigger,
    });
    yield* releaseRunLockActivity.call(context, { runId }, retry);
    return output;
  } catch (error) {
    // A failed run gives the one-run lock back too (a terminated one cannot: starters detect it).
    yield* releaseRunLockActivity.call(context, { runId }, retry);
    throw error;
  }
}

/** The orchestration. */
export const nightlyRunOrchestration = defineOrchestration({
  name: RUN_ORCHESTRATIONS.nightlyRun,
  input: runInputSchema,
  run: runNightly,
});
