import { describe, expect, it } from "vitest";
import { SendLog } from "../../../shared/graph/sendLog.js";

/**
 * The limiter judges a step of sending once every write of it is answered. The clock ticks in
 * whole milliseconds (ten times coarser in the benchmark's scaled time), so grants, answers and a
 * new step often share a tick.
 */
describe("SendLog", () => {
  it("finishes a step whose last request was granted in the tick the next step opened in", () => {
    const log = new SendLog();
    log.openStep(0, 0.02, false);
    const a = log.grantTime(1000);
    log.granted(a, 2);
    // The next step opens in the same tick (the end of slow start, or the next grant).
    log.openStep(1000, 0.02, false);
    const b = log.grantTime(1000);
    log.granted(b, 3);
    expect(b).toBeGreaterThan(a);

    log.answered(3000, 2, a, { accepted: 2, refused: 0, unavailable: 0 });
    log.answered(3000, 3, b, { accepted: 2, refused: 1, unavailable: 0 });
    log.openStep(3000, 0.02, false);

    // Both steps are answered whole and judged at once, each with its own writes; before, the
    // first step's answer was counted in the second, and the first waited two minutes as stale.
    const finished = log.takeFinished(3000);
    expect(finished.map((s) => [s.sent, s.answered, s.refused])).toEqual([
      [2, 2, 0],
      [3, 3, 1],
    ]);
  });

  it("gives every grant in one tick a time of its own, so a refund finds its request", () => {
    const log = new SendLog();
    log.openStep(0, 0.02, false);
    const now = 1.7e13; // a date in milliseconds, scaled ten times: the coarsest the limiter sees
    const times = [log.grantTime(now)];
    log.granted(times[0] as number, 20);
    times.push(log.grantTime(now));
    log.granted(times[1] as number, 20);
    expect(new Set(times).size).toBe(2);
    expect(log.inFlight).toBe(40);

    // The first request left with 5 writes; the second was answered whole.
    log.returned(15, times[0]);
    log.answered(now + 2000, 5, times[0] as number, { accepted: 5, refused: 0, unavailable: 0 });
    log.answered(now + 2000, 20, times[1] as number, { accepted: 20, refused: 0, unavailable: 0 });
    log.openStep(now + 2000, 0.02, false);
    expect(log.inFlight).toBe(0);
    expect(log.takeFinished(now + 2000).map((s) => [s.sent, s.answered])).toEqual([[25, 25]]);
  });
});
