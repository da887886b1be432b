import { describe, expect, it } from "vitest";
import { prepareRerun, type RunOutput } from "../../shared/runTypes.js";

const output = { runId: "run-1", dryRun: false, failedChunks: [2] } as unknown as RunOutput;

describe("prepareRerun", () => {
  it("refuses a run that has not completed", () => {
    expect(
      prepareRerun({ instanceId: "run-1", runtimeStatus: "Running", output }, "masked"),
    ).toEqual({
      error: "Run 'run-1' is Running; only a completed run can be rerun.",
    });
  });

  it("refuses a dry run, which wrote nothing to repair", () => {
    const dry = { ...output, dryRun: true };
    expect(
      prepareRerun({ instanceId: "run-1", runtimeStatus: "Completed", output: dry }, "masked"),
    ).toEqual({
      error: "Run 'run-1' was a dry run; there is nothing to rerun.",
    });
  });

  it("builds a rerun of the finished run's own output under a new id", () => {
    const rerun = prepareRerun({ instanceId: "run-1", runtimeStatus: "Completed", output }, "full");
    expect("error" in rerun).toBe(false);
    if (!("error" in rerun)) {
      expect(rerun.rerunId).toMatch(/^run-1-rerun-\d{8}T\d{6}Z-[0-9a-f]{4}$/);
      expect(rerun.input).toEqual({ source: output, logPhoneNumbers: "full" });
    }
  });
});
