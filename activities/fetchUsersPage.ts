/**
 * fetchUsersPage: fetches the next pages of candidate users (all users, or a staging group's
 * transitive members) or of an exclusion group's members, writing each page to the run store.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import {
  fetchPagesToStore,
  firstUsersRequest,
  runFetchActivity,
  type FetchActivityResult,
} from "../shared/discovery.js";
import { defineActivity } from "../shared/durable/index.js";
import { runIdSchema, toDirectoryUser, toIdOnly, type DirectoryUser } from "../shared/run/index.js";
import { METHODS } from "../shared/settings/index.js";
import { services } from "../shared/services.js";

/** Input of one call. */
export const fetchUsersPageInput = z.strictObject({
  runId: runIdSchema,
  list: z.enum(["users", "excluded"]),
  source: z.discriminatedUnion("kind", [
    z.strictObject({ kind: z.literal("allUsers") }),
    z.strictObject({ kind: z.literal("groupMembers"), groupId: z.string().min(1) }),
  ]),
  /** Number of the first page this call writes. */
  firstPageNo: z.number().int().min(0),
  /** The previous call's `nextCursor`; absent for the first call. */
  cursor: z.string().optional(),
  maxPages: z.number().int().min(1),
  /** The run's methods: which user properties to select (the mobile phone's alone when absent). */
  methods: z.array(z.enum(METHODS)).min(1).optional(),
});

/** Input of one call. */
export type FetchUsersPageInput = z.infer<typeof fetchUsersPageInput>;

/**
 * Fetches and stores up to `maxPages` pages.
 *
 * @param input - run, list, source and cursor.
 * @param context - invocation context, for logs.
 * @returns pages and users written, and where to go on; or a fatal error.
 */
export async function fetchUsersPage(
  input: FetchUsersPageInput,
  context: InvocationContext,
): Promise<FetchActivityResult> {
  const { graph, store } = services();
  const idsOnly = input.list === "excluded";
  const first = firstUsersRequest(input.source, idsOnly, input.methods);
  return runFetchActivity(
    context,
    { runId: input.runId, list: input.list, firstPageNo: input.firstPageNo },
    () =>
      fetchPagesToStore<DirectoryUser, unknown>(graph, store, {
        runId: input.runId,
        list: input.list,
        firstPageNo: input.firstPageNo,
        cursor: input.cursor,
        firstPath: first.path,
        headers: first.headers,
        maxPages: input.maxPages,
        map: idsOnly ? toIdOnly : toDirectoryUser,
      }),
  );
}

/** The activity. */
export const fetchUsersPageActivity = defineActivity({
  name: "fetchUsersPage",
  input: fetchUsersPageInput,
  handler: fetchUsersPage,
});
