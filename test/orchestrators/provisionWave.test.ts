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
import { emptyCounts, QUICK_CHUNK_MS, TURN_WAIT_MS } from "../../shared/run/index.js";
import {
  driveOrchestration,
  type DrivenRun,
  type ScheduledCall,
} from "../support/orchestrationDriver.js";

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

describe("provisionWave taking turns", () => {
  const turns: ProvisionWaveInput = { ...input, chunksInFlight: 1, takeTurns: true };
  type Turn = { token: string; after?: string; waitMs: number };
  const turnOf = (run: DrivenRun, chunkNo: number): Turn | undefined =>
    (
      run.calls.find((c) => (c.input as { chunkNo: number }).chunkNo === chunkNo)?.input as {
        turn?: Turn;
      }
    ).turn;

  it("schedules each next chunk while the one before writes, after that one's token, once a chunk proved quick", () => {
    // Act: every chunk answers within a second of orchestration time (quick).
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input: turns,
      answer: done,
    });

    // Assert: the first chunk runs alone; from then on the next is scheduled before the one in
    // flight is answered, and waits for that one's token.
    expect(run.log).toEqual([
      "scheduled provisionChunk 4",
      "answered provisionChunk 4",
      "scheduled provisionChunk 5",
      "scheduled provisionChunk 6",
      "answered provisionChunk 5",
      "scheduled provisionChunk 7",
      "answered provisionChunk 6",
      "scheduled provisionChunk 8",
      "answered provisionChunk 7",
      "answered provisionChunk 8",
    ]);
    expect(turnOf(run, 4)?.after).toBeUndefined();
    expect(turnOf(run, 5)?.after).toBeUndefined();
    for (const [chunkNo, before] of [
      [6, 5],
      [7, 6],
      [8, 7],
    ]) {
      expect(turnOf(run, chunkNo as number)?.after).toBe(turnOf(run, before as number)?.token);
    }
    expect(new Set([4, 5, 6, 7, 8].map((c) => turnOf(run, c)?.token)).size).toBe(5);
    expect(turnOf(run, 6)?.waitMs).toBe(TURN_WAIT_MS);
    const output = run.output as ProvisionWaveOutput;
    expect(output.results.map((r) => r.ok && r.counts.created)).toEqual([4, 5, 6, 7, 8]);
  });

  it("goes one chunk after the other while chunks are slow (a quota of a few writes a second)", () => {
    // Act: every chunk takes longer than a quick one.
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input: turns,
      answer: done,
      stepMs: QUICK_CHUNK_MS + 1_000,
    });

    // Assert
    expect(run.log).toEqual(
      [4, 5, 6, 7, 8].flatMap((c) => [
        `scheduled provisionChunk ${c}`,
        `answered provisionChunk ${c}`,
      ]),
    );
    expect([4, 5, 6, 7, 8].map((c) => turnOf(run, c)?.after)).toEqual(Array(5).fill(undefined));
  });

  it("lets the second chunk take its turn at once when the wave before had quick chunks", () => {
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input: { ...turns, quickStart: true },
      answer: done,
    });
    expect(run.log.slice(0, 3)).toEqual([
      "scheduled provisionChunk 4",
      "scheduled provisionChunk 5",
      "answered provisionChunk 4",
    ]);
    expect(turnOf(run, 5)?.after).toBe(turnOf(run, 4)?.token);
  });

  it("runs a chunk whose turn did not come again once the one before ended, keeping its token for the next", () => {
    // Arrange: chunk 5 waits longer than its bound for chunk 4 and ends unwritten the first time.
    let missed = false;
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input: { ...turns, quickStart: true },
      answer: (call) => {
        const { chunkNo } = call.input as { chunkNo: number };
        if (chunkNo === 5 && !missed) {
          missed = true;
          return { chunkNo, turnMissed: true };
        }
        return done(call);
      },
    });

    // Assert: chunk 5 runs again after chunk 4 was answered, with its token and no turn to wait
    // for; chunk 6, already in turn after it, still waits for that token.
    expect(run.log.slice(0, 7)).toEqual([
      "scheduled provisionChunk 4",
      "scheduled provisionChunk 5",
      "answered provisionChunk 4",
      "scheduled provisionChunk 6",
      "answered provisionChunk 5",
      "scheduled provisionChunk 5",
      "answered provisionChunk 5",
    ]);
    const fives = run.calls.filter((c) => (c.input as { chunkNo: number }).chunkNo === 5);
    const [first, second] = fives.map((c) => (c.input as { turn: Turn }).turn);
    expect(first?.after).toBe(turnOf(run, 4)?.token);
    expect(second).toEqual({ token: first?.token, waitMs: TURN_WAIT_MS });
    expect(turnOf(run, 6)?.after).toBe(first?.token);
    const output = run.output as ProvisionWaveOutput;
    expect(output.results.map((r) => r.ok && r.counts.created)).toEqual([4, 5, 6, 7, 8]);
  });

  it("stops at a fatal chunk: the one already in turn after it is awaited, no further one starts", () => {
    // Arrange: the chunk in turn after the fatal one ends as the activity does (same message).
    const fatal = "Graph: the app lacks 'UserAuthenticationMethod.ReadWrite.All'.";
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input: turns,
      answer: (call) => {
        const { chunkNo } = call.input as { chunkNo: number };
        return chunkNo >= 6 ? { chunkNo, fatal } : done(call);
      },
    });

    // Assert
    const output = run.output as ProvisionWaveOutput;
    expect(output.fatal).toBe(fatal);
    expect(run.calls.map((c) => (c.input as { chunkNo: number }).chunkNo)).toEqual([4, 5, 6, 7]);
    expect(output.results.map((r) => r.chunkNo)).toEqual([4, 5]);
  });

  it("lists the chunk that found Graph unavailable, the one in turn after it and the rest as unfinished", () => {
    const unavailable =
      "Graph unavailable: 5 batches in a row got only 5xx answers or none in 60 s.";
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input: turns,
      answer: (call) => {
        const { chunkNo } = call.input as { chunkNo: number };
        return chunkNo >= 6 ? { chunkNo, unavailable } : done(call);
      },
    });
    const output = run.output as ProvisionWaveOutput;
    expect(output.unavailable).toBe(unavailable);
    expect(output.unfinished).toEqual([6, 7, 8]);
    expect(output.results.map((r) => r.chunkNo)).toEqual([4, 5]);
    expect(run.calls.map((c) => (c.input as { chunkNo: number }).chunkNo)).toEqual([4, 5, 6, 7]);
  });

  it("lists a chunk whose activity failed and goes on with the next", () => {
    const run = driveOrchestration(provisionWaveOrchestration.handler, {
      input: turns,
      answer: (call) => {
        if ((call.input as { chunkNo: number }).chunkNo === 6) {
          throw new Error("provisionChunk: the run store is unreachable.\n    at stack");
        }
        return done(call);
      },
    });
    const output = run.output as ProvisionWaveOutput;
    expect(output.results.map((r) => [r.chunkNo, r.ok])).toEqual([
      [4, true],
      [5, true],
      [6, false],
      [7, true],
      [8, true],
    ]);
    expect(run.statuses.at(-1)).toMatchObject({ chunksDone: 4, chunksFailed: 1 });
  });
});
