/**
 * The write budget's handover between instances. One provisionChunk of a run writes at a time,
 * but Flex Consumption may run the next one on another instance, whose process has a limiter of
 * its own. Each chunk stores what its limiter learned of the quota (rates and a round trip, never
 * a user or a number) under the run's keys when it ends; the next chunk starts its process's
 * limiter from it instead of in slow start, which would overrun the quota the previous chunk had
 * found, or crawl below it.
 */
import { z } from "zod";
import { runKeys } from "../run/keys.js";
import type { RunStore } from "../store/runStore.js";
import type { AdaptiveLimiter, LimiterSnapshot } from "./throttle.js";

const rate = z.number().positive().finite();

/** What the run store holds: the last writing chunk's limiter, and when it ended. */
const storedLimiterSchema = z.object({
  savedAt: z.string(),
  limiter: z.object({
    ratePerSecond: rate,
    ceilingPerSecond: rate.optional(),
    roundTripMs: rate,
  }),
});

/** The limiter handed over, as stored. */
export type StoredLimiter = z.infer<typeof storedLimiterSchema>;

/**
 * Starts the process's limiter from the run's stored one when it has no state of its own (it has
 * sent nothing yet). A limiter that has sent keeps what it learned: the same app's quota, found by
 * itself ({@link AdaptiveLimiter.warmStart} takes nothing then).
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param limiter - this process's limiter.
 * @returns whether the limiter took the stored state.
 */
export async function resumeLimiter(
  store: RunStore,
  runId: string,
  limiter: AdaptiveLimiter,
): Promise<boolean> {
  const parsed = storedLimiterSchema.safeParse(await store.getJson(runKeys.limiter(runId)));
  if (!parsed.success) {
    return false;
  }
  const { ratePerSecond, ceilingPerSecond, roundTripMs } = parsed.data.limiter;
  const learned: LimiterSnapshot = {
    ratePerSecond,
    roundTripMs,
    ...(ceilingPerSecond !== undefined ? { ceilingPerSecond } : {}),
  };
  return limiter.warmStart(learned);
}

/**
 * Stores what the process's limiter learned for the run's next chunk; nothing while it is still
 * in slow start (the stored state, if any, stays).
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param limiter - this process's limiter.
 */
export async function handOverLimiter(
  store: RunStore,
  runId: string,
  limiter: AdaptiveLimiter,
): Promise<void> {
  const learned = limiter.snapshot();
  if (learned === undefined) {
    return;
  }
  const stored: StoredLimiter = { savedAt: new Date().toISOString(), limiter: learned };
  await store.putJson(runKeys.limiter(runId), stored);
}
