/**
 * fetchUsersPage: fetches the next pages of candidate users (all users, or a staging group's
 * transitive members) or of an exclusion group's members, writing each page to the run store.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import {
  fetchPagesToStore,
  firstUsersRequest,
  toIdOnly,
  toStoredUser,
  type StoredUser,
  type UserSource,
} from "../shared/discovery.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { logEvent } from "../shared/log/events.js";
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
export type FetchUsersPageResult =
  { ok: true; pages: number; items: number; nextCursor?: string } | { ok: false; error: string };

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
  try {
    const result = await fetchPagesToStore<StoredUser, unknown>(graph, store, {
      runId: input.runId,
      list: input.list,
      firstPageNo: input.firstPageNo,
      cursor: input.cursor,
      firstPath: first.path,
      headers: first.headers,
      maxPages: input.maxPages,
      map: idsOnly ? toIdOnly : toStoredUser,
    });
    logEvent(context, "pagesFetched", {
      runId: input.runId,
      list: input.list,
      firstPageNo: input.firstPageNo,
      pages: result.pages,
      items: result.items,
      more: result.nextCursor !== undefined,
    });
    return { ok: true, ...result };
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return { ok: false, error: error.message };
    }
    throw error;
  }
}

df.app.activity(fetchUsersPageName, { handler: fetchUsersPage });
