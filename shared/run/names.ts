/**
 * The registered names of the orchestrations that are runs. The orchestrator files define them
 * with these names; the local CLI and the bench start runs by them without importing those files,
 * because importing a file registers its functions, which must happen inside the host that runs
 * them.
 */
export const RUN_ORCHESTRATIONS = {
  nightlyRun: "nightlyRun",
  rerunFailed: "rerunFailed",
} as const;

/** The name of an orchestration that is a run. */
export type RunOrchestrationName = (typeof RUN_ORCHESTRATIONS)[keyof typeof RUN_ORCHESTRATIONS];

/**
 * Whether an instance is a run (a nightly run or a rerun), by its orchestration's name.
 *
 * @param name - the instance's orchestration name.
 */
export function isRunOrchestration(name: string): name is RunOrchestrationName {
  return Object.values<string>(RUN_ORCHESTRATIONS).includes(name);
}

/** The external event that approves a run waiting in phase `awaitingApproval`. */
export const APPROVAL_EVENT = "approve";
