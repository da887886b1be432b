/**
 * The write budget's handover between instances: a chunk stores what its limiter learned under the
 * run's keys, and the next chunk's process starts from it when its limiter has no state of its own.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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
});
