import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUIRED_GRAPH_ROLES } from "../../infra/scripts/grantGraphRoles.js";
import { startWorld, targetingTenant, type World } from "./world.js";

// MSAL keeps the managed-identity endpoint process-wide, so each file starts one world.
describe("without the directory audit log the settled-numbers guard trusts only its own history", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      tenant: await targetingTenant(),
      // Every role the grant script assigns but Directory.Read.All.
      config: { grantedRoles: REQUIRED_GRAPH_ROLES.filter((r) => r !== "Directory.Read.All") },
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("writes no number the store's history does not know yet on the first run (fail closed), and says why", async () => {
    const status = await world.run();
    expect(status.runtimeStatus).toBe("Completed");
    expect(world.emulator.metrics().writes).toBe(0);
    const custom = status.customStatus as { numbers?: { auditRead: boolean } };
    expect(custom.numbers?.auditRead).toBe(false);
    const plan = (status.output as { plan: Record<string, number> }).plan;
    expect(plan["skip:numberNotSettled"]).toBeGreaterThan(0);
    expect(plan.create ?? 0).toBe(0);
  });
});
