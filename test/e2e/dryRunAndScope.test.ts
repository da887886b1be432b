import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import {
  expectedWrites,
  fixtureUserId as id,
  outputOf,
  startWorld,
  targetingTenant,
  type World,
} from "./world.js";

/** Every run in this file is a dry run or fails before writing, so the tenant stays as loaded. */
describe("dry runs, staging and exclusion groups (targeting fixture)", () => {
  let world: World;
  let tenant: TenantFixture;
  let pristine: Map<string, string>;

  beforeAll(async () => {
    tenant = await targetingTenant();
    world = await startWorld({
      tenant,
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts", DRY_RUN: "true" },
    });
    pristine = world.mobiles();
  });
  afterAll(async () => {
    await world?.close();
  });

  it("plans every user and writes nothing", async () => {
    const output = outputOf(await world.run());
    expect(output.dryRun).toBe(true);
    expect(world.emulator.metrics().writes).toBe(0);
    expect(world.mobiles()).toEqual(pristine);
    expect(output.counts.candidates).toBe(tenant.users.length);
    expect(output.counts.planned).toBe(expectedWrites(tenant));
    expect(output.counts.created).toBe(0);
    const sum = Object.values(output.plan).reduce((a, b) => a + b, 0);
    expect(sum).toBe(tenant.users.length);
    const csv = await readFile(join(world.runsDir, output.reportKeys.csv), "utf8");
    expect(csv).toMatch(/ada\.jensen@contoso\.example,[^,]+,create,dryRun,/);
  });

  it("writes nothing when a request to the runs API asks for writes under DRY_RUN=true, and says why", async () => {
    const start = await fetch(`${world.host.baseUrl}/api/runs`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ dryRun: false }),
    });
    expect(start.status).toBe(202);
    const answer = (await start.json()) as { id: string; dryRun: boolean; note?: string };
    expect(answer.dryRun).toBe(true);
    expect(answer.note).toMatch(/DRY_RUN is on, so this run writes nothing/);
    expect(answer.note).toMatch(/Only the DRY_RUN setting turns writes on/);
    const output = outputOf(await world.host.waitForCompletion(answer.id, { timeoutMs: 60_000 }));
    expect(output.dryRun).toBe(true);
    expect(output.counts.planned).toBe(expectedWrites(tenant));
    expect(output.counts.created).toBe(0);
    expect(world.emulator.metrics().writes).toBe(0);
    expect(world.mobiles()).toEqual(pristine);
  });

  it("considers only the staging group's transitive members, found by a name with an apostrophe", async () => {
    const output = outputOf(
      await world.run({ settings: { STAGING_GROUP: "Sales - Rock 'n' Roll" } }),
    );
    // Sales - Rock 'n' Roll holds its members and, two levels down, Sales - Nordics.
    const group = (tenant.groups ?? []).find((g) => g.displayName === "Sales - Rock 'n' Roll");
    expect(group).toBeDefined();
    expect(output.counts.candidates).toBeGreaterThan(0);
    expect(output.counts.candidates).toBeLessThan(tenant.users.length);
    const csv = await readFile(join(world.runsDir, output.reportKeys.csv), "utf8");
    expect(csv).toContain(id(45));
    expect(csv).not.toContain(id(2));
  });

  it("never plans a write for a member of a nested exclusion group", async () => {
    const output = outputOf(await world.run());
    const csv = await readFile(join(world.runsDir, output.reportKeys.csv), "utf8");
    const line = csv.split("\r\n").find((l) => l.includes(id(30)));
    expect(line).toContain("skip:excludedGroup");
  });

  it("fails early, naming the setting, when a group name is unknown or ambiguous", async () => {
    const unknown = await world.run({ settings: { STAGING_GROUP: "No Such Group" } });
    expect(unknown.runtimeStatus).toBe("Failed");
    expect(JSON.stringify(unknown.output)).toContain(
      "STAGING_GROUP: no group is named 'No Such Group'",
    );
    const ambiguous = await world.run({ settings: { STAGING_GROUP: "Duplicate Name" } });
    expect(ambiguous.runtimeStatus).toBe("Failed");
    expect(JSON.stringify(ambiguous.output)).toContain("2 groups are named 'Duplicate Name'");
    expect(world.emulator.metrics().writes).toBe(0);
  });

  it("caps writes with MAX_WRITES_PER_RUN and reports the rest as deferred", async () => {
    const cap = 10;
    const output = outputOf(await world.run({ settings: { MAX_WRITES_PER_RUN: String(cap) } }));
    expect(output.counts.planned).toBe(cap);
    expect(output.counts.deferred).toBe(expectedWrites(tenant) - cap);
  });
});
