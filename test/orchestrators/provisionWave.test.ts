/**
 * provisionWave's own logic, stepped without a host: chunks a few at a time, a failed chunk
 * listed with its first line, a fatal answer stopping the wave.
 */
import { describe, expect, it } from "vitest";
import {
  provisionWaveOrchestration,
  type ProvisionWaveInput,
  type ProvisionWaveOutput,
} from "../../orchestrators/provisionWave.js";
import { emptyCounts } from "../../shared/run/index.js";
import { driveOrchestration, type ScheduledCall } from "../support/orchestrationDriver.js";

const input: ProvisionWaveInput = {
  runId: "run-1",
  chunkNos: [4, 5, 6, 7, 8],
  chunksInFlight: 2,
  retryFailed: true,
  logPhoneNumbers: "full",
  retryIntervalMs: 100,
};

const done = (call: ScheduledCall): unknown => {
  const { chunkNo } = call.input as { chunkNo: number };
  return { chunkNo, counts: { ...emptyCounts(), created: chunkNo }, throttled: 0 };
};

describe("provisionWave", () => {
  it("provisions its chunks in groups of chunksInFlight, passing the rerun flag and log mode", () => {
    const run = driveOrchestration(provisionWaveOrchestration.handler, { input, answer: done });
    expect(run.calls.map((c) => c.input)).toEqual(
      [4, 5, 6, 7, 8].map((chunkNo) => ({
        runId: "run-1",
        chunkNo,
        retryFailed: true,
        logPhoneNumbers: "full",
      })),
    );
    const groups = run.yields.map((y) => y.map((c) => (c.input as { chunkNo: number }).chunkNo));
    expect(groups).toEqual([[4, 5], [6, 7], [8]]);
    const output = run.output as ProvisionWaveOutput;
    expect(output.results.map((r) => r.ok && r.counts.created)).toEqual([4, 5, 6, 7, 8]);
  });

  it("lists a chunk whose activity failed after its retries, with the error's first line", () => {
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input,
      answer: (call) => {
        if ((call.input as { chunkNo: number }).chunkNo === 5) {
          throw new Error("provisionChunk: the run store is unreachable.\n    at stack");
        }
        return done(call);
      },
    });
    const output = run.output as ProvisionWaveOutput;
    expect(output.fatal).toBeUndefined();
    expect(output.results).toContainEqual({
      chunkNo: 5,
      ok: false,
      error: "provisionChunk: the run store is unreachable.",
    });
    expect(output.results).toHaveLength(5);
  });

  it("stops after the group in which a chunk reports a fatal error", () => {
    const fatal = "Graph: the app lacks 'UserAuthenticationMethod.ReadWrite.All'.";
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input,
      answer: (call) =>
        (call.input as { chunkNo: number }).chunkNo === 6 ? { chunkNo: 6, fatal } : done(call),
    });
    const output = run.output as ProvisionWaveOutput;
    expect(output.fatal).toBe(fatal);
    expect(run.calls.map((c) => (c.input as { chunkNo: number }).chunkNo)).toEqual([4, 5, 6, 7]);
  });

  it("starts no further chunk after one finds Graph unavailable, and lists the unfinished ones", () => {
    const unavailable =
      "Graph unavailable: 5 batches in a row got only 5xx answers or none in 60 s.";
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input,
      answer: (call) =>
        (call.input as { chunkNo: number }).chunkNo === 7
          ? { chunkNo: 7, unavailable }
          : done(call),
    });
    const output = run.output as ProvisionWaveOutput;
    expect(run.calls.map((c) => (c.input as { chunkNo: number }).chunkNo)).toEqual([4, 5, 6, 7]);
    expect(output.unavailable).toBe(unavailable);
    expect(output.unfinished).toEqual([7, 8]);
    expect(output.results.map((r) => r.chunkNo)).toEqual([4, 5, 6]);
  });

  it("publishes its finished chunks as its custom status after each group, for per-chunk progress", () => {
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input,
      answer: (call) => {
        if ((call.input as { chunkNo: number }).chunkNo === 5) {
          throw new Error("the run store is unreachable");
        }
        return done(call);
      },
    });
    expect(run.statuses.map((s) => [s.chunksDone, s.chunksFailed])).toEqual([
      [1, 1],
      [3, 1],
      [4, 1],
    ]);
    expect(run.statuses.at(-1)).toMatchObject({ counts: { created: 4 + 6 + 7 + 8 } });
  });

  it("refuses an input with no chunks or unknown keys", () => {
    for (const bad of [
      { ...input, chunkNos: [] },
      { ...input, writeEvenIfCancelled: true },
    ]) {
      const run = driveOrchestration(provisionWaveOrchestration.handler, {
        input: bad,
        answer: done,
      });
      expect(run.error?.message).toMatch(/^provisionWave: the input is refused: /);
      expect(run.calls).toEqual([]);
    }
  });
});
