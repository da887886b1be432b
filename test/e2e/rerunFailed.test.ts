import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runKeys } from "../../shared/run/index.js";
import { expectedMobiles, outputOf, startWorld, targetingTenant, type World } from "./world.js";

describe("rerun of a finished run's failed chunks", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      tenant: await targetingTenant(),
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
    // The five users of chunk 1 have no recorded outcome: counted as failed, not as created.
    expect(first.counts.created).toBe(18);
    expect(first.counts.failed).toBe(5);

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
    expect(rerun.counts.created).toBe(18);
    expect(rerun.counts.alreadyPresent).toBe(5);
    expect(world.mobiles()).toEqual(expectedMobiles());
    expect(world.emulator.metrics().writes).toBe(23);
  });
});
