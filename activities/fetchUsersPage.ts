/**
 * fetchUsersPage: fetches the next pages of candidate users (all users, or a staging group's
 * transitive members) or of an exclusion group's members, writing each page to the run store.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import {
  fetchPagesToStore,
  runFetchActivity,
  type FetchActivityResult,
  firstUsersRequest,
  toIdOnly,
  toStoredUser,
  type StoredUser,
  type UserSource,
} from "../shared/discovery.js";
import { services } from "../shared/services.js";

/** Registered name. */
export const fetchUsersPageName = "fetchUsersPage";

/** Input of one call. */
export interface FetchUsersPageInput {
  runId: string;
  list: "users" | "excluded";
  source: UserSource;
  /** Number of the first page this call writes. */
  firstPageNo: number;
  /** The previous call's `nextCursor`; absent for the first call. */
  cursor?: string;
  maxPages: number;
}

/** Result of one call: pages and users written, and where to go on; or a fatal error. */
export type FetchUsersPageResult = FetchActivityResult;

/**
 * Fetches and stores up to `maxPages` pages.
 *
 * @param input - run, list, source and cursor.
 * @param context - invocation context, for logs.
 */
export async function fetchUsersPage(
  input: FetchUsersPageInput,
  context: InvocationContext,
): Promise<FetchUsersPageResult> {
  const { graph, store } = services();
  const idsOnly = input.list === "excluded";
  const first = firstUsersRequest(input.source, idsOnly);
  return runFetchActivity(
    context,
    { runId: input.runId, list: input.list, firstPageNo: input.firstPageNo },
    () =>
      fetchPagesToStore<StoredUser, unknown>(graph, store, {
        runId: input.runId,
        list: input.list,
        firstPageNo: input.firstPageNo,
        cursor: input.cursor,
        firstPath: first.path,
        headers: first.headers,
        maxPages: input.maxPages,
        map: idsOnly ? toIdOnly : toStoredUser,
      }),
  );
}

df.app.activity(fetchUsersPageName, { handler: fetchUsersPage });
