import { afterEach, describe, expect, it, vi } from "vitest";
import {
  AdaptiveLimiter,
  limiterFor,
  type LimiterFeedback,
} from "../../../shared/graph/throttle.js";

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

  it("holds every caller back until Retry-After once Graph refuses whole requests one after another", async () => {
    const limiter = new AdaptiveLimiter({ initial: 10 });
    for (let i = 0; i < 4; i++) {
      const t = await limiter.acquire(1);
      limiter.release(1, t, { throttled: 1, retryAfterMs: 150 });
    }
    const before = Date.now();
    await limiter.acquire(1);
    expect(Date.now() - before).toBeGreaterThanOrEqual(140);
  });

  it("lets the others go on when Graph refuses a single write: only that write waits", async () => {
    const limiter = new AdaptiveLimiter({ initial: 10 });
    const t = await limiter.acquire(1);
    limiter.release(1, t, { throttled: 1, retryAfterMs: 5_000 });
    expect(limiter.stats().pausedForMs).toBe(0);
    const before = Date.now();
    await limiter.acquire(1);
    expect(Date.now() - before).toBeLessThan(1_000);
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

describe("AdaptiveLimiter pacing (fake clock)", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Acquires, moving the fake clock on in 10 ms steps until the limiter lets the caller go. */
  async function acquire(limiter: AdaptiveLimiter, n: number): Promise<number> {
    let started: number | undefined;
    void limiter.acquire(n).then((s) => {
      started = s;
    });
    await vi.advanceTimersByTimeAsync(0);
    while (started === undefined) {
      await vi.advanceTimersByTimeAsync(10);
    }
    return started;
  }

  /** One request of `n` permits that takes `rttMs` and comes back with `feedback`. */
  async function roundTrip(
    limiter: AdaptiveLimiter,
    n: number,
    rttMs: number,
    feedback: LimiterFeedback = {},
  ): Promise<void> {
    const started = await acquire(limiter, n);
    await vi.advanceTimersByTimeAsync(rttMs);
    limiter.release(n, started, feedback);
  }

  it("lets nobody through before Retry-After has passed, then lets the queue go", async () => {
    vi.useFakeTimers();
    // Wide enough for two requests after four cuts of the window.
    const limiter = new AdaptiveLimiter({ initial: 16 });
    // Refused whole four times in a row: Graph takes nothing now.
    for (let i = 0; i < 4; i++) {
      await roundTrip(limiter, 1, 100, { throttled: 1, retryAfterMs: 2_000 });
    }
    // Counted from Graph's refusal, a little before the last answer.
    const paused = limiter.stats().pausedForMs;
    expect(paused).toBeGreaterThan(1_900);
    let through = 0;
    const waiting = [limiter.acquire(1), limiter.acquire(1)].map((p) => p.then(() => through++));
    await vi.advanceTimersByTimeAsync(paused - 1);
    expect(through).toBe(0);
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(waiting);
    expect(through).toBe(2);
  });

  it("spaces requests by the pacing rate once it has one", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter({ initial: 4 });
    await roundTrip(limiter, 4, 1_000);
    // Usage reported: slow start ends at a quarter of its rate (8 per 1,000 ms → 2 per second).
    await roundTrip(limiter, 1, 1_000, { limitPercentage: 0.85 });
    const rate = limiter.stats().ratePerSecond ?? 0;
    expect(rate).toBeGreaterThan(0);
    const first = await acquire(limiter, 1);
    const second = await acquire(limiter, 1);
    expect(second - first).toBeGreaterThanOrEqual(Math.floor(1_000 / rate));
  });

  it("gives back permits and pacing time that were granted but not used", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter({ initial: 4 });
    await roundTrip(limiter, 4, 1_000);
    await roundTrip(limiter, 1, 1_000, { limitPercentage: 0.85 });
    await acquire(limiter, 1);
    const granted = limiter.stats().inFlight;
    limiter.refund(1);
    expect(limiter.stats().inFlight).toBe(granted - 1);
    let through = false;
    void limiter.acquire(1).then(() => {
      through = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(through).toBe(true);
  });

  it("sizes batches to about half of what the rate sends per round trip", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter({ initial: 4 });
    expect(limiter.batchSize(20)).toBe(4);
    await roundTrip(limiter, 4, 1_000);
    await roundTrip(limiter, 1, 1_000, { limitPercentage: 0.85 });
    const perRoundTrip = ((limiter.stats().ratePerSecond ?? 0) * 1_000) / 1_000;
    expect(limiter.batchSize(20)).toBe(Math.max(1, Math.min(20, Math.floor(perRoundTrip / 2))));
    expect(limiter.batchSize(1)).toBe(1);
  });
});
