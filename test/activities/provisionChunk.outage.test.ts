/**
 * provisionChunk when Graph stops answering: the chunk reports Graph unavailable instead of
 * failing its users, keeps the users whose write may have been applied, and its next attempt
 * reads those before writing, so nothing is written twice.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionChunk } from "../../activities/provisionChunk.js";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import { emulatorGraph } from "../support/emulatorGraph.js";
import { AdaptiveLimiter } from "../../shared/graph/throttle.js";
import { runKeys, type ChunkItem } from "../../shared/run/index.js";
import { setServices } from "../../shared/services.js";
import { loadSettings } from "../../shared/settings/index.js";
import { FsRunStore } from "../../shared/store/index.js";

const users = [1, 2, 3, 4, 5, 6];
/**
 * Short waits (reads back after 100 ms, the least the run tuning allows); Graph counts as
 * unavailable after 5 batches and 5 ms of only 5xx.
 */
const graphWaits = { readAfterWriteMs: 100, retryBaseMs: 1, graphDownMs: 5 };

describe("provisionChunk when Graph becomes unavailable", () => {
  let emulator: EmulatorHandle;
  let dir: string;
  let store: FsRunStore;
  const context = (): InvocationContext =>
    new InvocationContext({ functionName: "provisionChunk", logHandler: () => undefined });

  beforeAll(async () => {
    emulator = await startEmulator({
      profile: "fast",
      tenant: {
        tenant: { id: "6f1c2f5e-0000-4000-8000-000000000001", domain: "contoso.example" },
        users: users.map((n) => ({ id: `u${n}`, userPrincipalName: `user${n}@contoso.example` })),
      },
    });
    dir = await mkdtemp(path.join(tmpdir(), "mfa-outage-"));
    store = new FsRunStore(dir);
    setServices({
      settings: loadSettings({}),
      store,
      limiter: new AdaptiveLimiter({ initial: 20 }),
      graph: emulatorGraph(emulator, { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 10 }),
    });
    const chunk: ChunkItem[] = users.map((n) => ({
      userId: `u${n}`,
      userPrincipalName: `user${n}@contoso.example`,
      phoneNumber: `+45 2012345${n}`,
      action: "create",
    }));
    await store.putJson(runKeys.chunk("r1", 0), chunk);
  });
  afterAll(async () => {
    setServices(undefined);
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reports Graph unavailable, then finishes on the next attempt writing each user once", async () => {
    // Every answer a 504, given after the write was applied: every write is uncertain.
    emulator.setConfig({ fault504Rate: 1, faultAfterWrite: true });
    const first = await provisionChunk(
      { runId: "r1", chunkNo: 0, logPhoneNumbers: "masked", graphWaits },
      context(),
    );
    expect(first).toMatchObject({
      chunkNo: 0,
      unavailable: expect.stringMatching(/^Graph unavailable/),
    });
    expect(emulator.metrics().writes).toBe(users.length);
    const uncertain = await store.getJson<string[]>(runKeys.uncertain("r1", 0));
    expect([...(uncertain ?? [])].sort()).toEqual(users.map((n) => `u${n}`));

    emulator.setConfig({ fault504Rate: 0 });
    const second = await provisionChunk(
      { runId: "r1", chunkNo: 0, logPhoneNumbers: "masked", graphWaits },
      context(),
    );
    expect(second).toMatchObject({ counts: { created: users.length, failed: 0 } });
    // Read back, not written again.
    expect(emulator.metrics().writes).toBe(users.length);
    expect(emulator.metrics().byRoute["phoneMethods.create"]?.requests).toBe(users.length);
    expect(await store.getJson(runKeys.uncertain("r1", 0))).toBeUndefined();
  });
});
