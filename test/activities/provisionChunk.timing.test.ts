/**
 * What provisionChunk records for the report's timeline: when the attempt wrote, how many users
 * it gave an outcome, how many it wrote, its 429s and the limiter's window, in the chunk's
 * outcome file (counts and times only).
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
import { runKeys, type ChunkItem, type ChunkOutcomeFile } from "../../shared/run/index.js";
import { setServices } from "../../shared/services.js";
import { loadSettings } from "../../shared/settings/index.js";
import { FsRunStore } from "../../shared/store/index.js";

describe("provisionChunk's timing", () => {
  let emulator: EmulatorHandle;
  let dir: string;
  let store: FsRunStore;
  let limiter: AdaptiveLimiter;
  const users = [1, 2, 3, 4];
  const context = (): InvocationContext =>
    new InvocationContext({ functionName: "provisionChunk", logHandler: () => undefined });
  const outcomeFile = (): Promise<ChunkOutcomeFile | undefined> =>
    store.getJson<ChunkOutcomeFile>(runKeys.outcome("r1", 0));

  beforeAll(async () => {
    emulator = await startEmulator({
      profile: "fast",
      tenant: {
        tenant: { id: "6f1c2f5e-0000-4000-8000-000000000001", domain: "contoso.example" },
        users: users.map((n) => ({
          id: `u${n}`,
          userPrincipalName: `user${n}@contoso.example`,
          // User 4 already has the number: found when writing, not written.
          ...(n === 4
            ? { phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 20123454" }] }
            : {}),
        })),
      },
    });
    dir = await mkdtemp(path.join(tmpdir(), "mfa-timing-"));
    store = new FsRunStore(dir);
    limiter = new AdaptiveLimiter({ initial: 6 });
    setServices({
      settings: loadSettings({}),
      store,
      limiter,
      graph: emulatorGraph(emulator, { baseDelayMs: 1, maxDelayMs: 10 }),
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

  it("records the attempt's times, users, writes, 429s and the limiter's window", async () => {
    // Arrange
    const before = Date.now();

    // Act
    const result = await provisionChunk(
      { runId: "r1", chunkNo: 0, logPhoneNumbers: "masked" },
      context(),
    );

    // Assert
    const timing = (await outcomeFile())?.timing;
    expect(result).toMatchObject({ counts: { created: 3, alreadyPresent: 1 } });
    expect(timing).toMatchObject({ users: 4, wrote: 3, throttled: 0, window: limiter.limit });
    const started = Date.parse(timing?.startedAt ?? "");
    expect(started).toBeGreaterThanOrEqual(before);
    expect(Date.parse(timing?.endedAt ?? "")).toBeGreaterThanOrEqual(started);
    expect(Date.parse(timing?.endedAt ?? "")).toBeLessThanOrEqual(Date.now());
    expect(JSON.stringify(timing)).not.toMatch(/2012345|user\d/);
  });

  it("keeps the timing of the attempt that wrote when Durable runs a finished chunk again", async () => {
    // Arrange
    const timing = (await outcomeFile())?.timing;

    // Act
    await provisionChunk({ runId: "r1", chunkNo: 0, logPhoneNumbers: "masked" }, context());

    // Assert
    expect((await outcomeFile())?.timing).toEqual(timing);
  });
});
