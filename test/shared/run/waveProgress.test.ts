import { describe, expect, it } from "vitest";
import {
  emptyCounts,
  withWavesInFlight,
  type RunStatus,
  type WaveStatus,
} from "../../../shared/run/index.js";

const run = (wavesRunning?: string[]): Partial<RunStatus> => ({
  phase: "provisioning",
  chunks: { total: 10, done: 4, failed: 0 },
  counts: { ...emptyCounts(), created: 1_000 },
  throttled: 3,
  wavesRunning,
});

const wave = (done: number, created: number): WaveStatus => ({
  chunksDone: done,
  chunksFailed: 0,
  counts: { ...emptyCounts(), created },
  throttled: 1,
});

describe("withWavesInFlight", () => {
  it("adds the chunks the waves in flight finished since the run published", () => {
    const merged = withWavesInFlight(run(["r:wave:2", "r:wave:3"]), [wave(1, 250), wave(2, 500)]);
    expect(merged.chunks).toEqual({ total: 10, done: 7, failed: 0 });
    expect(merged.counts?.created).toBe(1_750);
    expect(merged.throttled).toBe(5);
  });

  it("measures the rate and the ETA on the chunks the waves in flight finished", () => {
    // Arrange: provisioning began 10 minutes ago; the run itself published 1,000 users done.
    const now = new Date("2026-12-02T01:10:00.000Z");
    const status: Partial<RunStatus> = {
      ...run(["r:wave:0"]),
      counts: { ...emptyCounts(), planned: 4_000, created: 1_000 },
      provisioningStartedAt: "2026-12-02T01:00:00.000Z",
      usersPerHour: 6_000,
      etaAt: "2026-12-02T01:40:00.000Z",
    };

    // Act: the wave in flight finished 1,000 more.
    const merged = withWavesInFlight(status, [wave(2, 1_000)], now);

    // Assert: 2,000 users in 10 minutes, 2,000 left: 12,000 an hour, done in 10 more minutes.
    expect(merged.usersPerHour).toBe(12_000);
    expect(merged.etaAt).toBe("2026-12-02T01:20:00.000Z");
  });

  it("leaves the run's status as it is when no wave runs or a wave has no status yet", () => {
    const idle = run();
    expect(withWavesInFlight(idle, [wave(1, 250)])).toBe(idle);
    const merged = withWavesInFlight(run(["r:wave:2"]), [undefined]);
    expect(merged.chunks?.done).toBe(4);
    expect(merged.counts?.created).toBe(1_000);
  });
});
