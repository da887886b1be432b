/**
 * refreshHolders: reads the exclusion groups' members and the role holders again, just before a
 * run writes after a wait (an approval) or a rerun writes for an older run.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { refreshHolders as refresh } from "../shared/guards/recheck.js";
import { logEvent } from "../shared/log/events.js";
import { runIdSchema } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input: the run, its exclusion groups, and whether admins are skipped. */
export const refreshHoldersInput = z.strictObject({
  runId: runIdSchema,
  excludedGroupIds: z.array(z.string().min(1)),
  skipAdmins: z.boolean(),
});

/**
 * Reads the holders again.
 *
 * @param input - run, groups and the admin setting.
 * @param context - invocation context, for the event.
 * @returns how many members and holders, or why they cannot be read (the run stops).
 */
export async function refreshHolders(
  input: z.infer<typeof refreshHoldersInput>,
  context: InvocationContext,
): Promise<{ ok: true; excluded: number; roleHolders: number } | { ok: false; error: string }> {
  const { graph, store } = services();
  try {
    const counts = await refresh(graph, store, input);
    logEvent(context, "holdersRefreshed", { runId: input.runId, ...counts });
    return { ok: true, ...counts };
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return {
        ok: false,
        error: `Nothing is written: the re-check before writing failed: ${error.message}`,
      };
    }
    throw error;
  }
}

/** The activity. */
export const refreshHoldersActivity = defineActivity({
  name: "refreshHolders",
  input: refreshHoldersInput,
  handler: refreshHolders,
});
