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
import { CronExpressionParser } from "cron-parser";
import { Engine } from "./engine.js";
import {
  createHostServer,
  httpRoutes,
  invokeClientFunction,
  type HttpContext,
  type HttpRoute,
} from "./http.js";
import { findFunction, installCoreHook, registeredFunctions, setLogSink } from "./registry.js";
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
export { matchRoute, clientBindingData } from "./http.js";
export type { HttpRoute } from "./http.js";

/** A running local host. */
export interface LocalHost {
  /** `http://127.0.0.1:N`; `/api/*` and `/durabletask/*` are served there. */
  baseUrl: string;
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

function resolveSchedule(
  schedule: string,
  appSettings: Readonly<Record<string, string | undefined>>,
): string {
  // Functions resolves `%Name%` schedules from app settings.
  const m = /^%(.+)%$/.exec(schedule.trim());
  return m ? (appSettings[m[1]!] ?? schedule) : schedule;
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
  for (const m of options.modules) {
    await import(toImportable(m));
  }
  if (options.modules.length > 0 && registeredFunctions().length === 0) {
    logger.warn(
      "LocalHost: the app modules registered no functions; '@azure/functions' was probably used before the host was imported, which puts it in test mode for the whole process.",
    );
  }
  const taskHubName = options.taskHubName ?? "LocalTaskHub";
  const engine = new Engine({
    stateDir: path.resolve(options.stateDir),
    activityConcurrency: Math.max(1, options.activityConcurrency ?? 8),
    clock: options.clock ?? "real",
    deliveryBatch: Math.max(1, options.deliveryBatch ?? 100),
    compactionBytes: options.compactionBytes ?? 1024 * 1024,
    logger,
  });
  let baseUrl = "http://127.0.0.1:0";
  const ctx: HttpContext = { engine, taskHubName, baseUrl: () => baseUrl, logger };
  const server: Server = createHostServer(ctx);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  engine.resumeAll();

  const fireTimer = async (name: string): Promise<void> => {
    const fn = findFunction(name);
    if (!fn || fn.trigger !== "timerTrigger") {
      throw new Error(`LocalHost: no timer function named '${name}' is registered.`);
    }
    await invokeClientFunction(ctx, fn, {
      string: JSON.stringify({
        Schedule: { AdjustForDST: true },
        ScheduleStatus: null,
        IsPastDue: false,
      }),
    });
  };

  const scheduleTimers: NodeJS.Timeout[] = [];
  let stopped = false;
  if (options.schedules) {
    for (const fn of registeredFunctions().filter((f) => f.trigger === "timerTrigger")) {
      const binding = fn.metadata.bindings[fn.triggerBindingName]!;
      const schedule = resolveSchedule(binding.schedule ?? "", options.appSettings ?? process.env);
      const arm = (): void => {
        if (stopped) {
          return;
        }
        let next: number;
        try {
          next = CronExpressionParser.parse(schedule, { currentDate: new Date() }).next().getTime();
        } catch (err) {
          logger.error(
            `LocalHost: timer function '${fn.name}' has an invalid schedule: ${(err as Error).message}.`,
          );
          return;
        }
        const t = setTimeout(
          () => {
            fireTimer(fn.name)
              .catch((err: unknown) =>
                logger.error(
                  `LocalHost: timer function '${fn.name}' failed: ${(err as Error).message}.`,
                ),
              )
              .finally(arm);
          },
          Math.min(Math.max(0, next - Date.now()), 2_147_000_000),
        );
        scheduleTimers.push(t);
      };
      if (binding.runOnStartup) {
        fireTimer(fn.name)
          .catch((err: unknown) =>
            logger.error(
              `LocalHost: timer function '${fn.name}' failed: ${(err as Error).message}.`,
            ),
          )
          .finally(arm);
      } else {
        arm();
      }
    }
  }

  return {
    baseUrl,
    functions: () => registeredFunctions().map((f) => ({ name: f.name, trigger: f.trigger })),
    routes: () => httpRoutes(),
    startNew: (name, opts) =>
      Promise.resolve().then(() => engine.startNew(name, opts?.instanceId, opts?.input)),
    getStatus: (id, opts) =>
      Promise.resolve(engine.getStatus(id, opts?.showHistory ?? false, opts?.showInput ?? true)),
    waitForCompletion: (id, opts) => engine.waitFor(id, opts?.timeoutMs ?? 60_000),
    listInstances: (filter) => Promise.resolve(engine.list(filter)),
    raiseEvent: async (id, name, data) => {
      const r = engine.raiseEvent(id, name, data);
      if (r === false) {
        throw new Error(`LocalHost: no instance with id '${id}' exists.`);
      }
    },
    terminate: async (id, reason) => {
      const r = engine.terminate(id, reason ?? "");
      if (r === false) {
        throw new Error(`LocalHost: no instance with id '${id}' exists.`);
      }
    },
    purge: async (id) => {
      engine.purge(id);
    },
    fireTimer,
    stats: () => engine.stats(),
    stop: async () => {
      stopped = true;
      for (const t of scheduleTimers) {
        clearTimeout(t);
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await engine.stop();
    },
  };
}
