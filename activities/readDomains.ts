/**
 * readDomains: reads the tenant's verified domains (with the email method on) and keeps them in
 * the run store, so planning refuses every alternate address inside them: a user locked out of
 * the account cannot read a mailbox there.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { readVerifiedDomains } from "../shared/discovery.js";
import { defineActivity } from "../shared/durable/index.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { runIdSchema, runKeys } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input: the run. */
export const readDomainsInput = z.strictObject({ runId: runIdSchema });

/** Result: how many verified domains, or why they cannot be read (the run stops). */
export type ReadDomainsResult = { ok: true; domains: number } | { ok: false; error: string };

/**
 * Reads the verified domains.
 *
 * @param input - the run.
 * @param context - invocation context, for logs.
 */
export async function readDomains(
  input: z.infer<typeof readDomainsInput>,
  context: InvocationContext,
): Promise<ReadDomainsResult> {
  const { graph, store } = services();
  try {
    const domains = await readVerifiedDomains(graph);
    await store.putJson(runKeys.domains(input.runId), domains);
    context.info(
      `readDomains: ${domains.length} verified domains of the tenant are kept out of email methods.`,
    );
    return { ok: true, domains: domains.length };
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "fatal") {
      return {
        ok: false,
        error: `The tenant's own domains cannot be read, so no alternate address can be told apart from an internal one (METHODS includes email): ${error.message}`,
      };
    }
    throw error;
  }
}

/** The activity. */
export const readDomainsActivity = defineActivity({
  name: "readDomains",
  input: readDomainsInput,
  handler: readDomains,
});
