/**
 * fileCensus: files the normalised numbers (as keyed hashes) of a range of stored user pages, by
 * user and by number, for the settled-numbers and one-number-one-user guards.
 */
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { readPhoneMethods } from "../shared/graph/phoneReader.js";
import { fileCensus as file } from "../shared/guards/census.js";
import { runIdSchema, runSettingsSchema } from "../shared/run/index.js";
import { services } from "../shared/services.js";

const pageNo = z.number().int().min(0);

/** Input: the run, its settings snapshot, the user pages `[fromPage, toPage)` and the range number. */
export const fileCensusInput = z.strictObject({
  runId: runIdSchema,
  settings: runSettingsSchema,
  fromPage: pageNo,
  toPage: pageNo,
  range: pageNo,
  reportPages: pageNo,
});

/**
 * Files one range.
 *
 * @param input - run, settings and range.
 * @returns users filed and how many hold a usable number.
 */
export async function fileCensus(
  input: z.infer<typeof fileCensusInput>,
): Promise<{ users: number; withValue: number }> {
  const { store, graph, limiter } = services();
  // Under the write limiter: these reads draw on the same Graph budget.
  return file(store, input, (userIds) => readPhoneMethods(graph, userIds, { limiter }));
}

/** The activity. */
export const fileCensusActivity = defineActivity({
  name: "fileCensus",
  input: fileCensusInput,
  handler: fileCensus,
});
