import { afterEach, describe, expect, it, vi } from "vitest";
import {
  AdaptiveLimiter,
  type LimiterClock,
  type LimiterFeedback,
} from "../../../shared/graph/throttle.js";
import { simulate } from "../../../bench/limiterSim.js";
import { SlidingWindowQuota, TokenBucketQuota } from "../../../bench/quotaShapes.js";

/**
 * How the limiter finds Graph's write quota from 429 and Retry-After alone (the usage header is
 * most likely never sent for phone-method writes), on fake or simulated time.
 */
describe("AdaptiveLimiter finding the quota", () => {
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

  /**
   * Requests one after another, each of a batch the limiter sizes, answered after a second; a
   * request sent while the limiter paces faster than `quota()` writes per second is refused at
   * once with Retry-After 1 s. Returns the rates the 429s came at.
   */
  async function drive(
    limiter: AdaptiveLimiter,
    rounds: number,
    quota: () => number,
  ): Promise<number[]> {
    const refusedAt: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const n = limiter.batchSize(20);
      const started = await acquire(limiter, n);
      const rate = limiter.stats().ratePerSecond ?? 0;
      if (rate > quota()) {
        refusedAt.push(rate);
        await vi.advanceTimersByTimeAsync(10);
        limiter.release(n, started, { throttled: n, retryAfterMs: 1_000 });
      } else {
        await vi.advanceTimersByTimeAsync(1_000);
        limiter.release(n, started);
      }
    }
    return refusedAt;
  }

  it("holds back every caller, waiting or arriving later, until Retry-After once Graph refuses everything", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter({ initial: 8 });
    await roundTrip(limiter, 4, 200);
    // Four requests refused whole, one after the other: a single one would only wait itself.
    for (let i = 0; i < 3; i++) {
      await roundTrip(limiter, 1, 10, { throttled: 1, retryAfterMs: 1 });
    }
    expect(limiter.stats().pausedForMs).toBe(0);
    const refusedAt = Date.now();
    await roundTrip(limiter, 1, 10, { throttled: 1, retryAfterMs: 3_000 });
    const grants: number[] = [];
    const waiting = [limiter.acquire(1), limiter.acquire(1)].map((p) =>
      p.then((t) => grants.push(t)),
    );
    await vi.advanceTimersByTimeAsync(1_500);
    waiting.push(limiter.acquire(1).then((t) => grants.push(t)));
    await vi.advanceTimersByTimeAsync(1_480);
    expect(grants).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(waiting);
    expect(grants).toHaveLength(3);
    expect(Math.min(...grants)).toBeGreaterThanOrEqual(refusedAt + 3_000);
  });

  it("counts a batch item's Retry-After from Graph's refusal, not from the batch's late answer", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter({ initial: 8 });
    // Graph answers a wholly refused request within 50 ms: that bounds when it refuses. Refused
    // whole four times in a row, everyone waits.
    for (let i = 0; i < 4; i++) {
      await roundTrip(limiter, 1, 50, { throttled: 1, retryAfterMs: 1_000 });
    }
    // From the refusal: at most 50 ms before this answer.
    expect(limiter.stats().pausedForMs).toBeGreaterThanOrEqual(950);
    expect(limiter.stats().pausedForMs).toBeLessThanOrEqual(1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    // Another request refused whole, answered 3 s later (a batch waits for its slowest item):
    // its second has long run out.
    await roundTrip(limiter, 4, 3_000, { throttled: 4, retryAfterMs: 1_000 });
    expect(limiter.stats().pausedForMs).toBe(0);
  });

  /**
   * A simulated run of the product's writer against a sliding window quota (simulated time),
   * with the limiter's pacing rate each second and the rates the 429s came at.
   */
  async function run(
    users: number,
    perTwoSeconds: number,
    change?: { atSeconds: number; factor: number },
  ): Promise<{ rates: number[]; refusedAt: number[]; throttledShare: number }> {
    const rates: number[] = [];
    const refusedAt: number[] = [];
    let throttled = 0;
    const result = await simulate(
      {
        name: "window",
        shape: `${perTwoSeconds} per 2 s`,
        users,
        quota: () => new SlidingWindowQuota(perTwoSeconds, 2_000),
        ...(change ? { change } : {}),
      },
      {
        header: false,
        seed: 7,
        onSecond: (s) => {
          if (s.throttled > throttled) {
            refusedAt.push(rates[rates.length - 1] ?? 0);
          }
          throttled = s.throttled;
          rates.push(s.limiter.ratePerSecond ?? 0);
        },
      },
    );
    expect(result.provisioned).toBe(users);
    return { rates, refusedAt, throttledShare: result.throttledShare };
  }

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;

  it("settles at the quota's rate, not above it and not far below, with few 429s", async () => {
    // 20 per 2 s: 10 writes a second.
    const { rates, refusedAt, throttledShare } = await run(3_000, 20);
    expect(refusedAt.length).toBeGreaterThan(0);
    const settled = median(rates.slice(-60));
    expect(settled).toBeLessThanOrEqual(10);
    expect(settled).toBeGreaterThan(0.9 * 10);
    // Pressing on the quota costs about 1% of the writes refused, and slow start a few more.
    expect(throttledShare).toBeLessThan(0.02);
  });

  it("probes upwards when no 429 comes for a while, and finds a quota that doubled", async () => {
    const { rates } = await run(6_000, 20, { atSeconds: 100, factor: 2 });
    const before = median(rates.slice(60, 100));
    expect(before).toBeLessThanOrEqual(10);
    expect(median(rates.slice(-30))).toBeGreaterThan(1.7 * before);
  });

  it("keeps to the quota when Graph answers a stray 503 now and then", async () => {
    // 2% of writes answered 503 (the emulator's hostile profile): each is read back and written
    // again, the rest goes on at the quota's rate. Easing on every one took the rate to nothing.
    let rates: number[] = [];
    const result = await simulate(
      {
        name: "faults",
        shape: "20 per 2 s, 2% of writes 503",
        users: 3_000,
        quota: () => new SlidingWindowQuota(20, 2_000),
        unavailableShare: 0.02,
      },
      { header: false, seed: 5, onSecond: (s) => rates.push(s.limiter.ratePerSecond ?? 0) },
    );
    rates = rates.slice(30, -10);
    expect(result.provisioned).toBe(3_000);
    expect(median(rates)).toBeGreaterThan(0.9 * 10);
    expect(Math.min(...rates)).toBeGreaterThan(0.5 * 10);
  });

  it("comes down to a quota that halved", async () => {
    const { rates } = await run(3_000, 40, { atSeconds: 60, factor: 0.5 });
    const settled = median(rates.slice(-60));
    expect(settled).toBeLessThanOrEqual(10);
    expect(settled).toBeGreaterThan(0.8 * 10);
  });

  it("does not probe above a rate the writers leave unused", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    // One request at a time never fills the rate, and Graph never refuses.
    const refused = await drive(limiter, 100, () => Number.POSITIVE_INFINITY);
    expect(refused).toHaveLength(0);
    const held = limiter.stats().ratePerSecond ?? 0;
    await drive(limiter, 700, () => Number.POSITIVE_INFINITY);
    expect(limiter.stats().ratePerSecond).toBe(held);
  });

  it("eases the rate on a usage reading over 100%, without a 429 and without a pause", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter({ initial: 4 });
    await roundTrip(limiter, 4, 500);
    await roundTrip(limiter, 2, 500, { limitPercentage: 0.85 });
    for (let i = 0; i < 10; i++) {
      await roundTrip(limiter, 1, 500, { limitPercentage: 0.9 });
    }
    const before = limiter.stats().ratePerSecond ?? 0;
    await roundTrip(limiter, 1, 500, { limitPercentage: 1.25 });
    const stats = limiter.stats();
    expect(stats.ratePerSecond ?? 0).toBeLessThan(before);
    expect(stats.throttled).toBe(0);
    expect(stats.pausedForMs).toBe(0);
  });

  it("keeps its rate and pauses no one on a stray 503, even one with Retry-After", async () => {
    // Graph answers a 503 or 504 now and then; the writer retries that write after its own
    // backoff. Slowing everyone for each one let 2% of requests failing take the rate to nothing.
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    await drive(limiter, 200, () => 20);
    const before = limiter.stats().ratePerSecond ?? 0;
    await roundTrip(limiter, 1, 1_000, { unavailable: 1, retryAfterMs: 5_000 });
    await roundTrip(limiter, 4, 1_000, { unavailable: 1 });
    expect(limiter.stats().ratePerSecond).toBe(before);
    expect(limiter.stats().pausedForMs).toBe(0);
  });

  it("slows down when failures make most of the latest answers, and then honours Retry-After for everyone", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    await drive(limiter, 200, () => 20);
    const before = limiter.stats().ratePerSecond ?? 0;
    // Three requests of four writes failed whole, among the latest eight answers: Graph struggles.
    await roundTrip(limiter, 4, 1_000, { unavailable: 4 });
    await roundTrip(limiter, 4, 1_000, { unavailable: 4 });
    expect(limiter.stats().ratePerSecond).toBe(before);
    await roundTrip(limiter, 4, 1_000, { unavailable: 4, retryAfterMs: 5_000 });
    expect(limiter.stats().ratePerSecond ?? 0).toBeLessThan(0.6 * before);
    expect(limiter.stats().pausedForMs).toBeGreaterThan(3_000);
  });

  it("eases by their share when failures that are not whole requests make most of the latest answers", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    await drive(limiter, 200, () => 20);
    const before = limiter.stats().ratePerSecond ?? 0;
    for (let i = 0; i < 5; i++) {
      await roundTrip(limiter, 4, 1_000, { unavailable: 3 });
    }
    const after = limiter.stats().ratePerSecond ?? 0;
    expect(after).toBeLessThan(before);
    // Three writes of a round trip's sixteen at a time: eases (a fifth each), not halvings.
    expect(after).toBeGreaterThan(0.25 * before);
    expect(limiter.stats().pausedForMs).toBe(0);
  });

  it("sets the rate to what Graph accepted of a step it refused in part, once the step is answered", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    await drive(limiter, 200, () => 20);
    const before = limiter.stats().ratePerSecond ?? 0;
    // A step of requests one after the other, Graph refusing a quarter of every request.
    for (let i = 0; i < 12; i++) {
      await roundTrip(limiter, 4, 1_000, { throttled: 1, retryAfterMs: 1_000 });
    }
    const after = limiter.stats().ratePerSecond ?? 0;
    expect(after).toBeLessThan(0.8 * before);
    expect(limiter.stats().pausedForMs).toBe(0);
  });

  it("slows down round trip by round trip while every request fails, once failures make half of the latest answers", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    await drive(limiter, 200, () => 20);
    const rates = [limiter.stats().ratePerSecond ?? 0];
    for (let i = 0; i < 8; i++) {
      const n = limiter.batchSize(20);
      await roundTrip(limiter, n, 1_000, { unavailable: n });
      rates.push(limiter.stats().ratePerSecond ?? 0);
    }
    for (let i = 1; i < rates.length; i++) {
      expect(rates[i]).toBeLessThanOrEqual(rates[i - 1] as number);
    }
    // A few failures among accepted answers may be stray ones; half of the latest eight is not.
    expect(rates[4]).toBeLessThan(0.6 * (rates[0] as number));
    expect(rates[8]).toBeLessThan(0.2 * (rates[0] as number));
  });

  it("sends a single write a few times a second, so that a refusal comes back at once", async () => {
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter({ initial: 40 });
    await roundTrip(limiter, 40, 1_000);
    expect(limiter.batchSize(20)).toBeGreaterThan(1);
    const sizes: number[] = [];
    for (let i = 0; i < 20; i++) {
      sizes.push(limiter.sendSize(20));
      await vi.advanceTimersByTimeAsync(50);
    }
    const singles = sizes.filter((s) => s === 1).length;
    // Twenty requests over a second: a single write every quarter second or so, batches between.
    expect(singles).toBeGreaterThanOrEqual(3);
    expect(singles).toBeLessThanOrEqual(5);
  });

  it("waits on the clock it is given", async () => {
    let now = 0;
    const timers: { at: number; callback: () => void }[] = [];
    const clock: LimiterClock = {
      now: () => now,
      setTimeout: (callback, ms) => {
        const timer = { at: now + ms, callback };
        timers.push(timer);
        return timer;
      },
      clearTimeout: (timer) => {
        timers.splice(timers.indexOf(timer as (typeof timers)[number]), 1);
      },
    };
    const limiter = new AdaptiveLimiter({ clock });
    // Three requests fail with Retry-After: Graph struggles, and everyone waits.
    const started = [await limiter.acquire(1), await limiter.acquire(1), await limiter.acquire(1)];
    now = 100;
    for (const s of started) {
      limiter.release(1, s, { unavailable: 1, retryAfterMs: 2_000 });
    }
    let through = false;
    const waiting = limiter.acquire(1).then(() => {
      through = true;
    });
    expect(timers.map((t) => t.at)).toEqual([2_100]);
    now = 2_100;
    timers.shift()?.callback();
    await waiting;
    expect(through).toBe(true);
  });

  it("keeps its rate when Graph took what left after a 429, however far the pacer ran ahead of it", async () => {
    // A window quota: the Retry-After pause held requests back, so the rate that writes left at
    // (and were accepted at) sits far below the pacer's. That is no bucket's savings spent, and
    // the accepted rate is not the ceiling.
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    limiter.warmStart({ ratePerSecond: 36, ceilingPerSecond: 40, roundTripMs: 1_000 });
    await vi.advanceTimersByTimeAsync(100);
    const first = await acquire(limiter, 1);
    await vi.advanceTimersByTimeAsync(10);
    limiter.release(1, first, { throttled: 1, retryAfterMs: 1_000 });
    const cutTo = limiter.stats().ratePerSecond ?? 0;
    const inFlight: number[] = [];
    for (let i = 0; i < 5; i++) {
      inFlight.push(await acquire(limiter, 4));
    }
    const refused = await acquire(limiter, 1);
    await vi.advanceTimersByTimeAsync(10);
    limiter.release(1, refused, { throttled: 1, retryAfterMs: 1_000 });
    expect(limiter.stats().ratePerSecond).toBeGreaterThan(0.8 * cutTo);
    for (const started of inFlight) {
      limiter.release(4, started);
    }
    expect(limiter.stats().ratePerSecond).toBeGreaterThan(0.8 * cutTo);
  });

  it("judges a step by how fast its writes left, not by the idle time after them", async () => {
    // A chunk's last writes, one refused, then nothing to send until the next chunk: the step
    // stays open through the gap. Read as sent over the gap, its rate would look a fraction of
    // what it was, and the refusal would set the rate to that fraction.
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    limiter.warmStart({ ratePerSecond: 20, ceilingPerSecond: 20, roundTripMs: 1_000 });
    const before = limiter.stats().ratePerSecond ?? 0;
    const sent: number[] = [];
    for (let i = 0; i < 10; i++) {
      sent.push(await acquire(limiter, 4));
    }
    await vi.advanceTimersByTimeAsync(1_000);
    sent.forEach((started, i) => {
      limiter.release(
        4,
        started,
        i === sent.length - 1 ? { throttled: 1, retryAfterMs: 1_000 } : {},
      );
    });
    await vi.advanceTimersByTimeAsync(10_000);
    // The next chunk's first write opens a step; its answer judges the one before.
    await roundTrip(limiter, 1, 1_000);
    expect(limiter.stats().ratePerSecond).toBeGreaterThan(0.8 * before);
  });

  it("keeps its rate when a step sent far below it had a write or two refused", async () => {
    // The writers held back (or the event loop stalled) and the few requests that left bunched
    // past a bucket that holds 5: a refusal among 24 writes sent at 4 a second says nothing of a
    // quota of 20. Taking 96% of 4 a second as the rate cut it to a fifth and dragged the
    // ceiling down for a minute.
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    limiter.warmStart({ ratePerSecond: 20, ceilingPerSecond: 20, roundTripMs: 1_000 });
    const before = limiter.stats().ratePerSecond ?? 0;
    const sent: number[] = [];
    for (let i = 0; i < 12; i++) {
      sent.push(await acquire(limiter, 2));
      await vi.advanceTimersByTimeAsync(500);
    }
    sent.forEach((started, i) => {
      limiter.release(2, started, i === 5 ? { throttled: 1, retryAfterMs: 1_000 } : {});
    });
    // The next write opens a step; its answer judges the slow one.
    await roundTrip(limiter, 1, 1_000);
    await roundTrip(limiter, 1, 1_000);
    expect(limiter.stats().ratePerSecond).toBeGreaterThan(0.9 * before);
    expect(limiter.stats().ceilingPerSecond).toBeGreaterThan(0.9 * before);
  });

  it("halves once, not again, when four small requests are refused in a row right after a quick cut", async () => {
    // At a few writes a second, requests hold a write or two: refusals among the latest answers
    // cut the rate at once, and the next refused single makes four refused whole in a row. Both
    // cuts together took the rate to a quarter; one is the answer to those refusals.
    vi.useFakeTimers();
    const limiter = new AdaptiveLimiter();
    limiter.warmStart({ ratePerSecond: 10, ceilingPerSecond: 10, roundTripMs: 1_000 });
    const before = limiter.stats().ratePerSecond ?? 0;
    const accepted = [];
    for (let i = 0; i < 4; i++) {
      accepted.push(await acquire(limiter, 1));
    }
    const refused = [];
    for (let i = 0; i < 4; i++) {
      refused.push(await acquire(limiter, 1));
    }
    await vi.advanceTimersByTimeAsync(1_000);
    for (const started of accepted) {
      limiter.release(1, started);
    }
    for (const started of refused) {
      limiter.release(1, started, { throttled: 1, retryAfterMs: 1_000 });
    }
    const after = limiter.stats().ratePerSecond ?? 0;
    expect(after).toBeLessThan(0.9 * before);
    expect(after).toBeGreaterThanOrEqual(0.5 * before);
  });

  it("does not cut again for the refusals still in flight when a bucket's savings run out at a doubled latency", async () => {
    // Slow start runs at its cap (40/s) on a bucket's savings; the latency doubles meanwhile, so
    // when the savings run out some 4 s of writes are in flight and most come back refused. The
    // 429 that ends slow start halves the rate to the bucket's 20/s; the refusals after it were
    // sent before it, and used to cut the rate again, to about 10/s, which let the bucket save up
    // and the climb back overrun it.
    let endedAt: number | undefined;
    let lowest = Number.POSITIVE_INFINITY;
    const result = await simulate(
      {
        name: "bucketLatency",
        shape: "1,500 + 20/s, create latency doubled at 60 s",
        users: 6_000,
        quota: () => new TokenBucketQuota(1_500, 20),
        latencyChange: { atSeconds: 60, factor: 2 },
      },
      {
        header: false,
        seed: 3,
        onSecond: (s) => {
          if (endedAt === undefined && !s.limiter.slowStart) {
            endedAt = s.t;
          }
          if (endedAt !== undefined && s.t <= endedAt + 10) {
            lowest = Math.min(lowest, s.limiter.ratePerSecond ?? 0);
          }
        },
      },
    );
    expect(result.provisioned).toBe(6_000);
    expect(endedAt).toBeGreaterThan(60);
    expect(lowest).toBeGreaterThanOrEqual(0.9 * 20);
  });

  it("takes the rate Graph accepted as the ceiling once a bucket's savings are spent", async () => {
    // 200 writes at once, then 5 a second: slow start runs far past 5 a second on the savings.
    let firstThrottled: number | undefined;
    let finalCeiling = 0;
    const result = await simulate(
      {
        name: "bucket",
        shape: "200 + 5/s",
        users: 2_000,
        quota: () => new TokenBucketQuota(200, 5),
      },
      {
        header: false,
        seed: 3,
        onSecond: (s) => {
          if (s.throttled > 0 && firstThrottled === undefined) {
            firstThrottled = s.limiter.ratePerSecond;
          }
          finalCeiling = s.limiter.ceilingPerSecond ?? 0;
        },
      },
    );
    expect(result.provisioned).toBe(2_000);
    expect(firstThrottled).toBeGreaterThan(10);
    expect(finalCeiling).toBeLessThan(1.5 * 5);
    expect(finalCeiling).toBeGreaterThan(0.8 * 5);
  });
});
