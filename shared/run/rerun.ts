/**
 * Reruns: provisioning again a finished run's failed chunks, with the settings that run was
 * started with (never today's environment).
 */
import { z } from "zod";
import { newRunId } from "./input.js";
import { runOutputSchema } from "./progress.js";

/** Input of the rerunFailed orchestration: the finished run's output. */
export const rerunInputSchema = z.strictObject({ source: runOutputSchema });

/** Input of the rerunFailed orchestration: the output of the run to repair (its store data and settings are reused). */
export type RerunFailedInput = z.infer<typeof rerunInputSchema>;

/**
 * Checks that a run can be rerun (it completed, it wrote: a dry run or an unapproved plan has
 * nothing to rerun, and it finished less than `RERUN_MAX_AGE_HOURS` ago: an old plan must not be
 * replayed) and builds the rerun's instance id and input. The runs API and the CLI both start
 * reruns this way.
 *
 * @param run - the run's instance id, runtime status and output.
 * @param policy - `RERUN_MAX_AGE_HOURS` and the current time.
 * @returns the rerun, or the reason it cannot start.
 */
export function prepareRerun(
  run: { instanceId: string; runtimeStatus: string; output: unknown },
  policy: { maxAgeHours: number; now: Date },
): { rerunId: string; input: RerunFailedInput } | { error: string } {
  if (run.runtimeStatus !== "Completed") {
    return {
      error: `Run '${run.instanceId}' is ${run.runtimeStatus}; only a completed run can be rerun.`,
    };
  }
  const parsed = runOutputSchema.safeParse(run.output);
  if (!parsed.success) {
    return { error: `Run '${run.instanceId}' has no output a rerun can start from.` };
  }
  const source = parsed.data;
  if (source.dryRun) {
    return { error: `Run '${run.instanceId}' was a dry run; there is nothing to rerun.` };
  }
  if (source.approval?.status === "notApproved") {
    return {
      error: `Run '${run.instanceId}' was not approved and wrote nothing; start a new run instead.`,
    };
  }
  const ageHours = (policy.now.getTime() - Date.parse(source.finishedAt)) / 3_600_000;
  if (!(ageHours < policy.maxAgeHours)) {
    return {
      error: `Run '${run.instanceId}' finished ${Math.floor(ageHours)} hours ago, longer than RERUN_MAX_AGE_HOURS (${policy.maxAgeHours}); start a new run, which plans from today's directory.`,
    };
  }
  return { rerunId: newRunId(`${source.runId}-rerun`, policy.now), input: { source } };
}
