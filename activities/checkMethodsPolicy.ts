/**
 * checkMethodsPolicy: the pre-flight of the tenant's authentication methods policy, after
 * planning and before any write (dry runs included). It keeps what it found in `preflight.json`
 * for the report, and says whether the run may write.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { logEvent } from "../shared/log/events.js";
import { checkMethodsPolicy as check, type MethodPreflight } from "../shared/preflight.js";
import { runIdSchema, runKeys } from "../shared/run/index.js";
import { METHODS } from "../shared/settings/index.js";
import { services } from "../shared/services.js";

/** Input: the run, its methods, the chunks its plan wrote and its start. */
export const checkMethodsPolicyInput = z.strictObject({
  runId: runIdSchema,
  methods: z.array(z.enum(METHODS)).min(1),
  chunks: z.number().int().min(0),
  /** The run's start (orchestration time): it decides the SMS and voice retirement notes. */
  startedAt: z.iso.datetime(),
});

/** Result: the counts per method and the notes, or the sentence that stops the run. */
export type CheckMethodsPolicyResult =
  | { ok: true; methods: MethodPreflight[]; notes: string[] }
  | { ok: false; error: string; methods?: MethodPreflight[] };

/**
 * Checks the policy.
 *
 * @param input - run, methods, chunks and start.
 * @param context - invocation context, for the log and the event.
 */
export async function checkMethodsPolicy(
  input: z.infer<typeof checkMethodsPolicyInput>,
  context: InvocationContext,
): Promise<CheckMethodsPolicyResult> {
  const { graph, store } = services();
  try {
    const preflight = await check(graph, store, input);
    await store.putJson(runKeys.preflight(input.runId), preflight);
    for (const note of preflight.notes) {
      context.warn(`checkMethodsPolicy: ${note}`);
    }
    logEvent(context, "methodsPolicyChecked", {
      runId: input.runId,
      stopped: preflight.stop !== undefined,
      methods: preflight.methods.map(({ method, planned, covered, notCovered }) => ({
        method,
        planned,
        covered,
        notCovered,
      })),
    });
    if (preflight.stop) {
      context.error(`checkMethodsPolicy: ${preflight.stop}`);
      return { ok: false, error: preflight.stop, methods: preflight.methods };
    }
    return { ok: true, methods: preflight.methods, notes: preflight.notes };
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return {
        ok: false,
        error: `The authentication methods policy cannot be read, so nothing is written until it is known that the registered methods can be used: ${error.message}`,
      };
    }
    throw error;
  }
}

/** The activity. */
export const checkMethodsPolicyActivity = defineActivity({
  name: "checkMethodsPolicy",
  input: checkMethodsPolicyInput,
  handler: checkMethodsPolicy,
});
