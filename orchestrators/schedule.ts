/**
 * The nightly timer: starts a run on `NIGHTLY_SCHEDULE` (NCRONTAB, default 02:00 every day)
 * unless one is still in progress, in which case it logs and waits for the next night.
 */
import type { InvocationContext, Timer } from "@azure/functions";
import * as df from "durable-functions";
import { startRunIfIdle } from "./runsApi.js";

/** Registered name. */
export const nightlyScheduleName = "nightlySchedule";

/**
 * The timer handler.
 *
 * @param timer - the timer trigger's payload.
 * @param client - the Durable client.
 * @param context - the invocation context.
 */
export async function nightlySchedule(
  timer: Timer,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<void> {
  const result = await startRunIfIdle(client, "timer");
  if (result.started) {
    context.info(
      `nightlySchedule: started run '${result.runId}'${timer.isPastDue ? " (the timer was past due)" : ""}.`,
    );
  } else {
    context.warn(
      `nightlySchedule: run '${result.runId}' is still in progress; no new run tonight.`,
    );
  }
}

df.app.client.timer(nightlyScheduleName, {
  schedule: "%NIGHTLY_SCHEDULE%",
  handler: nightlySchedule,
});
