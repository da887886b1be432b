/**
 * planChunks: decides every user of a range of stored user pages (targeting rules, number
 * normalisation) and writes the plan and the chunks of writes to the run store.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { storedFirst } from "../shared/existingMethods.js";
import { readPhoneMethods } from "../shared/graph/phoneReader.js";
import { logEvent } from "../shared/log/events.js";
import { planUserPages, type PlanArgs, type PlanResult } from "../shared/planning.js";
import { runIdSchema, runSettingsSchema } from "../shared/run/index.js";
import { services } from "../shared/services.js";

const pageNo = z.number().int().min(0);

/** Input: see {@link PlanArgs}. */
export const planChunksInput = z.strictObject({
  runId: runIdSchema,
  settings: runSettingsSchema,
  stagingGroupSet: z.boolean(),
  roleHoldersRead: z.boolean(),
  fromPage: pageNo,
  toPage: pageNo,
  reportPages: pageNo,
  excludedPages: pageNo,
  chunkSize: z.number().int().min(1),
  firstChunkNo: pageNo,
  writesSoFar: z.number().int().min(0),
}) satisfies z.ZodType<PlanArgs>;

/**
 * Plans user pages `[fromPage, toPage)`.
 *
 * @param input - run, settings snapshot, page range and chunk numbering.
 * @param context - invocation context: gets a seed-style line per unusable number.
 * @returns counts and chunk numbers (no personal data).
 */
export async function planChunks(input: PlanArgs, context: InvocationContext): Promise<PlanResult> {
  const { store, graph, limiter } = services();
  const result = await planUserPages(
    store,
    input,
    {
      error: (m) => context.error(m),
      warn: (m) => context.warn(m),
      info: (m) => context.info(m),
      debug: (m) => context.debug(m),
    },
    // The census read these users' methods already; only those it could not read are read again.
    storedFirst(store, input, (userIds) => readPhoneMethods(graph, userIds, { limiter })),
  );
  logEvent(context, "chunksPlanned", {
    runId: input.runId,
    fromPage: input.fromPage,
    toPage: input.toPage,
    users: result.users,
    writes: result.writes,
    chunks: result.chunks,
    decisions: result.decisions,
  });
  return result;
}

/** The activity. */
export const planChunksActivity = defineActivity({
  name: "planChunks",
  input: planChunksInput,
  handler: planChunks,
});
