/**
 * Structured log events: one JSON object per line with an `event` name and the run's ids and
 * counts, so Log Analytics can parse them with `parse_json`. Never a phone number or a UPN: only
 * object ids, run ids and counts go into events (the runbook's `Status:` lines carry the UPN).
 */
import type { Logger } from "./logger.js";

/** Names of the events the app writes. */
export type RunEventName =
  | "scopeResolved"
  | "pagesFetched"
  | "roleHoldersRead"
  | "censusSettled"
  | "numberChanged"
  | "sharedNumber"
  | "runStarted"
  | "runsExpired"
  | "rerunStarted"
  | "runCancelled"
  | "approvalRequested"
  | "runApproved"
  | "holdersRefreshed"
  | "chunksRechecked"
  | "chunksPlanned"
  | "chunkProvisioned"
  | "readinessCounted"
  | "methodsPolicyChecked"
  | "runSummarized";

/**
 * Writes one structured event at info level.
 *
 * @param logger - where to write (an activity's InvocationContext or a Logger).
 * @param event - the event name.
 * @param fields - ids and counts; values must be JSON.
 */
export function logEvent(
  logger: Pick<Logger, "info">,
  event: RunEventName,
  fields: Record<string, unknown>,
): void {
  logger.info(JSON.stringify({ event, ...fields }));
}
