/**
 * countReadiness: counts, from the run's stored registration report, the users who depend on SMS
 * or voice alone, those with no method at all and those with a phishing-resistant method, every
 * run (dry runs included). The counts and the first names go to `readiness.json` for the report,
 * every name to `readiness.csv`, and the counts (no names) to a structured event the workbook
 * reads.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { logEvent } from "../shared/log/events.js";
import { countReadiness as count } from "../shared/readiness.js";
import { runIdSchema, runKeys } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input: the run and its stored report pages. */
export const countReadinessInput = z.strictObject({
  runId: runIdSchema,
  reportPages: z.number().int().min(0),
});

/** Result: the counts (no names cross the Durable boundary). */
export interface CountReadinessResult {
  counted: number;
  smsOrVoiceOnly: number;
  noMethod: number;
  phishingResistant: number;
}

/**
 * Counts the run's readiness.
 *
 * @param input - the run and its report pages.
 * @param context - invocation context, for the event.
 */
export async function countReadiness(
  input: z.infer<typeof countReadinessInput>,
  context: InvocationContext,
): Promise<CountReadinessResult> {
  const { store } = services();
  const readiness = await count(store, {
    runId: input.runId,
    reportPages: input.reportPages,
    csvKey: runKeys.readinessCsv(input.runId),
  });
  await store.putJson(runKeys.readiness(input.runId), readiness);
  const { counted, smsOrVoiceOnly, noMethod, phishingResistant } = readiness;
  const result = { counted, smsOrVoiceOnly, noMethod, phishingResistant };
  logEvent(context, "readinessCounted", { runId: input.runId, ...result });
  return result;
}

/** The activity. */
export const countReadinessActivity = defineActivity({
  name: "countReadiness",
  input: countReadinessInput,
  handler: countReadiness,
});
