import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import {
  expectedMobiles,
  expectedWrites,
  outputOf,
  startWorld,
  targetingTenant,
  type World,
} from "./world.js";

describe("nightlyRun under the hostile profile (storms, 5xx after writes, resets, expiring tokens)", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await targetingTenant();
    world = await startWorld({
      tenant,
      profile: "hostile",
      // 50x faster; faults far denser than the profile's, so every chunk meets some.
      config: {
        timeScale: 0.02,
        seed: 5,
        fault503Rate: 0.15,
        fault504Rate: 0.1,
        faultResetRate: 0.05,
        tokenLifetimeSeconds: 60,
        advertisedTokenLifetimeSeconds: 100_000,
      },
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("ends with exactly the expected phone methods and writes each one once", async () => {
    const output = outputOf(await world.run({ timeoutMs: 240_000 }));
    const expected = expectedMobiles();
    expect(world.mobiles()).toEqual(expected);
    expect(output.counts.created).toBe(expectedWrites(tenant));
    expect(output.counts.failed).toBe(0);
    // Writes Graph applied before answering 5xx were reconciled, never repeated.
    const metrics = world.emulator.metrics();
    expect(metrics.writes).toBe(expectedWrites(tenant));
    // The faults really happened (which ones hit depends on request order, but 5xx always do).
    expect(metrics.serverErrors).toBeGreaterThan(0);
  });
});
