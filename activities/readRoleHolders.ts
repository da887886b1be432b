/**
 * readRoleHolders: reads who holds a directory role (active and PIM-eligible, directly or through
 * role-assignable groups) and keeps the user ids in the run store, so planning skips every one of
 * them as an admin whatever the registration report says or omits.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { readRoleHolders as readHolders } from "../shared/guards/admins.js";
import { logEvent } from "../shared/log/events.js";
import { runIdSchema, runKeys } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input: the run. */
export const readRoleHoldersInput = z.strictObject({ runId: runIdSchema });

/** Result: how many holders, or why admin status cannot be determined (the run stops). */
export type ReadRoleHoldersResult =
  { ok: true; holders: number; note?: string } | { ok: false; error: string };

/**
 * Reads the role holders.
 *
 * @param input - the run.
 * @param context - invocation context, for logs.
 */
export async function readRoleHolders(
  input: z.infer<typeof readRoleHoldersInput>,
  context: InvocationContext,
): Promise<ReadRoleHoldersResult> {
  const { graph, store } = services();
  try {
    const holders = await readHolders(graph);
    await store.putJson(runKeys.roleHolders(input.runId), holders.userIds);
    if (holders.note) {
      context.warn(`readRoleHolders: ${holders.note}`);
    }
    logEvent(context, "roleHoldersRead", {
      runId: input.runId,
      holders: holders.userIds.length,
      principals: holders.principals,
    });
    return holders.note
      ? { ok: true, holders: holders.userIds.length, note: holders.note }
      : { ok: true, holders: holders.userIds.length };
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return {
        ok: false,
        error: `Admin status cannot be determined, so nothing is written: ${error.message}`,
      };
    }
    throw error;
  }
}

/** The activity. */
export const readRoleHoldersActivity = defineActivity({
  name: "readRoleHolders",
  input: readRoleHoldersInput,
  handler: readRoleHolders,
});
