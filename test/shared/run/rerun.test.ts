import { describe, expect, it } from "vitest";
import {
  emptyCounts,
  prepareRerun,
  resolveTuning,
  type RunOutput,
} from "../../../shared/run/index.js";

const output: RunOutput = {
  runId: "run-1",
  dryRun: false,
  settings: {
    excludeGroups: [],
    target: "mfaUnregistered",
    skipAdmins: true,
    allowLandline: false,
    replaceExisting: false,
    maxWritesPerRun: 0,
    numberSettleDays: 3,
    dryRun: false,
    logPhoneNumbers: "full",
  },
  tuning: resolveTuning({ chunkSize: 5 }),
  counts: emptyCounts(),
  plan: { create: 3 },
  failedChunks: [2],
  retryableChunks: [],
  chunks: 3,
  userPages: 1,
  withoutMfa: 3,
  throttled: 0,
  startedAt: "2026-12-01T02:00:00.000Z",
  finishedAt: "2026-12-01T02:10:00.000Z",
  reportKeys: { json: "runs/run-1/report.json", csv: "runs/run-1/report.csv" },
};

describe("prepareRerun", () => {
  it("refuses a run that has not completed", () => {
    expect(prepareRerun({ instanceId: "run-1", runtimeStatus: "Running", output })).toEqual({
      error: "Run 'run-1' is Running; only a completed run can be rerun.",
    });
  });

  it("refuses a dry run, which wrote nothing to repair", () => {
    const dry = { ...output, dryRun: true };
    expect(prepareRerun({ instanceId: "run-1", runtimeStatus: "Completed", output: dry })).toEqual({
      error: "Run 'run-1' was a dry run; there is nothing to rerun.",
    });
  });

  it("refuses a completed instance whose output is not a run's", () => {
    expect(
      prepareRerun({ instanceId: "x", runtimeStatus: "Completed", output: { runId: "x" } }),
    ).toEqual({ error: "Run 'x' has no output a rerun can start from." });
  });

  it("builds a rerun of the finished run's own output, settings and tuning, under a new id", () => {
    const rerun = prepareRerun({ instanceId: "run-1", runtimeStatus: "Completed", output });
    expect("error" in rerun).toBe(false);
    if (!("error" in rerun)) {
      expect(rerun.rerunId).toMatch(/^run-1-rerun-\d{8}T\d{6}Z-[0-9a-f]{4}$/);
      expect(rerun.input).toEqual({ source: output });
      // The log mode and tuning a rerun uses are the run's, not today's environment's.
      expect(rerun.input.source.settings.logPhoneNumbers).toBe("full");
      expect(rerun.input.source.tuning.chunkSize).toBe(5);
    }
  });
});
