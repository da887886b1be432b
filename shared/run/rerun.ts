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
 * Checks that a run can be rerun (it completed, and wrote: a dry run has nothing to rerun) and
 * builds the rerun's instance id and input. The runs API and the CLI both start reruns this way.
 *
 * @param run - the run's instance id, runtime status and output.
 * @returns the rerun, or the reason it cannot start.
 */
export function prepareRerun(run: {
  instanceId: string;
  runtimeStatus: string;
  output: unknown;
}): { rerunId: string; input: RerunFailedInput } | { error: string } {
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
  return { rerunId: newRunId(`${source.runId}-rerun`), input: { source } };
}
