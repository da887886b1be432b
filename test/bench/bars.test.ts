import { describe, expect, it } from "vitest";
import { converged, convergeSeconds } from "../../bench/bars.js";

/** Times (ms) of writes at `perSecond`, evenly spaced, from `fromMs` to `toMs`. */
function evenly(perSecond: number, fromMs: number, toMs: number): number[] {
  const times: number[] = [];
  for (let t = fromMs; t < toMs; t += 1000 / perSecond) {
    times.push(t);
  }
  return times;
}

/**
 * The definition the benchmark and the simulation judge a quota changed mid-run by: how long after
 * the change the limiter first holds a whole window at the new rate within the bars.
 */
describe("convergeSeconds", () => {
  it("finds the first whole window at 90% of the new rate: a doubled quota reached 20 s late", () => {
    // 20 writes/s, the quota doubles to 40/s at 100 s, the limiter reaches 38/s at 120 s.
    const writes = [...evenly(20, 0, 120_000), ...evenly(38, 120_000, 200_000)];
    const seconds = convergeSeconds(writes, [], 100_000, 200_000, 40);
    // A 30-s window needs 1,080 writes: with x s of it at 20/s, 20x + 38(30 - x) >= 1,080 gives
    // x <= 3.33 s, so the first window starts at 117 s.
    expect(seconds).toBe(17);
    expect(converged(seconds)).toBe(true);
  });

  it("does not count a window that reached the rate with more than 2% of its requests throttled", () => {
    const writes = evenly(40, 0, 100_000);
    // 2 refused a second until 40 s: a window of 1,200 writes may hold 24 of them, so it starts
    // no earlier than 28 s.
    const refusedEarly = evenly(2, 0, 40_000);
    expect(convergeSeconds(writes, refusedEarly, 0, 100_000, 40)).toBe(28);
  });

  it("is null when no whole window after the change meets the bars before the run ends", () => {
    const writes = evenly(30, 0, 100_000);
    expect(convergeSeconds(writes, [], 0, 100_000, 40)).toBeNull();
    expect(converged(null)).toBe(false);
  });

  it("holds a run to re-converging within a minute", () => {
    expect(converged(60)).toBe(true);
    expect(converged(61)).toBe(false);
  });
});
