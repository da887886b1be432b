/**
 * releaseRunLock: gives the one-run lock back at the end of a run (completed, not approved or
 * failed), so the next starter need not wait for the lock to go stale.
 */
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { releaseRunLock as release, runIdSchema } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input: the run that ends. */
export const releaseRunLockInput = z.strictObject({ runId: runIdSchema });

/**
 * Releases the lock if the run holds it.
 *
 * @param input - the run.
 */
export async function releaseRunLock(input: z.infer<typeof releaseRunLockInput>): Promise<void> {
  await release(services().store, input.runId);
}

/** The activity. */
export const releaseRunLockActivity = defineActivity({
  name: "releaseRunLock",
  input: releaseRunLockInput,
  handler: releaseRunLock,
});
