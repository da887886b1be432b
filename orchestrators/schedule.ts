/**
 * The nightly timer: starts a run on `NIGHTLY_SCHEDULE` (NCRONTAB, default 02:00 every day)
 * unless one is still in progress, in which case it logs and waits for the next night.
 */
import type { InvocationContext, Timer } from "@azure/functions";
import * as df from "durable-functions";
import { logEvent } from "../shared/log/events.js";
import { services } from "../shared/services.js";
import { expireRuns } from "../shared/store/retention.js";
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
  await expireOldRuns(client, context);
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

/**
 * Numbers do not linger: before each night, the Durable history of runs finished more than
 * `RUN_RETENTION_DAYS` ago is purged, and a run store in a folder deletes those runs' data (in
 * Azure the run-store container's lifecycle rule deletes it).
 */
async function expireOldRuns(client: df.DurableClient, context: InvocationContext): Promise<void> {
  const { settings, store } = services();
  const now = new Date();
  const createdTimeTo = new Date(now.getTime() - settings.runRetentionDays * 86_400_000);
  const purged = await client.purgeInstanceHistoryBy({
    createdTimeFrom: new Date(0),
    createdTimeTo,
    runtimeStatus: [
      df.OrchestrationRuntimeStatus.Completed,
      df.OrchestrationRuntimeStatus.Failed,
      df.OrchestrationRuntimeStatus.Terminated,
    ],
  });
  const expired = store.describe().startsWith("file:")
    ? await expireRuns(store, { retentionDays: settings.runRetentionDays, now })
    : [];
  logEvent(context, "runsExpired", {
    instancesPurged: purged.instancesDeleted,
    runsDeleted: expired.length,
    retentionDays: settings.runRetentionDays,
  });
}

df.app.client.timer(nightlyScheduleName, {
  schedule: "%NIGHTLY_SCHEDULE%",
  handler: nightlySchedule,
});
