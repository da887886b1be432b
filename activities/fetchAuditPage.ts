/**
 * fetchAuditPage: fetches the next pages of the directory audit log's "Update user" events within
 * the settle period and keeps the mobile phone changes among them (who, whom, when) in the run
 * store: evidence for the settled-numbers guard and the report's list of changed numbers.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import {
  fetchPagesToStore,
  MAX_PAGE_SIZE,
  runFetchActivity,
  type FetchActivityResult,
} from "../shared/discovery.js";
import { defineActivity } from "../shared/durable/index.js";
import {
  auditPath,
  toMobileChange,
  type DirectoryAudit,
  type MobileChange,
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
): Promise<FetchActivityResult> {
  const { graph, store } = services();
  return runFetchActivity(
    context,
    { runId: input.runId, list: "audit", firstPageNo: input.firstPageNo },
    () =>
      fetchPagesToStore<DirectoryAudit, MobileChange>(graph, store, {
        runId: input.runId,
        list: "audit",
        firstPageNo: input.firstPageNo,
        cursor: input.cursor,
        firstPath: auditPath(input.since, MAX_PAGE_SIZE),
        fallbackFirstPath: auditPath(input.since),
        headers: {},
        maxPages: input.maxPages,
        map: toMobileChange,
      }),
  );
}

/** The activity. */
export const fetchAuditPageActivity = defineActivity({
  name: "fetchAuditPage",
  input: fetchAuditPageInput,
  handler: fetchAuditPage,
});
