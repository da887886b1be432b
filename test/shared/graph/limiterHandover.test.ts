/**
 * The write budget's handover between instances: a chunk stores what its limiter learned under the
 * run's keys, and the next chunk's process starts from it when its limiter has no state of its own,
 * or when the stored state is newer than its own (two processes taking chunks in turn).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { handOverLimiter, resumeLimiter } from "../../../shared/graph/limiterHandover.js";
import { AdaptiveLimiter } from "../../../shared/graph/throttle.js";
import { runKeys } from "../../../shared/run/index.js";
import { FsRunStore } from "../../../shared/store/index.js";

/** A limiter that has learned a quota of 20 writes a second (as after a run of 429s). */
function learnedLimiter(): AdaptiveLimiter {
  const limiter = new AdaptiveLimiter();
  limiter.warmStart({ ratePerSecond: 19, ceilingPerSecond: 20, roundTripMs: 800 });
  return limiter;
}

describe("handing the limiter over between instances", () => {
  let dir: string;
  let store: FsRunStore;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-handover-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("keeps a rate that grew past the ceiling on writes Graph took, rather than cutting it back at every handover", async () => {
    // Arrange: the previous chunk's limiter grew above where it had placed the quota (the quota
    // was higher than the ceiling it had placed); chunks alternate between instances.
    const previous = new AdaptiveLimiter();
    previous.warmStart({ ratePerSecond: 21, ceilingPerSecond: 18, roundTripMs: 800 });
    await handOverLimiter(store, "r1", previous);
    const next = new AdaptiveLimiter();

    // Act
    await resumeLimiter(store, "r1", next);

    // Assert
    expect(next.stats().ratePerSecond).toBeCloseTo(21);
    expect(next.stats().ceilingPerSecond).toBeCloseTo(18);
  });

  it("starts a fresh limiter at the rate and ceiling the previous chunk's limiter learned", async () => {
    // Arrange
    const previous = learnedLimiter();
    await handOverLimiter(store, "r1", previous);
    const next = new AdaptiveLimiter();

    // Act
    const taken = await resumeLimiter(store, "r1", next);

    // Assert
    expect(taken).toBe(true);
    const stats = next.stats();
    expect(stats.slowStart).toBe(false);
    expect(stats.ceilingPerSecond).toBeCloseTo(20);
    expect(stats.ratePerSecond).toBeCloseTo(previous.stats().ratePerSecond ?? 0);
    expect(stats.roundTripMs).toBe(800);
  });

  it("stores rates and a round trip only, under the run's keys", async () => {
    // Act
    await handOverLimiter(store, "r1", learnedLimiter());

    // Assert
    const stored = await store.getJson<Record<string, unknown>>(runKeys.limiter("r1"));
    expect(Object.keys(stored ?? {}).sort()).toEqual(["limiter", "savedAt"]);
    expect(Object.keys((stored?.limiter as object) ?? {}).sort()).toEqual([
      "ceilingPerSecond",
      "ratePerSecond",
      "roundTripMs",
    ]);
    expect(await store.getJson(runKeys.limiter("r2"))).toBeUndefined();
  });

  it("leaves a limiter that has sent with what it learned itself", async () => {
    // Arrange: this process's limiter found a quota of 5 a second; another stored 20.
    await handOverLimiter(store, "r1", learnedLimiter());
    const own = new AdaptiveLimiter();
    own.warmStart({ ratePerSecond: 4.5, ceilingPerSecond: 5, roundTripMs: 600 });
    const start = await own.acquire(1);
    own.release(1, start);

    // Act
    const taken = await resumeLimiter(store, "r1", own);

    // Assert
    expect(taken).toBe(false);
    expect(own.stats().ceilingPerSecond).toBeCloseTo(5);
  });

  it("stores nothing while the limiter is still in slow start, keeping the earlier state", async () => {
    // Arrange
    await handOverLimiter(store, "r1", learnedLimiter());
    const before = await store.getJson(runKeys.limiter("r1"));

    // Act
    await handOverLimiter(store, "r1", new AdaptiveLimiter());

    // Assert
    expect(await store.getJson(runKeys.limiter("r1"))).toEqual(before);
  });

  it("starts in slow start when nothing or nonsense is stored", async () => {
    // Arrange
    const fresh = new AdaptiveLimiter();
    const other = new AdaptiveLimiter();
    await store.putJson(runKeys.limiter("r2"), {
      savedAt: "x",
      limiter: { ratePerSecond: -1, roundTripMs: 0 },
    });

    // Act
    const fromNothing = await resumeLimiter(store, "r1", fresh);
    const fromNonsense = await resumeLimiter(store, "r2", other);

    // Assert
    expect([fromNothing, fromNonsense]).toEqual([false, false]);
    expect([fresh.stats().slowStart, other.stats().slowStart]).toEqual([true, true]);
  });

  describe("two processes taking chunks in turn", () => {
    /** Minutes pass between two chunks (an activity ending, the next one scheduled and picked up). */
    const nextChunk = (): void => {
      vi.setSystemTime(Date.now() + 60_000);
    };

    /** A slower answer, then 429s: the limiter learns a longer round trip and a lower rate. */
    const learnLowerQuota = async (limiter: AdaptiveLimiter): Promise<void> => {
      let start = await limiter.acquire(1);
      vi.setSystemTime(Date.now() + 3_000);
      limiter.release(1, start);
      for (let i = 0; i < 3; i++) {
        start = await limiter.acquire(1);
        vi.setSystemTime(Date.now() + 100);
        limiter.release(1, start, { throttled: 1, retryAfterMs: 1_000 });
      }
    };

    /** Process A writes chunk 1 and hands over; process B writes chunk 2 (a 429) and hands over. */
    const aThenB = async (): Promise<{ a: AdaptiveLimiter; b: AdaptiveLimiter }> => {
      const a = learnedLimiter();
      const sent = await a.acquire(1);
      a.release(1, sent);
      await handOverLimiter(store, "r1", a);
      nextChunk();
      const b = new AdaptiveLimiter();
      await resumeLimiter(store, "r1", b);
      await learnLowerQuota(b);
      await handOverLimiter(store, "r1", b);
      nextChunk();
      return { a, b };
    };

    beforeEach(() => {
      vi.useFakeTimers({ toFake: ["Date"], now: Date.parse("2026-01-01T02:00:00Z") });
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it("has the returning process take the state the other one stored since", async () => {
      // Arrange
      const { a, b } = await aThenB();
      const own = a.snapshot();
      const newer = b.snapshot();
      expect(newer?.ratePerSecond).toBeLessThan(own?.ratePerSecond ?? 0);

      // Act: chunk 3 lands on process A again.
      const taken = await resumeLimiter(store, "r1", a);

      // Assert
      expect(taken).toBe(true);
      expect(a.snapshot()).toEqual(newer);
    });

    it("leaves the process that stored last with its own state", async () => {
      // Arrange
      const { a, b } = await aThenB();
      const own = b.snapshot();

      // Act: chunk 3 lands on process B again, which wrote chunk 2.
      const taken = await resumeLimiter(store, "r1", b);

      // Assert: its own state, not A's older one.
      expect(taken).toBe(false);
      expect(b.snapshot()).toEqual(own);
      expect(b.snapshot()).not.toEqual(a.snapshot());
    });

    it("takes a newer state only with no request of the process in flight", async () => {
      // Arrange: another activity of process A has a request out.
      const { a, b } = await aThenB();
      const own = a.snapshot();
      const out = await a.acquire(1);

      // Act
      const whileOut = await resumeLimiter(store, "r1", a);
      a.release(1, out);
      const afterwards = await resumeLimiter(store, "r1", a);

      // Assert
      expect(whileOut).toBe(false);
      expect(afterwards).toBe(true);
      expect(own).not.toEqual(b.snapshot());
      expect(a.snapshot()).toEqual(b.snapshot());
    });

    it("keeps its own state over an older one stored for another run", async () => {
      // Arrange: run r0's state was stored before process A's limiter handed over in r1.
      const older = new AdaptiveLimiter();
      older.warmStart({ ratePerSecond: 2, ceilingPerSecond: 2.5, roundTripMs: 400 });
      await handOverLimiter(store, "r0", older);
      nextChunk();
      const { a } = await aThenB();
      await resumeLimiter(store, "r1", a);
      const own = a.snapshot();

      // Act: a rerun of r0 writes on process A.
      const taken = await resumeLimiter(store, "r0", a);

      // Assert
      expect(taken).toBe(false);
      expect(a.snapshot()).toEqual(own);
    });
  });
});
