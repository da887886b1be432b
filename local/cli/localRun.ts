/**
 * Runs the product's real Durable Functions app on the local host: starts or resumes a nightly
 * run, follows its progress, and reports the result in the CLI contract's shape. This is the one
 * place that wires product, host and (for the demo) emulator together.
 */
import { readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { loadSettings } from "../../shared/config.js";
import {
  isRunOrchestration,
  newRunId,
  RUN_ORCHESTRATIONS,
  prepareRerun,
  readRunOutput,
  readRunStatus,
  resolveTuning,
  runSettingsFrom,
  type RunCounts,
  type RunInput,
  type RunTuning,
} from "../../shared/run/index.js";
import { startLocalHost, type LocalHost } from "../host/index.js";
import type { HostLogger, InstanceStatus } from "../host/types.js";

/** The app's function modules (compiled `.js` under dist, or `.ts` when run through tsx). */
export function appModules(): string[] {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const modules: string[] = [];
  for (const dir of ["activities", "orchestrators"]) {
    for (const file of readdirSync(path.join(root, dir)).sort()) {
      if (/\.(js|ts)$/.test(file) && !file.endsWith(".d.ts")) {
        modules.push(path.join(root, dir, file));
      }
    }
  }
  return modules;
}

/** Where a local run keeps its state. */
export interface StateLayout {
  /** The local host's instance state. */
  hostDir: string;
  /** Root of the filesystem run store (unless `RUN_STORE` says otherwise); runs live in `runs/`. */
  storeDir: string;
}

/**
 * The state layout under a state directory, and `RUN_STORE` pointed at it unless set.
 *
 * @param stateDir - the `--state-dir`.
 */
export async function prepareState(stateDir: string): Promise<StateLayout> {
  const layout = {
    hostDir: path.resolve(stateDir, "host"),
    storeDir: path.resolve(stateDir),
  };
  await mkdir(layout.hostDir, { recursive: true });
  process.env.RUN_STORE ??= layout.storeDir;
  return layout;
}

/**
 * Starts the local host on the app's modules.
 *
 * @param stateDir - the state directory.
 * @param options - logger, port and timer schedules.
 */
export async function startAppHost(
  stateDir: string,
  options: { logger: HostLogger; port?: number; schedules?: boolean; activityConcurrency?: number },
): Promise<LocalHost> {
  const layout = await prepareState(stateDir);
  return startLocalHost({
    stateDir: layout.hostDir,
    modules: appModules(),
    logger: options.logger,
    port: options.port,
    schedules: options.schedules,
    activityConcurrency: options.activityConcurrency ?? 8,
  });
}

/** The `--json` result line of `run`, as the CLI contract fixes it. */
export interface RunJson {
  runId: string;
  runtimeStatus: string;
  counts: Pick<
    RunCounts,
    | "candidates"
    | "planned"
    | "created"
    | "alreadyPresent"
    | "invalidNumber"
    | "skipped"
    | "failed"
    | "deferred"
  >;
  failedChunks: number[];
  durationMs: number;
  error?: string;
}

/**
 * The contract's JSON object for a finished run.
 *
 * @param status - the final instance status.
 * @param durationMs - wall time of this command.
 */
export function runJson(status: InstanceStatus, durationMs: number): RunJson {
  const output = readRunOutput(status.output);
  const custom = readRunStatus(status.customStatus);
  const c: Partial<RunCounts> =
    (status.runtimeStatus === "Completed" ? output?.counts : custom.counts) ?? {};
  const runId = output?.runId ?? custom.runId ?? status.instanceId;
  const json: RunJson = {
    runId,
    runtimeStatus: status.runtimeStatus,
    counts: {
      candidates: c.candidates ?? 0,
      planned: c.planned ?? 0,
      created: c.created ?? 0,
      alreadyPresent: c.alreadyPresent ?? 0,
      invalidNumber: c.invalidNumber ?? 0,
      skipped: c.skipped ?? 0,
      failed: c.failed ?? 0,
      deferred: c.deferred ?? 0,
    },
    failedChunks: output?.failedChunks ?? [],
    durationMs,
  };
  if (status.runtimeStatus !== "Completed") {
    json.error = (
      custom.message ?? (typeof status.output === "string" ? status.output : undefined)
    )?.split("\n")[0];
  }
  return json;
}

/**
 * The unfinished run in the host's state, if any (a crashed `run` left it).
 *
 * @param host - the local host.
 */
export async function unfinishedRun(host: LocalHost): Promise<InstanceStatus | undefined> {
  const active = await host.listInstances({ runtimeStatus: ["Pending", "Running"] });
  return active.find((s) => isRunOrchestration(s.name));
}

/**
 * Starts a nightly run with the current settings, or resumes the unfinished one.
 *
 * @param host - the local host.
 * @param options - dry run override and tuning.
 * @returns the instance id and whether it was resumed.
 */
export async function startOrResume(
  host: LocalHost,
  options: { dryRun?: boolean; tuning?: Partial<RunTuning>; runId?: string },
): Promise<{ instanceId: string; resumed: boolean }> {
  const existing = await unfinishedRun(host);
  if (existing) {
    return { instanceId: existing.instanceId, resumed: true };
  }
  const settings = loadSettings(process.env);
  const runId = options.runId ?? newRunId("run");
  const input: RunInput = {
    runId,
    trigger: "cli",
    settings: runSettingsFrom(settings, options.dryRun),
    tuning: resolveTuning(options.tuning),
  };
  await host.startNew(RUN_ORCHESTRATIONS.nightlyRun, { instanceId: runId, input });
  return { instanceId: runId, resumed: false };
}

/**
 * Starts a rerun of a finished run's failed chunks.
 *
 * @param host - the local host.
 * @param runId - the finished run.
 */
export async function startRerun(host: LocalHost, runId: string): Promise<string> {
  const status = await host.getStatus(runId);
  if (!status || !isRunOrchestration(status.name)) {
    throw new Error(`No run has the id '${runId}' in this state directory.`);
  }
  const rerun = prepareRerun(status);
  if ("error" in rerun) {
    throw new Error(rerun.error);
  }
  const { rerunId, input } = rerun;
  await host.startNew(RUN_ORCHESTRATIONS.rerunFailed, { instanceId: rerunId, input });
  return rerunId;
}

/**
 * Polls a run until it ends, reporting each status.
 *
 * @param host - the local host.
 * @param instanceId - the run.
 * @param onStatus - called with each polled status.
 * @param intervalMs - poll interval.
 */
export async function follow(
  host: LocalHost,
  instanceId: string,
  onStatus: (s: InstanceStatus) => void,
  intervalMs = 500,
): Promise<InstanceStatus> {
  for (;;) {
    const status = await host.getStatus(instanceId);
    if (!status) {
      throw new Error(`Run '${instanceId}' vanished from the local host.`);
    }
    onStatus(status);
    if (
      status.runtimeStatus === "Completed" ||
      status.runtimeStatus === "Failed" ||
      status.runtimeStatus === "Terminated"
    ) {
      return status;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
