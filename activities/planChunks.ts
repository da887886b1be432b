/**
 * planChunks: decides every user of a range of stored user pages (targeting rules, number
 * normalisation) and writes the plan and the chunks of writes to the run store.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { planUserPages, type PlanArgs, type PlanResult } from "../shared/planning.js";
import { readPhoneMethods } from "../shared/graph/phoneReader.js";
import { logEvent } from "../shared/log/events.js";
import { services } from "../shared/services.js";

/** Registered name. */
export const planChunksName = "planChunks";

/** Input: see {@link PlanArgs}. */
export type PlanChunksInput = PlanArgs;

/** Result: counts and chunk numbers (no personal data). */
export type PlanChunksResult = PlanResult;

/**
 * Plans user pages `[fromPage, toPage)`.
 *
 * @param input - run, settings snapshot, page range and chunk numbering.
 * @param context - invocation context: gets a seed-style line per unusable number.
 */
export async function planChunks(
  input: PlanChunksInput,
  context: InvocationContext,
): Promise<PlanChunksResult> {
  const { store, graph } = services();
  const result = await planUserPages(
    store,
    input,
    {
      error: (m) => context.error(m),
      warn: (m) => context.warn(m),
      info: (m) => context.info(m),
      debug: (m) => context.debug(m),
    },
    (userIds) => readPhoneMethods(graph, userIds),
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

df.app.activity(planChunksName, { handler: planChunks });
