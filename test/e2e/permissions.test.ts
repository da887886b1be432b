import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REQUIRED_GRAPH_ROLES } from "../../infra/scripts/grantGraphRoles.js";
import { startWorld, targetingTenant, type World } from "./world.js";

// MSAL keeps the managed-identity endpoint process-wide, so each file starts one world.
describe("a missing write permission stops the run at once, naming the permission", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      tenant: await targetingTenant(),
      // Every role the grant script assigns but UserAuthenticationMethod.ReadWrite.All.
      config: {
        grantedRoles: REQUIRED_GRAPH_ROLES.filter(
          (r) => r !== "UserAuthenticationMethod.ReadWrite.All",
        ),
      },
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("fails on the first write instead of failing every user one by one", async () => {
    const status = await world.run();
    expect(status.runtimeStatus).toBe("Failed");
    expect(JSON.stringify(status.output)).toContain("UserAuthenticationMethod.ReadWrite.All");
    expect((status.customStatus as { phase: string }).phase).toBe("failed");
    expect(world.emulator.metrics().writes).toBe(0);
    // One refused batch per chunk in flight at most, not one request per user.
    expect(world.emulator.metrics().requests).toBeLessThan(40);
  });
});
