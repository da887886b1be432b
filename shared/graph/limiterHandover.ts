/**
 * The write budget's handover between instances. One provisionChunk of a run writes at a time,
 * but Flex Consumption may run the next one on another instance, whose process has a limiter of
 * its own. Each chunk stores what its limiter learned of the quota (rates and a round trip, never
 * a user or a number) under the run's keys when it ends; the next chunk starts its process's
 * limiter from it instead of in slow start, which would overrun the quota the previous chunk had
 * found, or crawl below it. A process whose limiter wrote an earlier chunk takes it too: the
 * other process's limiter has learned since.
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
 * When each limiter of this process last handed its state over or took a stored one (that
 * state's `savedAt`). A stored state saved later came from another process's limiter, which
 * wrote chunks after this one: it knows the quota as it is now (instances' clocks agree far
 * closer than a chunk lasts; one far behind would only keep the older state). A WeakMap, so a
 * limiter that goes away takes its entry with it; the stored JSON keeps its fields.
 */
const lastExchange = new WeakMap<AdaptiveLimiter, number>();

/**
 * Starts the process's limiter from the run's stored one when it has no state of its own (it has
 * sent nothing yet), or when the stored one is newer than what it has: saved by another process
 * after this limiter last handed over or took a state (two instances taking chunks in turn). A
 * limiter that has sent keeps what it learned otherwise: the stored state is its own, one it took
 * already, or older; and so does one with requests in flight (another activity of the process).
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
  return takeHandedOver(limiter, learned, Date.parse(parsed.data.savedAt));
}

/**
 * The rule of {@link resumeLimiter} without the store: whether the limiter takes a state saved at
 * `savedAt` (milliseconds on the clock the handovers are noted on), and the note that it did.
 * The limiter simulation plays handovers on its own clock with it.
 *
 * @param limiter - this process's limiter.
 * @param learned - the state handed over.
 * @param savedAt - when it was handed over.
 * @returns whether the limiter took it.
 */
export function takeHandedOver(
  limiter: AdaptiveLimiter,
  learned: LimiterSnapshot,
  savedAt: number,
): boolean {
  const since = lastExchange.get(limiter);
  const newer = since !== undefined && savedAt > since;
  if (since !== undefined && !newer) {
    return false;
  }
  const taken = limiter.warmStart(learned, { replace: newer });
  if (taken && Number.isFinite(savedAt)) {
    lastExchange.set(limiter, savedAt);
  }
  return taken;
}

/**
 * Notes that the limiter handed its state over at `savedAt` (see {@link takeHandedOver}).
 *
 * @param limiter - this process's limiter.
 * @param savedAt - when, in milliseconds.
 */
export function noteHandedOver(limiter: AdaptiveLimiter, savedAt: number): void {
  lastExchange.set(limiter, savedAt);
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
  const savedAt = new Date();
  const stored: StoredLimiter = { savedAt: savedAt.toISOString(), limiter: learned };
  await store.putJson(runKeys.limiter(runId), stored);
  noteHandedOver(limiter, savedAt.getTime());
}
