/**
 * rerunFailed's own logic, stepped without a host: it provisions only what the finished run left,
 * with that run's settings and tuning, and rebuilds that run's report.
 */
import { describe, expect, it } from "vitest";
import { rerunFailedOrchestration } from "../../orchestrators/rerunFailed.js";
import { emptyCounts, resolveTuning, type RunOutput } from "../../shared/run/index.js";
import { driveOrchestration, type ScheduledCall } from "../support/orchestrationDriver.js";
import { testRunOutput, testRunSettings } from "../support/runFixtures.js";

const source: RunOutput = testRunOutput({
  settings: testRunSettings({ logPhoneNumbers: "full" }),
  tuning: resolveTuning({ chunksPerWave: 8, retryIntervalMs: 50 }),
  excludedGroupIds: ["g-bg"],
  counts: { ...emptyCounts(), created: 15, failed: 5 },
  plan: { create: 20 },
  failedChunks: [3],
  retryableChunks: [1, 3],
  chunks: 4,
  withoutMfa: 20,
});

const answer = (call: ScheduledCall): unknown => {
  if (call.name === "refreshHolders") {
    return { ok: true, excluded: 2, roleHolders: 4 };
  }
  if (call.name === "releaseRunLock") {
    return null;
  }
  if (call.name === "recheckChunks") {
    return { changed: 1 };
  }
  if (call.name === "provisionWave") {
    const { chunkNos } = call.input as { chunkNos: number[] };
    return {
      results: chunkNos.map((chunkNo) => ({
        chunkNo,
        ok: true,
        counts: emptyCounts(),
        throttled: 0,
      })),
    };
  }
  return {
    counts: { ...emptyCounts(), created: 20 },
    retryableChunks: [],
    reportKeys: source.reportKeys,
  };
};

describe("rerunFailed", () => {
  it("provisions only the failed and retryable chunks, retrying transient failures, with the run's log mode", () => {
    const run = driveOrchestration(rerunFailedOrchestration.handler, {
      input: { source },
      answer,
      instanceId: "run-1-rerun",
    });
    expect(run.error).toBeUndefined();
    // Fresh at write time: groups and roles read again, every user to write re-read, first.
    expect(run.calls.slice(0, 2).map((c) => [c.name, c.input])).toEqual([
      ["refreshHolders", { runId: "run-1", excludedGroupIds: ["g-bg"], skipAdmins: true }],
      [
        "recheckChunks",
        { runId: "run-1", chunkNos: [1, 3], rereadUsers: true, allowLandline: false },
      ],
    ]);
    const wave = run.calls.find((c) => c.name === "provisionWave");
    expect(wave?.input).toEqual({
      runId: "run-1",
      chunkNos: [1, 3],
      chunksInFlight: 1,
      retryFailed: true,
      logPhoneNumbers: "full",
      retryIntervalMs: 50,
      graphWaits: source.tuning.graphWaits,
      takeTurns: true,
      quickStart: true,
    });
    const summary = run.calls.find((c) => c.name === "summarizeRun");
    expect(summary?.input).toMatchObject({
      runId: "run-1",
      dryRun: false,
      logPhoneNumbers: "full",
      startedAt: source.startedAt,
    });
    expect(run.output).toMatchObject({
      runId: "run-1",
      settings: source.settings,
      counts: { created: 20 },
      failedChunks: [],
    });
  });

  it("refuses a dry run's output, and an input with today's settings slipped in", () => {
    const dry = driveOrchestration(rerunFailedOrchestration.handler, {
      input: { source: { ...source, dryRun: true } },
      answer,
    });
    expect(dry.error?.message).toBe(
      "rerunFailed: run 'run-1' was a dry run; there is nothing to rerun.",
    );
    const extra = driveOrchestration(rerunFailedOrchestration.handler, {
      input: { source, logPhoneNumbers: "masked" },
      answer,
    });
    expect(extra.error?.message).toContain("unknown keys 'logPhoneNumbers'");
    // Nothing is re-read or written; the refused input never reaches the rerun at all.
    expect(dry.calls.map((c) => c.name)).toEqual(["releaseRunLock"]);
    expect(extra.calls).toEqual([]);
  });
});
