import { afterEach, describe, expect, it, vi } from "vitest";
import { formatSpan, progressLine, ProgressView } from "../../../local/cli/progress.js";
import type { InstanceStatus } from "../../../local/host/types.js";
import { emptyCounts, type RunStatus } from "../../../shared/run/index.js";

const NOW = new Date("2026-12-01T02:10:00.000Z");

function provisioning(overrides: Partial<RunStatus> = {}): Partial<RunStatus> {
  return {
    phase: "provisioning",
    counts: { ...emptyCounts(), planned: 20_000, created: 4_000, alreadyPresent: 900, failed: 100 },
    usersPerHour: 60_000,
    throttled: 12,
    etaAt: "2026-12-01T02:25:00.000Z",
    chunks: { total: 80, done: 20, failed: 0 },
    ...overrides,
  };
}

describe("progressLine", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it("shows users done of planned, the real rate, 429s and the time left while provisioning", () => {
    expect(progressLine(provisioning(), { now: NOW })).toBe(
      "provisioning: 5,000/20,000 users (25%) | 60,000 users/h | 429s 12 | ETA in 15 min 00 s (02:25:00 UTC)",
    );
  });

  it("says when the emulator runs time-scaled, by how much, and the rate at Graph's own pace", () => {
    expect(progressLine(provisioning(), { now: NOW, timeScale: 0.05 })).toBe(
      "provisioning: 5,000/20,000 users (25%) | 60,000 users/h (emulator time x20: about 3,000/h at Graph's pace) | 429s 12 | ETA in 15 min 00 s (02:25:00 UTC)",
    );
    expect(progressLine(provisioning(), { now: NOW, timeScale: 0.4 })).toContain(
      "(emulator time x2.5: about 24,000/h at Graph's pace)",
    );
  });

  it("shows dashes before the first chunk has measured a rate", () => {
    const line = progressLine(provisioning({ usersPerHour: undefined, etaAt: undefined }), {
      now: NOW,
    });
    expect(line).toBe("provisioning: 5,000/20,000 users (25%) | rate – | 429s 12 | ETA –");
  });

  it("counts chunks for a rerun, whose status has no planned users", () => {
    const line = progressLine(
      provisioning({ counts: emptyCounts(), chunks: { total: 6, done: 2, failed: 1 } }),
      { now: NOW },
    );
    expect(line.startsWith("provisioning: 3/6 chunks | ")).toBe(true);
  });

  it("names what each earlier phase is doing", () => {
    const counts = { ...emptyCounts(), candidates: 12_345, planned: 2_001 };
    expect(progressLine({}, { now: NOW })).toBe("starting: resolving the groups");
    expect(
      progressLine(
        { phase: "discovering", pages: { users: 7, report: 3, excluded: 0 } },
        { now: NOW },
      ),
    ).toBe("discovering: 7 user pages, 3 report pages read");
    expect(progressLine({ phase: "planning", counts }, { now: NOW })).toBe(
      "planning: 12,345 users decided, 2,001 writes planned",
    );
    expect(
      progressLine(
        {
          phase: "awaitingApproval",
          counts,
          approval: { threshold: 1000, planned: 2001, expiresAt: "2026-12-01T22:00:00.000Z" },
        },
        { now: NOW },
      ),
    ).toBe("awaiting approval: 2,001 planned writes, above APPROVAL_THRESHOLD (1,000)");
    expect(progressLine({ phase: "summarizing", counts }, { now: NOW })).toBe(
      "summarizing: 0/2,001 users (0%)",
    );
  });

  it("writes spans as hours and minutes, minutes and seconds, or seconds", () => {
    expect(formatSpan(42_000)).toBe("42 s");
    expect(formatSpan(190_000)).toBe("3 min 10 s");
    expect(formatSpan(3_900_000)).toBe("1 h 05 min");
    expect(formatSpan(-5_000)).toBe("0 s");
  });

  it("without a terminal prints a line at each phase change and otherwise every 5 seconds", () => {
    // Arrange
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
    const lines: string[] = [];
    const stream = {
      isTTY: false,
      write: (t: string) => lines.push(t),
    } as unknown as NodeJS.WriteStream;
    const view = new ProgressView({ stream });
    const status = (s: Partial<RunStatus>): InstanceStatus =>
      ({ customStatus: s, runtimeStatus: "Running" }) as unknown as InstanceStatus;

    // Act
    view.update(status({ phase: "planning", counts: emptyCounts() }));
    view.update(status(provisioning()));
    vi.advanceTimersByTime(1_000);
    view.update(status(provisioning()));
    vi.advanceTimersByTime(5_000);
    view.update(status(provisioning()));

    // Assert
    expect(lines.map((l) => l.slice(0, l.indexOf(":")))).toEqual([
      "planning",
      "provisioning",
      "provisioning",
    ]);
    expect(lines.every((l) => l.endsWith("\n"))).toBe(true);
  });
});
