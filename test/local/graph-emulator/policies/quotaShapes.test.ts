import { describe, expect, it } from "vitest";
import {
  FixedWindow,
  SlidingWindow,
  TokenBucket,
  createQuota,
  type Quota,
} from "../../../../local/graph-emulator/policies/quotaShapes.js";

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** Takes one unit at a time while the quota allows; returns how many passed. */
function drain(q: Quota, max = 1000): number {
  let n = 0;
  while (n < max && q.waitFor(1) === 0) {
    q.take(1);
    n++;
  }
  return n;
}

describe("TokenBucket", () => {
  it("lets `limit` through at once, then one per limit/window, and refills while idle", () => {
    const clock = manualClock();
    const q = new TokenBucket(20, 1000, 20, clock.now);
    expect(drain(q)).toBe(20);
    expect(q.waitFor(1)).toBe(50);
    clock.advance(50);
    expect(drain(q)).toBe(1);
    clock.advance(10_000);
    expect(drain(q)).toBe(20);
  });

  it("with a burst smaller than the limit, holds only the burst however long it idles", () => {
    const clock = manualClock();
    const q = new TokenBucket(20, 1000, 5, clock.now);
    expect(drain(q)).toBe(5);
    expect(q.waitFor(1)).toBe(50);
    clock.advance(60_000);
    expect(drain(q)).toBe(5);
    // The sustained rate is still the limit: 20 more within the next second, one per 50 ms.
    let passed = 0;
    for (let i = 0; i < 20; i++) {
      clock.advance(50);
      passed += drain(q);
    }
    expect(passed).toBe(20);
  });

  it("reports the share in use and counts a cost above the bucket as the bucket", () => {
    const clock = manualClock();
    const q = new TokenBucket(10, 1000, 10, clock.now);
    q.take(8);
    expect(q.usage()).toBeCloseTo(0.8);
    clock.advance(1000);
    expect(q.usage()).toBe(0);
    expect(q.waitFor(50)).toBe(0);
    q.take(50);
    expect(q.usage()).toBe(1);
  });
});

describe("SlidingWindow", () => {
  it("allows at most `limit` in any window and answers the wait until the oldest leaves it", () => {
    const clock = manualClock();
    const q = new SlidingWindow(40, 2000, clock.now);
    for (let i = 0; i < 20; i++) {
      q.take(1);
    }
    clock.advance(1000);
    expect(drain(q)).toBe(20);
    clock.advance(500);
    // The first 20 were taken 1,500 ms ago: they leave the window in 500 ms.
    expect(q.waitFor(1)).toBe(500);
    clock.advance(499);
    expect(q.waitFor(1)).toBe(1);
    clock.advance(1);
    expect(drain(q)).toBe(20);
    expect(q.waitFor(1)).toBe(1000);
  });

  it("never waits while requests stay under the limit in every window, and reports its usage", () => {
    const clock = manualClock();
    const q = new SlidingWindow(40, 2000, clock.now);
    // 20 per second, the limit's own rate, evenly spread: never a wait.
    for (let i = 0; i < 200; i++) {
      expect(q.waitFor(1)).toBe(0);
      q.take(1);
      clock.advance(50);
    }
    // In the window now: the takes 50, 100, ..., 1,950 ms ago (the one 2,000 ms ago has left).
    expect(q.usage()).toBeCloseTo(39 / 40);
  });
});

describe("FixedWindow", () => {
  it("allows `limit` per window from the quota's start and waits for the next window", () => {
    const clock = manualClock();
    const q = new FixedWindow(5, 10_000, clock.now);
    clock.advance(3000);
    expect(drain(q)).toBe(5);
    expect(q.waitFor(1)).toBe(7000);
    clock.advance(6999);
    expect(q.waitFor(1)).toBe(1);
    expect(q.usage()).toBe(1);
    clock.advance(1);
    expect(q.usage()).toBe(0);
    expect(drain(q)).toBe(5);
  });

  it("lets a full window through on each side of a boundary, unlike a sliding window", () => {
    const clock = manualClock();
    const fixed = new FixedWindow(5, 10_000, clock.now);
    const sliding = new SlidingWindow(5, 10_000, clock.now);
    clock.advance(9_900);
    expect([drain(fixed), drain(sliding)]).toEqual([5, 5]);
    clock.advance(200);
    expect([drain(fixed), drain(sliding)]).toEqual([5, 0]);
  });
});

describe("createQuota", () => {
  it("builds the named shape with its size", () => {
    const clock = manualClock();
    const bucket = createQuota(
      { shape: "tokenBucket", limit: 20, windowMs: 1000, burst: 3 },
      clock.now,
    );
    const sliding = createQuota({ shape: "slidingWindow", limit: 40, windowMs: 2000 }, clock.now);
    const fixed = createQuota({ shape: "fixedWindow", limit: 5, windowMs: 10_000 }, clock.now);
    expect(bucket).toBeInstanceOf(TokenBucket);
    expect(sliding).toBeInstanceOf(SlidingWindow);
    expect(fixed).toBeInstanceOf(FixedWindow);
    expect([drain(bucket), drain(sliding), drain(fixed)]).toEqual([3, 40, 5]);
  });
});
