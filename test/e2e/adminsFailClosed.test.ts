/**
 * Admins fail closed: holders of a directory role are found in the directory's own role data,
 * active or PIM-eligible, direct or through a role-assignable group, whatever the registration
 * report says or leaves out. Both admins here have no row in the report at all (new accounts the
 * report has not caught up with), so only the role data can stop their writes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { GraphTestClient } from "../local/graph-emulator/helpers.js";
import { attackUser, attacksTenant, readReportLines, usersDeciding } from "./attacksFixture.js";
import { outputOf, startWorld, type World } from "./world.js";

const REPORT = "/v1.0/reports/authenticationMethods/userRegistrationDetails";

describe("directory role holders the report does not show", () => {
  let world: World;
  let tenant: TenantFixture;
  let graph: GraphTestClient;
  beforeAll(async () => {
    tenant = await attacksTenant();
    world = await startWorld({
      tenant,
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
    graph = new GraphTestClient(world.emulator);
  });
  afterAll(async () => {
    await graph?.close();
    await world?.close();
  });

  it("writes neither a PIM-eligible Global Administrator nor a member of a role-assignable group holding Helpdesk Administrator", async () => {
    const eligibleAdmin = attackUser(tenant, 11);
    const groupAdmin = attackUser(tenant, 12);
    const noRowNoRole = attackUser(tenant, 13);
    for (const u of [eligibleAdmin, groupAdmin, noRowNoRole]) {
      expect((await graph.call("GET", `${REPORT}/${u.id}`)).status).toBe(404);
    }

    const output = outputOf(await world.run());

    const mobiles = world.mobiles();
    expect(mobiles.has(eligibleAdmin.id)).toBe(false);
    expect(mobiles.has(groupAdmin.id)).toBe(false);
    const lines = await readReportLines(world.runsDir, output.reportKeys);
    expect(lines.get(eligibleAdmin.id)?.decision).toBe("skip:admin");
    expect(lines.get(groupAdmin.id)?.decision).toBe("skip:admin");
    // A missing report row alone stops nothing: the user without a role is written.
    expect(mobiles.has(noRowNoRole.id)).toBe(true);
    expect(lines.get(noRowNoRole.id)?.outcome).toBe("created");
    expect(output.plan["skip:admin"]).toBe(usersDeciding(tenant, "skip:admin").length);
    expect(world.emulator.metrics().writes).toBe(usersDeciding(tenant, "create").length);
  });
});
