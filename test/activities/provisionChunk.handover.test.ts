/**
 * One write budget across instances: the run's chunks write one after the other, possibly on
 * different instances, each process with its own limiter. A chunk hands what its limiter learned
 * to the next through the run store, so the next instance does not start over in slow start.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionChunk } from "../../activities/provisionChunk.js";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import type { GraphAccess } from "../../shared/graph/client.js";
import { emulatorGraph } from "../support/emulatorGraph.js";
import { AdaptiveLimiter } from "../../shared/graph/throttle.js";
import { runKeys, type ChunkItem } from "../../shared/run/index.js";
import { setServices } from "../../shared/services.js";
import { loadSettings } from "../../shared/settings/index.js";
import { FsRunStore } from "../../shared/store/index.js";

describe("provisionChunk hands the limiter to the run's next chunk", () => {
  let emulator: EmulatorHandle;
  let dir: string;
  let store: FsRunStore;
  let graph: GraphAccess;
  const users = [1, 2, 3, 4];
  const context = (): InvocationContext =>
    new InvocationContext({ functionName: "provisionChunk", logHandler: () => undefined });
  /** This test's process playing one instance: its own limiter, the shared store and Graph. */
  const onInstance = (limiter: AdaptiveLimiter): void =>
    setServices({ settings: loadSettings({}), store, limiter, graph });

  beforeAll(async () => {
    emulator = await startEmulator({
      profile: "fast",
      tenant: {
        tenant: { id: "6f1c2f5e-0000-4000-8000-000000000001", domain: "contoso.example" },
        users: users.map((n) => ({ id: `u${n}`, userPrincipalName: `user${n}@contoso.example` })),
      },
    });
    dir = await mkdtemp(path.join(tmpdir(), "mfa-handover-"));
    store = new FsRunStore(dir);
    graph = emulatorGraph(emulator, { baseDelayMs: 1, maxDelayMs: 10 });
    const item = (n: number): ChunkItem => ({
      userId: `u${n}`,
      userPrincipalName: `user${n}@contoso.example`,
      phoneNumber: `+45 2012345${n}`,
      action: "create",
    });
    await store.putJson(runKeys.chunk("r1", 0), [item(1), item(2)]);
    await store.putJson(runKeys.chunk("r1", 1), [item(3), item(4)]);
  });
  afterAll(async () => {
    setServices(undefined);
    await graph?.close();
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("starts the next instance's fresh limiter where the previous chunk's left off", async () => {
    // Arrange: instance A's limiter has found the quota (as after its first 429s).
    const onA = new AdaptiveLimiter();
    onA.warmStart({ ratePerSecond: 38, ceilingPerSecond: 40, roundTripMs: 300 });
    const onB = new AdaptiveLimiter();

    // Act
    onInstance(onA);
    const first = await provisionChunk(
      { runId: "r1", chunkNo: 0, logPhoneNumbers: "masked" },
      context(),
    );
    const handedOver = await store.getJson<{ limiter: { ceilingPerSecond: number } }>(
      runKeys.limiter("r1"),
    );
    onInstance(onB);
    const second = await provisionChunk(
      { runId: "r1", chunkNo: 1, logPhoneNumbers: "masked" },
      context(),
    );

    // Assert
    expect([first, second]).toMatchObject([{ counts: { created: 2 } }, { counts: { created: 2 } }]);
    expect(handedOver?.limiter.ceilingPerSecond).toBeCloseTo(40);
    expect(onB.stats()).toMatchObject({ slowStart: false });
    expect(onB.stats().ceilingPerSecond).toBeCloseTo(40);
    expect(JSON.stringify(await store.getJson(runKeys.limiter("r1")))).not.toMatch(
      /2012345|user\d|u\d/,
    );
  });
});
