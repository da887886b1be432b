/**
 * recheckChunks: for a range of chunks, records the users who must not be written now (in an
 * exclusion group now, holding a role now, and for reruns: disabled, deleted, no longer a member,
 * or holding another number), so provisionChunk leaves them out as `changedSincePlan`.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { recheckChunk } from "../shared/guards/recheck.js";
import { logEvent } from "../shared/log/events.js";
import { runIdSchema } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input: the run, the chunks to re-check, and how deep to look. */
export const recheckChunksInput = z.strictObject({
  runId: runIdSchema,
  chunkNos: z.array(z.number().int().min(0)),
  /** Re-read each user (reruns); otherwise only group and role membership is checked. */
  rereadUsers: z.boolean(),
  defaultRegion: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  allowLandline: z.boolean(),
});

/**
 * Re-checks the chunks.
 *
 * @param input - run, chunks and depth.
 * @param context - invocation context, for the event.
 * @returns how many users were left out.
 */
export async function recheckChunks(
  input: z.infer<typeof recheckChunksInput>,
  context: InvocationContext,
): Promise<{ changed: number }> {
  const { graph, store } = services();
  let changed = 0;
  for (const chunkNo of input.chunkNos) {
    const left = await recheckChunk(graph, store, {
      runId: input.runId,
      chunkNo,
      rereadUsers: input.rereadUsers,
      settings: { defaultRegion: input.defaultRegion, allowLandline: input.allowLandline },
    });
    changed += left.length;
  }
  logEvent(context, "chunksRechecked", {
    runId: input.runId,
    chunks: input.chunkNos.length,
    changed,
  });
  return { changed };
}

/** The activity. */
export const recheckChunksActivity = defineActivity({
  name: "recheckChunks",
  input: recheckChunksInput,
  handler: recheckChunks,
});
