import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKeys } from "../../shared/run/index.js";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import {
  expectedMobiles,
  expectedWrites,
  outputOf,
  SMALL_TUNING,
  startWorld,
  targetingTenant,
  type World,
} from "./world.js";

describe("rerun of a finished run's failed chunks", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await targetingTenant();
    world = await startWorld({
      tenant,
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("lists a chunk that failed permanently, and a rerun completes it without writing twice", async () => {
    const runId = "test-rerun-1";
    // A permanent fault: chunk 1's outcome cannot be recorded (a folder stands where its file
    // goes), so its activity fails on every attempt, after its writes went through.
    const blocked = join(world.runsDir, runKeys.outcome(runId, 1));
    await mkdir(blocked, { recursive: true });
    const first = outputOf(await world.run({ runId }));
    expect(first.failedChunks).toEqual([1]);
    // The fixture fits one page, so its planned writes fill chunks of chunkSize in order.
    const writes = expectedWrites(tenant);
    const chunkSize = SMALL_TUNING.chunkSize as number;
    const inChunk1 = Math.min(chunkSize, writes - chunkSize);
    // The users of chunk 1 have no recorded outcome: counted as failed, not as created.
    expect(first.counts.created).toBe(writes - inChunk1);
    expect(first.counts.failed).toBe(inChunk1);

    await rm(blocked, { recursive: true });
    const rerunId = `${runId}-rerun`;
    await world.host.startNew("rerunFailed", {
      instanceId: rerunId,
      input: { source: first },
    });
    const rerun = outputOf(await world.host.waitForCompletion(rerunId));
    expect(rerun.failedChunks).toEqual([]);
    expect(rerun.counts.failed).toBe(0);
    // Chunk 1's methods were already there: read back and counted, not written again.
    expect(rerun.counts.created).toBe(writes - inChunk1);
    expect(rerun.counts.alreadyPresent).toBe(inChunk1);
    expect(world.mobiles()).toEqual(expectedMobiles());
    expect(world.emulator.metrics().writes).toBe(writes);
  });
});
