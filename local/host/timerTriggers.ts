/**
 * The app's timer-triggered functions: firing one on demand, and (with the `schedules` option)
 * on its NCRONTAB schedule, resolved from app settings when written as `%Name%`.
 */
import { CronExpressionParser } from "cron-parser";
import { invokeClientFunction } from "./clientBinding.js";
import type { HttpContext } from "./httpCommon.js";
import { findFunction, registeredFunctions, type RegisteredFunction } from "./registry.js";
import type { HostLogger } from "./types.js";

// Node timers cannot be armed further ahead than about 24.8 days.
const MAX_NODE_DELAY = 2_147_000_000;

/** App settings that `%Name%` binding expressions resolve from. */
export type AppSettings = Readonly<Record<string, string | undefined>>;

function resolveSchedule(schedule: string, appSettings: AppSettings): string {
  // Functions resolves `%Name%` schedules from app settings.
  const m = /^%(.+)%$/.exec(schedule.trim());
  return m ? (appSettings[m[1]!] ?? schedule) : schedule;
}

/**
 * Runs a timer-triggered function now, with the timer data the worker passes.
 *
 * @param ctx - host context (for the `durableClient` binding)
 * @param name - function name
 */
export async function fireTimerFunction(ctx: HttpContext, name: string): Promise<void> {
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
}

/** Fires one timer function on its schedule (and at once with `runOnStartup`) until stopped. */
function scheduleFunction(
  ctx: HttpContext,
  fn: RegisteredFunction,
  logger: HostLogger,
  handles: { stopped: boolean; timers: NodeJS.Timeout[] },
  appSettings: AppSettings,
): void {
  const binding = fn.metadata.bindings[fn.triggerBindingName]!;
  const schedule = resolveSchedule(binding.schedule ?? "", appSettings);
  const fire = (): void => {
    fireTimerFunction(ctx, fn.name)
      .catch((err: unknown) =>
        logger.error(`LocalHost: timer function '${fn.name}' failed: ${(err as Error).message}.`),
      )
      .finally(arm);
  };
  const arm = (): void => {
    if (handles.stopped) {
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
    handles.timers.push(setTimeout(fire, Math.min(Math.max(0, next - Date.now()), MAX_NODE_DELAY)));
  };
  if (binding.runOnStartup) {
    fire();
  } else {
    arm();
  }
}

/**
 * Starts every registered timer function on its schedule.
 *
 * @param ctx - host context
 * @param logger - where failures go
 * @param appSettings - what `%Name%` schedules resolve from (default `process.env`)
 * @returns a function that stops all schedules
 */
export function startSchedules(
  ctx: HttpContext,
  logger: HostLogger,
  appSettings: AppSettings = process.env,
): () => void {
  const handles = { stopped: false, timers: [] as NodeJS.Timeout[] };
  for (const fn of registeredFunctions().filter((f) => f.trigger === "timerTrigger")) {
    scheduleFunction(ctx, fn, logger, handles, appSettings);
  }
  return () => {
    handles.stopped = true;
    for (const t of handles.timers) {
      clearTimeout(t);
    }
  };
}
