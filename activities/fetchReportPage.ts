/**
 * fetchReportPage: fetches the next pages of the authentication methods registration report
 * (who is MFA-registered, who is an admin, which methods) into the run store.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import {
  fetchPagesToStore,
  MAX_PAGE_SIZE,
  REPORT_PATH,
  runFetchActivity,
  type FetchActivityResult,
} from "../shared/discovery.js";
import { defineActivity } from "../shared/durable/index.js";
import { query } from "../shared/graph/paths.js";
import { runIdSchema, toRegistrationRow, type RegistrationRow } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input of one call. */
export const fetchReportPageInput = z.strictObject({
  runId: runIdSchema,
  firstPageNo: z.number().int().min(0),
  cursor: z.string().optional(),
  maxPages: z.number().int().min(1),
});

/** Input of one call. */
export type FetchReportPageInput = z.infer<typeof fetchReportPageInput>;

/**
 * Fetches and stores up to `maxPages` report pages. The reports API allows 5 requests per 10 s
 * per app and tenant, so pages are as large as Graph accepts: `$top=999`, and Graph's default
 * page size if it refuses that.
 *
 * @param input - run and cursor.
 * @param context - invocation context, for logs.
 * @returns what was stored, or a fatal error (no permission, no licence).
 */
export async function fetchReportPage(
  input: FetchReportPageInput,
  context: InvocationContext,
): Promise<FetchActivityResult> {
  const { graph, store } = services();
  return runFetchActivity(
    context,
    { runId: input.runId, list: "report", firstPageNo: input.firstPageNo },
    () =>
      fetchPagesToStore<RegistrationRow, RegistrationRow>(graph, store, {
        runId: input.runId,
        list: "report",
        firstPageNo: input.firstPageNo,
        cursor: input.cursor,
        firstPath: `${REPORT_PATH}${query({ $top: MAX_PAGE_SIZE })}`,
        fallbackFirstPath: REPORT_PATH,
        headers: {},
        maxPages: input.maxPages,
        map: toRegistrationRow,
      }),
  );
}

/** The activity. */
export const fetchReportPageActivity = defineActivity({
  name: "fetchReportPage",
  input: fetchReportPageInput,
  handler: fetchReportPage,
});
