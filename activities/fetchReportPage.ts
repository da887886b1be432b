/**
 * fetchReportPage: fetches the next pages of the authentication methods registration report
 * (who is MFA-registered, who is an admin, which methods) into the run store.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import {
  fetchPagesToStore,
  runFetchActivity,
  type FetchActivityResult,
  MAX_PAGE_SIZE,
  REPORT_PATH,
  toStoredReportRow,
  type StoredReportRow,
} from "../shared/discovery.js";
import { query } from "../shared/graph/paths.js";
import { services } from "../shared/services.js";

/** Registered name. */
export const fetchReportPageName = "fetchReportPage";

/** Input of one call. */
export interface FetchReportPageInput {
  runId: string;
  firstPageNo: number;
  cursor?: string;
  maxPages: number;
}

/** Result of one call, or a fatal error (no permission, no licence). */
export type FetchReportPageResult = FetchActivityResult;

/**
 * Fetches and stores up to `maxPages` report pages. The reports API allows 5 requests per 10 s
 * per app and tenant, so pages are as large as Graph accepts: `$top=999`, and Graph's default
 * page size if it refuses that.
 *
 * @param input - run and cursor.
 * @param context - invocation context, for logs.
 */
export async function fetchReportPage(
  input: FetchReportPageInput,
  context: InvocationContext,
): Promise<FetchReportPageResult> {
  const { graph, store } = services();
  return runFetchActivity(
    context,
    { runId: input.runId, list: "report", firstPageNo: input.firstPageNo },
    () =>
      fetchPagesToStore<StoredReportRow, StoredReportRow>(graph, store, {
        runId: input.runId,
        list: "report",
        firstPageNo: input.firstPageNo,
        cursor: input.cursor,
        firstPath: `${REPORT_PATH}${query({ $top: MAX_PAGE_SIZE })}`,
        fallbackFirstPath: REPORT_PATH,
        headers: {},
        maxPages: input.maxPages,
        map: toStoredReportRow,
      }),
  );
}

df.app.activity(fetchReportPageName, { handler: fetchReportPage });
