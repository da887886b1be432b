/**
 * A member just added to an exclusion group ("Break Glass") is never written: the run reads the
 * exclusion groups with plain reads, which see the directory itself, not with advanced queries,
 * whose index lags (here a minute) behind.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { GraphTestClient } from "../local/graph-emulator/helpers.js";
import {
  addMember,
  attackUser,
  attacksTenant,
  groupId,
  readReportLines,
  usersDeciding,
} from "./attacksFixture.js";
import { outputOf, startWorld, type World } from "./world.js";

const ADVANCED_QUERY_LAG_MS = 60_000;

describe("a user added to the exclusion group one second before the run", () => {
  let world: World;
  let tenant: TenantFixture;
  let graph: GraphTestClient;
  beforeAll(async () => {
    tenant = await attacksTenant();
    world = await startWorld({
      tenant,
      config: { advancedQueryLagMs: ADVANCED_QUERY_LAG_MS },
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
    graph = new GraphTestClient(world.emulator);
  });
  afterAll(async () => {
    await graph?.close();
    await world?.close();
  });

  it("is not written, although an advanced query does not list them yet", async () => {
    const breakGlass = groupId(tenant, "Break Glass Accounts");
    const newcomer = attackUser(tenant, 9);
    await addMember(world.emulator.adminUrl, breakGlass, newcomer.id);
    await new Promise((r) => setTimeout(r, 1_000));
    // The lagging index Graph's advanced queries read has not seen the newcomer.
    const advanced = await graph.call(
      "GET",
      `/v1.0/groups/${breakGlass}/transitiveMembers/microsoft.graph.user?$count=true&$select=id`,
      { headers: { ConsistencyLevel: "eventual" } },
    );
    expect(advanced.status).toBe(200);
    expect(advanced.body.value.map((m: { id: string }) => m.id)).not.toContain(newcomer.id);

    const output = outputOf(await world.run());

    expect(world.mobiles().has(newcomer.id)).toBe(false);
    const lines = await readReportLines(world.runsDir, output.reportKeys);
    expect(lines.get(newcomer.id)?.decision).toBe("skip:excludedGroup");
    expect(world.emulator.metrics().writes).toBe(usersDeciding(tenant, "create").length - 1);
  });
});
