import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorld, targetingTenant, type World } from "./world.js";

describe("a tenant without Entra ID P1 stops the run before paging users, naming the licence", () => {
  let world: World;
  beforeAll(async () => {
    const tenant = await targetingTenant();
    tenant.tenant.premium = false;
    world = await startWorld({ tenant, settings: { DEFAULT_REGION: "DK" } });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("fails with the licence named", async () => {
    const status = await world.run();
    expect(status.runtimeStatus).toBe("Failed");
    expect(JSON.stringify(status.output)).toMatch(/Microsoft Entra ID P1 or P2 licence/);
    expect(world.emulator.metrics().byRoute["users.list"]?.requests ?? 0).toBe(0);
  });
});
