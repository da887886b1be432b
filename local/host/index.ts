/**
 * In-process local Durable Functions host.
 *
 * Azure's Functions host and Durable extension are .NET and cannot run here, so this host plays
 * both roles for an app's real `durable-functions` registrations: it stands in for the
 * `@azure/functions-core` module the worker injects, invokes handlers through
 * `@azure/functions`' own invocation model, replays orchestrations with DTFx-style history,
 * persists every instance (journal plus atomic snapshots, see `store.ts`) and serves the Durable
 * client HTTP API and the app's HTTP functions on loopback.
 *
 * Registrations are process-wide (see `registry.ts`): a second host in the same process sees the
 * functions the first one loaded, because Node does not run a cached module twice.
 *
 * Module identity: the host imports neither `durable-functions` nor `@azure/functions`; it drives
 * the copies the app resolves, through the programming model `@azure/functions` hands to the fake
 * core. Keep a single copy of each in `node_modules` (as npm dedupes them here): with two copies
 * the last one to load would own the invocation model.
 */
import * as path from "node:path";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { removeAccessToken, writeAccessToken } from "./access.js";
import { httpRoutes, type HttpRoute } from "./appHttp.js";
import { Engine } from "./engine.js";
import { createHostServer } from "./http.js";
import type { HttpContext } from "./httpCommon.js";
import { installCoreHook, registeredFunctions, setLogSink } from "./registry.js";
import { fireTimerFunction, startSchedules } from "./timerTriggers.js";
import type {
  HostLogger,
  InstanceFilter,
  InstanceStatus,
  LocalHostOptions,
  ReplayStats,
} from "./types.js";

export type {
  HistoryEvent,
  HostLogger,
  InstanceFilter,
  InstanceStatus,
  LocalHostOptions,
  ReplayCounters,
  ReplayStats,
  RuntimeStatus,
} from "./types.js";
export { readPersistedInstances } from "./store.js";
export { ACCESS_TOKEN_FILE, newAccessToken, type HostAccess } from "./access.js";
export { matchRoute } from "./appHttp.js";
export { clientBindingData } from "./clientBinding.js";
export type { HttpRoute } from "./appHttp.js";

/** A running local host. */
export interface LocalHost {
  /** `http://127.0.0.1:N`; `/api/*` and `/durabletask/*` are served there. */
  baseUrl: string;
  /** The file holding the access token for callers in other processes, when a token is required. */
  accessTokenFile?: string;
  /** Registered functions and their trigger types. */
  functions(): { name: string; trigger: string }[];
  /** HTTP routes of the app (auth level recorded, not enforced). */
  routes(): HttpRoute[];
  /** Starts an orchestration; resolves with its instance id. */
  startNew(name: string, opts?: { instanceId?: string; input?: unknown }): Promise<string>;
  /** Status of an instance, or undefined when unknown. */
  getStatus(
    id: string,
    opts?: { showHistory?: boolean; showInput?: boolean },
  ): Promise<InstanceStatus | undefined>;
  /** Resolves once the instance is Completed, Failed or Terminated (default timeout 60 s). */
  waitForCompletion(id: string, opts?: { timeoutMs?: number }): Promise<InstanceStatus>;
  /** Instances matching the filter, oldest first. */
  listInstances(filter?: InstanceFilter): Promise<InstanceStatus[]>;
  /** Raises an external event; rejects for unknown instances. */
  raiseEvent(id: string, name: string, data?: unknown): Promise<void>;
  /** Terminates a running instance; rejects for unknown instances. */
  terminate(id: string, reason?: string): Promise<void>;
  /** Deletes an instance and its persisted state. */
  purge(id: string): Promise<void>;
  /** Runs a timer-triggered function now. */
  fireTimer(name: string): Promise<void>;
  /** Replay statistics per instance and in total. */
  stats(): ReplayStats;
  /** Stops accepting work, waits briefly for work in flight, persists. */
  stop(): Promise<void>;
}

// Installed as soon as the host is imported, so app modules imported after it (even statically,
// in a test file) register through the fake core instead of falling into test mode.
installCoreHook();

