/**
 * Between planning and any write (dry runs included): the pre-flight of the tenant's
 * authentication methods policy. A method none of the planned users may use stops the run with
 * one sentence naming the policy and the setting to change; partial coverage is shown per method.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { checkMethodsPolicyActivity } from "../../activities/checkMethodsPolicy.js";
import type { PlanTotals } from "./plan.js";
import type { StepRun } from "./run.js";

/**
 * Checks the policy for the plan.
 *
 * @param context - the orchestration context.
 * @param run - the run and its plan.
 */
export function* preflight(
  context: OrchestrationContext,
  run: StepRun & { plan: PlanTotals },
): Generator<Task, void, unknown> {
  const { progress } = run;
  progress.enter("checkingPolicy");
  const checked = yield* checkMethodsPolicyActivity.call(
    context,
    {
      runId: run.runId,
      methods: run.settings.methods,
      chunks: run.plan.chunks,
      startedAt: progress.status.startedAt,
    },
    run.retry,
  );
  const methods = checked.ok ? checked.methods : checked.methods;
  if (methods) {
    progress.status.preflight = methods.map(({ method, planned, covered, notCovered }) => ({
      method,
      planned,
      covered,
      notCovered,
    }));
  }
  if (!checked.ok) {
    return progress.fail(checked.error);
  }
  progress.publish();
}
