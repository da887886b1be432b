/**
 * Runs the product's real Durable Functions app on the local host: installs the app's services
 * from a settings value, starts or resumes a nightly run or a rerun, and follows its progress.
 * This is the one place that wires product and host together.
 */
import { readdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  acquireRunLock,
  countsAsActive,
  isRunOrchestration,
  newRunId,
  prepareRerun,
  resolveTuning,
  RUN_ORCHESTRATIONS,
  runSettingsFrom,
  type RunInput,
  type RunTuning,
} from "../../shared/run/index.js";
import type { GraphCredential } from "../../shared/graph/credentials.js";
import { configureServices, services } from "../../shared/services.js";
import { expireRuns } from "../../shared/store/retention.js";
import type { Settings } from "../../shared/settings/index.js";
import { startLocalHost, type HostAccess, type LocalHost } from "../host/index.js";
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

/**
 * Installs the app's services from the settings, with the run store in the state directory
 * unless `RUN_STORE` says otherwise, and starts the local host on the app's modules (its own
 * state in `{stateDir}/host`).
 *
 * @param stateDir - the state directory.
 * @param settings - the validated settings.
 * @param options - logger, port, timer schedules, what HTTP requests must bring, and the Graph
 *   credential of an administrator who signed in already.
 */
export async function startAppHost(
  stateDir: string,
  settings: Settings,
  options: {
    logger: HostLogger;
    port?: number;
    schedules?: boolean;
    activityConcurrency?: number;
    access?: HostAccess;
    credential?: GraphCredential;
  },
): Promise<LocalHost> {
  configureServices(settings, {
    store: { defaultDirectory: path.resolve(stateDir) },
    credential: options.credential,
  });
  const hostDir = path.resolve(stateDir, "host");
  await mkdir(hostDir, { recursive: true });
  return startLocalHost({
    stateDir: hostDir,
    modules: appModules(),
    logger: options.logger,
    port: options.port,
    schedules: options.schedules,
    // The app's `%NAME%` bindings, from the settings value (its defaults applied).
    appSettings: { NIGHTLY_SCHEDULE: settings.nightlySchedule },
    activityConcurrency: options.activityConcurrency ?? 8,
    access: options.access,
  });
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
 * Starts a nightly run with the given settings, or resumes the unfinished one.
 *
 * @param host - the local host.
 * @param settings - the settings the new run takes a snapshot of.
 * @param options - dry run override and tuning.
 * @returns the instance id and whether it was resumed.
 */
export async function startOrResume(
  host: LocalHost,
  settings: Settings,
  options: { dryRun?: boolean; tuning?: Partial<RunTuning>; runId?: string },
): Promise<{ instanceId: string; resumed: boolean }> {
  const existing = await unfinishedRun(host);
  if (existing) {
    return { instanceId: existing.instanceId, resumed: true };
  }
  const runId = options.runId ?? newRunId("run");
  await takeRunLock(host, runId);
  // Numbers do not linger: a store in a folder drops runs older than RUN_RETENTION_DAYS.
  const { store } = services();
  if (store.describe().startsWith("file:")) {
    await expireRuns(store, { retentionDays: settings.runRetentionDays, now: new Date() });
  }
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
 * Takes the one-run lock of the run store for a new run, or says which run holds it.
 *
 * @param host - the local host (it tells whether the holder is still active).
 * @param runId - the run to start.
 */
async function takeRunLock(host: LocalHost, runId: string): Promise<void> {
  const { store } = services();
  const lock = await acquireRunLock(store, runId, async (holder) =>
    countsAsActive(store, holder, (await host.getStatus(holder))?.runtimeStatus),
  );
  if (!lock.acquired) {
    throw new Error(`Run '${lock.heldBy}' is in progress; wait for it or cancel it.`);
  }
}

/**
 * Starts a rerun of a finished run's failed chunks, with that run's own settings.
 *
 * @param host - the local host.
 * @param runId - the finished run.
 * @param maxAgeHours - `RERUN_MAX_AGE_HOURS`.
 */
export async function startRerun(
  host: LocalHost,
  runId: string,
  maxAgeHours: number,
): Promise<string> {
  const status = await host.getStatus(runId);
  if (!status || !isRunOrchestration(status.name)) {
    throw new Error(`No run has the id '${runId}' in this state directory.`);
  }
  const rerun = prepareRerun(status, { maxAgeHours, now: new Date() });
  if ("error" in rerun) {
    throw new Error(rerun.error);
  }
  const { rerunId, input } = rerun;
  await takeRunLock(host, rerunId);
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
  onStatus: (s: InstanceStatus) => void | Promise<void>,
  intervalMs = 500,
): Promise<InstanceStatus> {
  for (;;) {
    const status = await host.getStatus(instanceId);
    if (!status) {
      throw new Error(`Run '${instanceId}' vanished from the local host.`);
    }
    await onStatus(status);
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
