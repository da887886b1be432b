/**
 * Chunks taking turns: the wave schedules the next chunk while the one before still writes; the
 * next sends nothing until the one before has sent every write once (its mark in the run store),
 * so one chunk of a run sends at a time without the gap of its last answers and Durable's start
 * of the next. A chunk before that met an outage or a missing permission stops the next one
 * before it sends; a cancelled run ends the wait; a chunk whose turn does not come within its
 * bound ends unwritten, to run again.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { provisionChunk, type ProvisionChunkInput } from "../../activities/provisionChunk.js";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import type { GraphAccess } from "../../shared/graph/client.js";
import { emulatorGraph } from "../support/emulatorGraph.js";
import { AdaptiveLimiter } from "../../shared/graph/throttle.js";
import { runKeys, type ChunkItem, type ChunkOutcomeFile } from "../../shared/run/index.js";
import { services, setServices } from "../../shared/services.js";
import { loadSettings } from "../../shared/settings/index.js";
import { FsRunStore } from "../../shared/store/index.js";

/** Create latency of the emulator: long enough to look at a chunk while its writes are out. */
const WRITE_LATENCY_MS = 2_000;

describe("provisionChunk taking turns with the wave's next chunk", () => {
  let emulator: EmulatorHandle;
  let dir: string;
  let store: FsRunStore;
  let graph: GraphAccess;
  let runNo = 0;
  let runId = "";
  const context = (): InvocationContext =>
    new InvocationContext({ functionName: "provisionChunk", logHandler: () => undefined });
  const users = Array.from({ length: 40 }, (_, i) => i + 1);
  const item = (n: number): ChunkItem => ({
    userId: `u${n}`,
    userPrincipalName: `user${n}@contoso.example`,
    phoneNumber: `+45 20${String(n).padStart(6, "0")}`,
    action: "create",
  });
  /** A chunk of this test's run with its turn. */
  const chunk = (chunkNo: number, turn: ProvisionChunkInput["turn"]): ProvisionChunkInput => ({
    runId,
    chunkNo,
    logPhoneNumbers: "masked",
    turn,
  });
  const writesSent = (): number => emulator.metrics().requests;

  beforeAll(async () => {
    emulator = await startEmulator({
      profile: "fast",
      tenant: {
        tenant: { id: "6f1c2f5e-0000-4000-8000-000000000002", domain: "contoso.example" },
        users: users.map((n) => ({ id: `u${n}`, userPrincipalName: `user${n}@contoso.example` })),
      },
      config: {
        latency: {
          "phoneMethods.create": { meanMs: WRITE_LATENCY_MS, p99Ms: WRITE_LATENCY_MS },
        },
      },
    });
    dir = await mkdtemp(path.join(tmpdir(), "mfa-turns-"));
    store = new FsRunStore(dir);
    graph = emulatorGraph(emulator, { baseDelayMs: 1, maxDelayMs: 10 });
  });
  beforeEach(async () => {
    // Each test its own run (its own chunks, marks and stop flag) and users no test wrote.
    runId = `turns-${++runNo}`;
    const first = (runNo - 1) * 4 + 1;
    emulator.resetMetrics();
    setServices({ settings: loadSettings({}), store, limiter: new AdaptiveLimiter(), graph });
    await store.putJson(runKeys.chunk(runId, 0), [item(first), item(first + 1)]);
    await store.putJson(runKeys.chunk(runId, 1), [item(first + 2), item(first + 3)]);
  });
  afterAll(async () => {
    setServices(undefined);
    await graph?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("sends nothing until the chunk before has sent all, then writes its users, timed from then", async () => {
    // Arrange
    const before = randomUUID();
    const next = provisionChunk(
      chunk(1, { token: randomUUID(), after: before, waitMs: 60_000 }),
      context(),
    );

    // Act: the chunk before is still sending for a while (longer than a write's answer takes,
    // the emulator counting a request when it answers).
    await new Promise((resolve) => setTimeout(resolve, WRITE_LATENCY_MS + 600));
    const sentWhileWaiting = writesSent();
    const turnCameAt = Date.now();
    await store.putJson(runKeys.sendingDone(runId, before), { state: "sent" });
    const result = await next;

    // Assert: nothing sent while it waited, and the report's timeline spreads its writes over
    // the time it wrote, not the time it waited.
    expect(sentWhileWaiting).toBe(0);
    expect(result).toMatchObject({ chunkNo: 1, counts: { created: 2 } });
    const timing = (await store.getJson<ChunkOutcomeFile>(runKeys.outcome(runId, 1)))?.timing;
    expect(Date.parse(timing?.startedAt ?? "")).toBeGreaterThanOrEqual(turnCameAt);
  });

  it("passes its turn and its limiter as soon as its writes have left, before their answers, and marks its end", async () => {
    // Arrange: this instance's limiter has found the quota (as after earlier chunks).
    services().limiter.warmStart({ ratePerSecond: 19, ceilingPerSecond: 20, roundTripMs: 800 });
    const token = randomUUID();
    const key = runKeys.sendingDone(runId, token);
    const marksSeen: unknown[] = [];
    let limiterAtTurn: unknown;
    let ended = false;

    // Act: look at the mark while the writes wait for their answers.
    const writing = provisionChunk(chunk(0, { token, waitMs: 0 }), context()).finally(() => {
      ended = true;
    });
    while (!ended) {
      const mark = await store.getJson(key);
      if (mark !== undefined && marksSeen.length === 0) {
        limiterAtTurn = await store.getJson(runKeys.limiter(runId));
      }
      if (mark !== undefined) {
        marksSeen.push(mark);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const result = await writing;

    // Assert: the next chunk starts from the limiter as it was when the turn passed; this one's
    // later answers (which meet the next chunk's writes) do not overwrite it.
    expect(result).toMatchObject({ counts: { created: 2 } });
    expect(marksSeen[0]).toEqual({ state: "sent" });
    expect(await store.getJson(key)).toEqual({ state: "ended", end: "done" });
    expect(limiterAtTurn).toMatchObject({ limiter: { ceilingPerSecond: 20 } });
    expect(await store.getJson(runKeys.limiter(runId))).toEqual(limiterAtTurn);
  });

  it("lets the next chunk send while it still waits for its own answers", async () => {
    // Arrange
    const first = randomUUID();
    const endedAt: number[] = [];

    // Act
    const results = await Promise.all(
      [
        provisionChunk(chunk(0, { token: first, waitMs: 0 }), context()),
        provisionChunk(chunk(1, { token: randomUUID(), after: first, waitMs: 60_000 }), context()),
      ].map((p, k) => p.finally(() => (endedAt[k] = performance.now()))),
    );

    // Assert: the next chunk's writes left while the first's waited for their answers, so it
    // ended well within one write's latency of the first (after the first's end, a whole one).
    expect(results).toMatchObject([{ counts: { created: 2 } }, { counts: { created: 2 } }]);
    expect((endedAt[1] ?? 0) - (endedAt[0] ?? 0)).toBeLessThan(WRITE_LATENCY_MS / 2);
  });

  it("ends unwritten when the chunk before found Graph unavailable, so that the pause covers it", async () => {
    // Arrange
    const before = randomUUID();
    const message = "Graph unavailable: 5 batches in a row got only 5xx answers or none in 60 s.";
    await store.putJson(runKeys.sendingDone(runId, before), {
      state: "ended",
      end: "unavailable",
      message,
    });

    // Act
    const result = await provisionChunk(
      chunk(1, { token: randomUUID(), after: before, waitMs: 60_000 }),
      context(),
    );

    // Assert
    expect(result).toEqual({ chunkNo: 1, unavailable: message });
    expect(writesSent()).toBe(0);
    expect(await store.getJson(runKeys.outcome(runId, 1))).toBeUndefined();
  });

  it("ends unwritten with the same message when the chunk before found a permission missing", async () => {
    // Arrange
    const before = randomUUID();
    const message =
      "Graph refused the app: grant 'UserAuthenticationMethod.ReadWrite.All' (application).";
    await store.putJson(runKeys.sendingDone(runId, before), {
      state: "ended",
      end: "fatal",
      message,
    });

    // Act
    const result = await provisionChunk(
      chunk(1, { token: randomUUID(), after: before, waitMs: 60_000 }),
      context(),
    );

    // Assert
    expect(result).toEqual({ chunkNo: 1, fatal: message });
    expect(writesSent()).toBe(0);
  });

  it("ends unwritten and unmarked when its turn does not come within its bound, and writes when run again", async () => {
    // Arrange: the chunk before left no mark (slow, or its instance crashed).
    const token = randomUUID();

    // Act
    const missed = await provisionChunk(
      chunk(1, { token, after: randomUUID(), waitMs: 300 }),
      context(),
    );

    // Assert: nothing sent, nothing recorded, and no mark that would let the chunk after it
    // send while the one before may still be sending.
    expect(missed).toEqual({ chunkNo: 1, turnMissed: true });
    expect(writesSent()).toBe(0);
    expect(await store.getJson(runKeys.partialOutcome(runId, 1))).toBeUndefined();
    expect(await store.getJson(runKeys.sendingDone(runId, token))).toBeUndefined();

    // Act: the wave runs it again once the one before has ended, with the same token.
    const again = await provisionChunk(chunk(1, { token, waitMs: 300 }), context());

    // Assert
    expect(again).toMatchObject({ chunkNo: 1, counts: { created: 2 } });
    expect(await store.getJson(runKeys.sendingDone(runId, token))).toEqual({
      state: "ended",
      end: "done",
    });
  });

  it("stops waiting and writes nothing when the run is cancelled meanwhile", async () => {
    // Arrange
    const token = randomUUID();
    const waiting = provisionChunk(
      chunk(1, { token, after: randomUUID(), waitMs: 60_000 }),
      context(),
    );

    // Act
    await store.putJson(runKeys.stopFlag(runId), { at: new Date().toISOString() });
    const result = await waiting;

    // Assert
    expect(result).toEqual({ chunkNo: 1, stopped: true });
    expect(writesSent()).toBe(0);
    expect(await store.getJson(runKeys.sendingDone(runId, token))).toEqual({
      state: "ended",
      end: "stopped",
    });
  });
});
