import { describe, expect, it } from "vitest";
import { AdaptiveLimiter, limiterFor } from "../../../shared/graph/throttle.js";

describe("AdaptiveLimiter", () => {
  it("doubles per round trip in slow start, then grows by about one per round trip", async () => {
    const limiter = new AdaptiveLimiter({ initial: 4, max: 1000 });
    const t = await limiter.acquire(4);
    limiter.release(4, t);
    expect(limiter.limit).toBe(8);
    const t2 = await limiter.acquire(1);
    limiter.release(1, t2, { throttled: 1 });
    const afterCut = limiter.limit;
    expect(afterCut).toBe(Math.floor(8 * 0.7));
    // Additive increase: a full window of successes adds about one.
    for (let i = 0; i < afterCut; i++) {
      const s = await limiter.acquire(1);
      limiter.release(1, s);
    }
    expect(limiter.limit).toBe(afterCut + 1);
  });

  it("cuts once per round trip, however many answers of that round trip were throttled", async () => {
    let now = 1_000;
    const limiter = new AdaptiveLimiter({ initial: 40, now: () => now });
    const started = await Promise.all([
      limiter.acquire(10),
      limiter.acquire(10),
      limiter.acquire(10),
    ]);
    now = 2_000;
    limiter.release(10, started[0] as number, { throttled: 10 });
    limiter.release(10, started[1] as number, { throttled: 10 });
    limiter.release(10, started[2] as number, { throttled: 10 });
    expect(limiter.limit).toBe(28);
    expect(limiter.stats().throttled).toBe(30);
  });

  it("holds every caller back until Graph's Retry-After has passed", async () => {
    const limiter = new AdaptiveLimiter({ initial: 10 });
    const t = await limiter.acquire(1);
    limiter.release(1, t, { throttled: 1, retryAfterMs: 150 });
    const before = Date.now();
    await limiter.acquire(1);
    expect(Date.now() - before).toBeGreaterThanOrEqual(140);
  });

  it("stops growing when Graph reports usage near the limit, and eases down above it", async () => {
    const limiter = new AdaptiveLimiter({ initial: 20 });
    const t = await limiter.acquire(5);
    limiter.release(5, t, { limitPercentage: 0.92 });
    expect(limiter.limit).toBe(20);
    expect(limiter.stats().slowStart).toBe(false);
    const t2 = await limiter.acquire(5);
    limiter.release(5, t2, { limitPercentage: 1.2 });
    expect(limiter.limit).toBe(19);
  });

  it("never holds more requests in flight than the limit, but lets a single oversized batch through", async () => {
    const limiter = new AdaptiveLimiter({ initial: 10, max: 10 });
    await limiter.acquire(8);
    let second = false;
    const p = limiter.acquire(5).then(() => {
      second = true;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(second).toBe(false);
    limiter.release(8, 0);
    await p;
    expect(second).toBe(true);
    const small = new AdaptiveLimiter({ initial: 2, max: 2 });
    await small.acquire(20);
    expect(small.stats().inFlight).toBe(20);
  });

  it("is one limiter per app and tenant in a process", () => {
    expect(limiterFor("a|t|c")).toBe(limiterFor("a|t|c"));
    expect(limiterFor("a|t|c")).not.toBe(limiterFor("a|t|other"));
  });
});
