import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { newRunId, type RunStatus } from "../../shared/run/index.js";
import {
  expectedMobiles,
  expectedWrites,
  outputOf,
  SMALL_TUNING,
  startWorld,
  targetingTenant,
  type World,
} from "./world.js";

// MSAL keeps the managed-identity endpoint process-wide, so each file starts one world.
describe("nightlyRun when Graph goes down for 10 minutes in the middle of provisioning", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await targetingTenant();
    world = await startWorld({
      tenant,
      // 50 times faster than Graph: the 10 minutes take 12 s (Retry-After, in whole seconds,
      // stays 1 s). Writes take 10 s of Graph time, so provisioning lasts long enough to be cut
      // in the middle.
      config: {
        timeScale: 0.02,
        latency: { "phoneMethods.create": { meanMs: 10_000, p99Ms: 15_000 } },
      },
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("pauses, resumes when Graph answers, writes each number once and sends few requests into the outage", async () => {
    const runId = newRunId("outage");
    const writesBeforeOutage = 3;
    let outageStarted = false;
    const watch = setInterval(() => {
      if (!outageStarted && world.emulator.metrics().writes >= writesBeforeOutage) {
        outageStarted = true;
        world.emulator.startOutage(600, "503");
      }
    }, 5);
    let status;
    try {
      status = await world.run({
        runId,
        timeoutMs: 180_000,
        // The default waits, 50 times shorter like Graph's time here.
        tuning: {
          ...SMALL_TUNING,
          graphWaits: { readAfterWriteMs: 100, retryBaseMs: 20, graphDownMs: 1_200 },
          outagePauseMs: 6_000,
          outagePauses: 6,
        },
      });
    } finally {
      clearInterval(watch);
    }
    expect(outageStarted).toBe(true);
    const output = outputOf(status);
    expect(output.failure).toBeUndefined();
    expect(output.failedChunks).toEqual([]);
    expect(output.counts.failed).toBe(0);
    expect(world.mobiles()).toEqual(expectedMobiles());
    const metrics = world.emulator.metrics();
    // Writes applied when Graph went down were read back, not repeated.
    expect(metrics.writes).toBe(expectedWrites(tenant));
    // Into 10 minutes of outage: what the chunks in flight sent before they saw Graph down
    // (2 s here), then one probe per pause; not every user's retries.
    console.info(`requests during the outage: ${metrics.outage.requests}`);
    expect(metrics.outage.requests).toBeGreaterThan(0);
    expect(metrics.outage.requests).toBeLessThan(expectedWrites(tenant));
    const custom = status.customStatus as RunStatus;
    expect(custom.phase).toBe("completed");
    // Provisioning paused on durable timers and probed until Graph answered.
    const history = (await world.host.getStatus(runId, { showHistory: true }))?.history ?? [];
    const probes = history.filter(
      (e) => e.EventType === "TaskScheduled" && e.Name === "probeGraph",
    );
    const timers = history.filter((e) => e.EventType === "TimerCreated");
    console.info(`pauses: ${timers.length}, probes: ${probes.length}`);
    expect(probes.length).toBeGreaterThan(0);
    expect(timers.length).toBe(probes.length);
  });
});