const defaultLogger: HostLogger = {
  info: () => undefined,
  warn: (m) => process.stderr.write(`${m}\n`),
  error: (m) => process.stderr.write(`${m}\n`),
};

function toImportable(spec: string): string {
  return spec.startsWith("file:") ? fileURLToPath(spec) : path.resolve(spec);
}

/** Routes the app's function logs to the host logger by level. */
function forwardFunctionLogs(logger: HostLogger): void {
  setLogSink((level, category, message) => {
    const line = `[${category}] ${message}`;
    if (level === "error" || level === "critical") {
      logger.error(line);
    } else if (level === "warning") {
      logger.warn(line);
    } else {
      logger.info(line);
    }
  });
}

/** Imports the app modules; each registers its functions through the fake core. */
async function loadModules(modules: string[], logger: HostLogger): Promise<void> {
  for (const m of modules) {
    await import(toImportable(m));
  }
  if (modules.length > 0 && registeredFunctions().length === 0) {
    logger.warn(
      "LocalHost: the app modules registered no functions; '@azure/functions' was probably used before the host was imported, which puts it in test mode for the whole process.",
    );
  }
}

function listen(server: Server, port: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    );
  });
}

function noInstance(id: string): Error {
  return new Error(`LocalHost: no instance with id '${id}' exists.`);
}

/**
 * Starts a local host: installs the fake worker core, imports the app modules, resumes every
 * unfinished instance found in `stateDir`, and listens on loopback.
 *
 * @param options - see {@link LocalHostOptions}
 * @returns the running host
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const logger = options.logger ?? defaultLogger;
  installCoreHook();
  forwardFunctionLogs(logger);
  await loadModules(options.modules, logger);
  const engine = new Engine({
    stateDir: path.resolve(options.stateDir),
    activityConcurrency: Math.max(1, options.activityConcurrency ?? 8),
    clock: options.clock ?? "real",
    clockOffsetMs: options.clockOffsetMs ?? 0,
    deliveryBatch: Math.max(1, options.deliveryBatch ?? 100),
    compactionBytes: options.compactionBytes ?? 1024 * 1024,
    logger,
  });
  let baseUrl = "http://127.0.0.1:0";
  const taskHubName = options.taskHubName ?? "LocalTaskHub";
  const stateDir = path.resolve(options.stateDir);
  const access = options.access;
  const ctx: HttpContext = { engine, taskHubName, baseUrl: () => baseUrl, logger, access };
  const server: Server = createHostServer(ctx);
  baseUrl = await listen(server, options.port ?? 0);
  const accessTokenFile =
    access?.token === undefined ? undefined : await writeAccessToken(stateDir, access.token);
  engine.resumeAll();
  const stopSchedules = options.schedules
    ? startSchedules(ctx, logger, options.appSettings)
    : () => undefined;

  return {
    baseUrl,
    ...(accessTokenFile === undefined ? {} : { accessTokenFile }),
    functions: () => registeredFunctions().map((f) => ({ name: f.name, trigger: f.trigger })),
    routes: () => httpRoutes(),
    startNew: (name, opts) =>
      Promise.resolve().then(() => engine.startNew(name, opts?.instanceId, opts?.input)),
    getStatus: (id, opts) =>
      Promise.resolve(engine.getStatus(id, opts?.showHistory ?? false, opts?.showInput ?? true)),
    waitForCompletion: (id, opts) => engine.waitFor(id, opts?.timeoutMs ?? 60_000),
    listInstances: (filter) => Promise.resolve(engine.list(filter)),
    raiseEvent: async (id, name, data) => {
      if (engine.raiseEvent(id, name, data) === false) {
        throw noInstance(id);
      }
    },
    terminate: async (id, reason) => {
      if (engine.terminate(id, reason ?? "") === false) {
        throw noInstance(id);
      }
    },
    purge: async (id) => {
      engine.purge(id);
    },
    fireTimer: (name) => fireTimerFunction(ctx, name),
    stats: () => engine.stats(),
    stop: async () => {
      stopSchedules();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (accessTokenFile !== undefined) {
        await removeAccessToken(stateDir);
      }
      await engine.stop();
    },
  };
}
