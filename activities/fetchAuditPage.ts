/**
 * fetchAuditPage: fetches the next pages of the directory audit log's "Update user" events within
 * the settle period and keeps the changes of the attributes methods are made from among them
 * (who, whom, when, which) in the run store: evidence for the settled-values guard and the
 * report's list of changed numbers.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import {
  fetchPagesToStore,
  type FetchPagesResult,
  MAX_PAGE_SIZE,
  runFetchActivity,
  type FetchActivityResult,
} from "../shared/discovery.js";
import { defineActivity } from "../shared/durable/index.js";
import {
  auditPath,
  toValueChange,
  type DirectoryAudit,
  type ValueChange,
} from "../shared/guards/audit.js";
import { runIdSchema } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input of one call. */
export const fetchAuditPageInput = z.strictObject({
  runId: runIdSchema,
  /** Start of the settle period (ISO). */
  since: z.iso.datetime(),
  firstPageNo: z.number().int().min(0),
  cursor: z.string().optional(),
  maxPages: z.number().int().min(1),
});

/**
 * Fetches and stores up to `maxPages` audit pages. The audit log is read under the reports
 * limits, so pages are as large as Graph accepts.
 *
 * @param input - run, period and cursor.
 * @param context - invocation context, for logs.
 */
export async function fetchAuditPage(
  input: z.infer<typeof fetchAuditPageInput>,
  context: InvocationContext,
): Promise<FetchAuditResult> {
  const { graph, store } = services();
  const result = await runFetchActivity(
    context,
    { runId: input.runId, list: "audit", firstPageNo: input.firstPageNo },
    () =>
      fetchPagesToStore<DirectoryAudit, ValueChange>(graph, store, {
        runId: input.runId,
        list: "audit",
        firstPageNo: input.firstPageNo,
        cursor: input.cursor,
        firstPath: auditPath(input.since, MAX_PAGE_SIZE),
        fallbackFirstPath: auditPath(input.since),
        headers: {},
        maxPages: input.maxPages,
        map: toValueChange,
      }),
  );
  if (!result.ok && /\b403\b/.test(result.error)) {
    // Evidence, not a precondition: without it the guard falls back to the number history alone
    // and users it does not know yet wait the settle period (fail closed), so the run goes on.
    context.warn(`fetchAuditPage: ${AUDIT_UNAVAILABLE} ${result.error}`);
    return { ok: true, pages: 0, items: 0, auditUnavailable: result.error };
  }
  return result;
}

/** Why the audit log could not serve as evidence, in the report and the log. */
export const AUDIT_UNAVAILABLE =
  "The directory audit log could not be read, so users the number history does not know yet wait NUMBER_SETTLE_DAYS before their number is written. Graph needs 'AuditLog.Read.All' and 'Directory.Read.All' for it.";

/** What one call stored; `auditUnavailable` when Graph refused the audit log (the run goes on). */
export type FetchAuditResult =
  FetchActivityResult | ({ ok: true; auditUnavailable: string } & FetchPagesResult);

/** The activity. */
export const fetchAuditPageActivity = defineActivity({
  name: "fetchAuditPage",
  input: fetchAuditPageInput,
  handler: fetchAuditPage,
});
