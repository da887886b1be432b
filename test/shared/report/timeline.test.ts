import { describe, expect, it } from "vitest";
import type { ChunkTiming } from "../../../shared/run/index.js";
import { buildTimeline, TIMELINE_POINTS } from "../../../shared/report/timeline.js";

const T0 = Date.parse("2026-12-01T02:00:00.000Z");

function timing(startS: number, endS: number, users: number, extra: Partial<ChunkTiming> = {}) {
  return {
    startedAt: new Date(T0 + startS * 1000).toISOString(),
    endedAt: new Date(T0 + endS * 1000).toISOString(),
    users,
    wrote: users,
    throttled: 0,
    window: 4,
    ...extra,
  };
}

/** Users per interval, back from the per-hour rates. */
const usersIn = (perHour: number, seconds: number): number => (perHour * seconds) / 3600;

describe("buildTimeline", () => {
  it("is empty without timings, and leaves out timings with unreadable times", () => {
    expect(buildTimeline([])).toEqual({ intervalSeconds: 0, points: [], chunks: 0 });
    expect(buildTimeline([{ ...timing(0, 10, 5), startedAt: "not a time" }]).chunks).toBe(0);
  });

  it("spreads each chunk's users over the time it wrote and counts the chunks writing at once", () => {
    // Arrange: two chunks write 0-60 s and 30-90 s, 600 users each.
    const timings = [
      timing(0, 60, 600, { window: 6, throttled: 3 }),
      timing(30, 90, 600, { window: 9, throttled: 2 }),
    ];

    // Act
    const t = buildTimeline(timings, 9);

    // Assert: 90 s in at most 9 intervals: 10 s each, aligned to the clock.
    expect(t.intervalSeconds).toBe(10);
    expect(t.chunks).toBe(2);
    expect(t.points.map((p) => p.at)).toEqual(
      Array.from({ length: 9 }, (_, i) => new Date(T0 + i * 10_000).toISOString()),
    );
    // 100 users per 10 s from one chunk, 200 while both write.
    expect(t.points.map((p) => usersIn(p.usersPerHour, 10))).toEqual([
      100, 100, 100, 200, 200, 200, 100, 100, 100,
    ]);
    expect(t.points.map((p) => p.chunksWriting)).toEqual([1, 1, 1, 2, 2, 2, 1, 1, 1]);
    // 429s and the window count where a chunk ended (the window: the largest there).
    expect(t.points.map((p) => p.throttled)).toEqual([0, 0, 0, 0, 0, 3, 0, 0, 2]);
    expect(t.points.map((p) => p.window)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      6,
      undefined,
      undefined,
      9,
    ]);
  });

  it("keeps every user, write and 429 of the run across its intervals", () => {
    // Arrange: 40 chunks of uneven length and overlap.
    const timings = Array.from({ length: 40 }, (_, i) =>
      timing(i * 7, i * 7 + 13 + (i % 5), 250, { wrote: 200 + i, throttled: i % 4 }),
    );

    // Act
    const t = buildTimeline(timings, 12);

    // Assert
    const sum = (f: (p: (typeof t.points)[number]) => number): number =>
      t.points.reduce((a, p) => a + f(p), 0);
    expect(sum((p) => usersIn(p.usersPerHour, t.intervalSeconds))).toBeCloseTo(40 * 250, -1);
    expect(sum((p) => usersIn(p.writesPerHour, t.intervalSeconds))).toBeCloseTo(
      timings.reduce((a, x) => a + x.wrote, 0),
      -1,
    );
    expect(sum((p) => p.throttled)).toBe(timings.reduce((a, x) => a + x.throttled, 0));
  });

  it("stays at a few dozen round intervals for a long run of many chunks", () => {
    // Arrange: a million users, 4,000 chunks over 10 hours, 4 at a time.
    const timings = Array.from({ length: 4000 }, (_, i) => {
      const start = Math.floor(i / 4) * 36;
      return timing(start, start + 36, 250);
    });

    // Act
    const t = buildTimeline(timings);

    // Assert
    expect(t.points.length).toBeLessThanOrEqual(TIMELINE_POINTS + 1);
    expect(t.intervalSeconds).toBe(600);
    expect(t.points[1]?.chunksWriting).toBe(4);
    expect(t.points[1]?.usersPerHour).toBe(100_000);
  });

  it("counts a chunk that ended within its first millisecond", () => {
    const t = buildTimeline([timing(5, 5, 3)]);
    expect(t.chunks).toBe(1);
    expect(t.points).toHaveLength(1);
    expect(usersIn(t.points[0]?.usersPerHour ?? 0, t.intervalSeconds)).toBe(3);
  });
});
