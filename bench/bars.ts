/**
 * What a benchmark run is held to (issue "find the ceiling without hints"), the one home of the
 * bars for the provisioning benchmark (`run.ts`) and the limiter simulation (`runLimiterSim.ts`):
 * the bars of every run, and when a limiter re-converged after its quota changed mid-run, which a
 * changing quota is judged by instead of the ratio.
 *
 * A run whose quota changes unannounced cannot be held to the ratio bar over the whole run: without
 * a usage header the only sign that a quota doubled is that refusals stop, and telling that from
 * chance takes some 150 clean writes at the old rate before the climb can even begin
 * (bench/results/figures.md, "Why ceilingDoubled stays below the bar"). What a changing quota
 * asks of the limiter is that it finds the new one, and soon: a whole window at the new rate
 * within the bars.
 */

/**
 * Every run: at least this share of the quota's ceiling, at most this share of its requests
 * throttled, at most this many Graph calls per user.
 */
export const BARS = { ratio: 0.9, throttledShare: 0.02, callsPerUser: 1.1 } as const;

/** A window judged: 30 s, or 30 requests at the new rate when that takes longer. */
export const CONVERGE_WINDOW_MS = 30_000;
const CONVERGE_WINDOW_REQUESTS = 30;

/** Share of the new rate a window must reach, and the most of its requests throttled: the bars. */
export const CONVERGED_RATIO = BARS.ratio;
export const CONVERGED_THROTTLED = BARS.throttledShare;

/**
 * The bar: such a window starts within this many seconds of the change. The simulation finds the
 * new quota in 11 to 38 s (halved or doubled, 20 writes/s before); a minute is a small share of
 * any run that outlives a quota change, and it leaves room for the run-to-run spread.
 */
export const CONVERGE_WITHIN_S = 60;

/**
 * Whether a run re-converged in time.
 *
 * @param seconds - what {@link convergeSeconds} found.
 */
export function converged(seconds: number | null | undefined): boolean {
  return seconds !== null && seconds !== undefined && seconds <= CONVERGE_WITHIN_S;
}

/**
 * Seconds from `fromMs` to the start of the first window in which the writes reach
 * {@link CONVERGED_RATIO} of `ratePerSecond` and at most {@link CONVERGED_THROTTLED} of the
 * requests are throttled (windows start every second); null when no such window starts and ends
 * before `endMs`.
 *
 * @param writeTimes - milliseconds at which writes were accepted.
 * @param throttleTimes - milliseconds at which requests were throttled (one entry per write).
 * @param fromMs - when the quota changed.
 * @param endMs - when the run ended.
 * @param ratePerSecond - the new quota's sustained rate.
 */
export function convergeSeconds(
  writeTimes: readonly number[],
  throttleTimes: readonly number[],
  fromMs: number,
  endMs: number,
  ratePerSecond: number,
): number | null {
  const windowMs = Math.max(CONVERGE_WINDOW_MS, (CONVERGE_WINDOW_REQUESTS / ratePerSecond) * 1000);
  const count = (times: readonly number[], a: number, b: number): number =>
    times.filter((t) => t >= a && t < b).length;
  for (let t = fromMs; t + windowMs <= endMs; t += 1_000) {
    const writes = count(writeTimes, t, t + windowMs);
    const throttled = count(throttleTimes, t, t + windowMs);
    if (
      writes >= CONVERGED_RATIO * ratePerSecond * (windowMs / 1000) &&
      throttled <= CONVERGED_THROTTLED * (writes + throttled)
    ) {
      return (t - fromMs) / 1000;
    }
  }
  return null;
}
