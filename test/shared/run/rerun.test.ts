import { describe, expect, it } from "vitest";
import { prepareRerun, resolveTuning } from "../../../shared/run/index.js";
import { testRunOutput, testRunSettings } from "../../support/runFixtures.js";

const output = testRunOutput({
  settings: testRunSettings({ logPhoneNumbers: "full" }),
  tuning: resolveTuning({ chunkSize: 5 }),
  failedChunks: [2],
  finishedAt: "2026-12-01T02:10:00.000Z",
});
const policy = { maxAgeHours: 48, now: new Date("2026-12-02T02:10:00.000Z") };

describe("prepareRerun", () => {
  it("refuses a run that has not completed", () => {
    expect(prepareRerun({ instanceId: "run-1", runtimeStatus: "Running", output }, policy)).toEqual(
      { error: "Run 'run-1' is Running; only a completed run can be rerun." },
    );
  });

  it("refuses a dry run, which wrote nothing to repair", () => {
    const dry = { ...output, dryRun: true };
    expect(
      prepareRerun({ instanceId: "run-1", runtimeStatus: "Completed", output: dry }, policy),
    ).toEqual({ error: "Run 'run-1' was a dry run; there is nothing to rerun." });
  });

  it("refuses a run whose plan was not approved", () => {
    const unapproved = {
      ...output,
      approval: { status: "notApproved" as const, threshold: 1000, planned: 5000 },
    };
    expect(
      prepareRerun({ instanceId: "run-1", runtimeStatus: "Completed", output: unapproved }, policy),
    ).toEqual({
      error: "Run 'run-1' was not approved and wrote nothing; start a new run instead.",
    });
  });

  it("refuses a run that finished longer ago than RERUN_MAX_AGE_HOURS: an old plan is not replayed", () => {
    const later = { maxAgeHours: 48, now: new Date("2026-12-03T03:10:00.000Z") };
    expect(
      prepareRerun({ instanceId: "run-1", runtimeStatus: "Completed", output }, later),
    ).toEqual({
      error:
        "Run 'run-1' finished 49 hours ago, longer than RERUN_MAX_AGE_HOURS (48); start a new run, which plans from today's directory.",
    });
  });

  it("refuses a completed instance whose output is not a run's", () => {
    expect(
      prepareRerun({ instanceId: "x", runtimeStatus: "Completed", output: { runId: "x" } }, policy),
    ).toEqual({ error: "Run 'x' has no output a rerun can start from." });
  });

  it("builds a rerun of the finished run's own output, settings and tuning, under a new id", () => {
    const rerun = prepareRerun({ instanceId: "run-1", runtimeStatus: "Completed", output }, policy);
    expect("error" in rerun).toBe(false);
    if (!("error" in rerun)) {
      expect(rerun.rerunId).toMatch(/^run-1-rerun-20261202T021000Z-[0-9a-f]{4}$/);
      expect(rerun.input).toEqual({ source: output });
      // The log mode and tuning a rerun uses are the run's, not today's environment's.
      expect(rerun.input.source.settings.logPhoneNumbers).toBe("full");
      expect(rerun.input.source.tuning.chunkSize).toBe(5);
    }
  });
});
