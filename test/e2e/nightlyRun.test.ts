import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import type { RunOutput } from "../../shared/run/index.js";
import {
  expectedMobiles,
  expectedPlan,
  expectedSmsSignInClashes,
  expectedWrites,
  outputOf,
  startWorld,
  targetingTenant,
  type World,
} from "./world.js";

describe("nightlyRun end to end (targeting fixture, fast profile)", () => {
  let world: World;
  let tenant: TenantFixture;
  /** The first night, which every test below reads; only the last one runs another. */
  let first: RunOutput;
  let mobilesAfterFirst: Map<string, string>;

  beforeAll(async () => {
    tenant = await targetingTenant();
    world = await startWorld({
      tenant,
      settings: {
        DEFAULT_REGION: "DK",
        EXCLUDE_GROUPS: "Break Glass Accounts",
        LOG_PHONE_NUMBERS: "masked",
      },
    });
    first = outputOf(await world.run());
    mobilesAfterFirst = world.mobiles();
  });
  afterAll(async () => {
    await world?.close();
  });

  it("ends with exactly the expected phone methods, user by user, read back through Graph", () => {
    expect(mobilesAfterFirst).toEqual(expectedMobiles());
    expect(first.counts.created).toBe(expectedWrites(tenant));
    expect(first.counts.smsSignInNotUnique).toBe(expectedSmsSignInClashes(tenant));
    expect(first.counts.failed).toBe(0);
    expect(first.counts.candidates).toBe(tenant.users.length);
    expect(first.failedChunks).toEqual([]);
    // Every user got the decision the fixture names for it.
    expect(first.plan).toEqual(expectedPlan(tenant));
  });

  it("writes a per-user report with masked numbers and every user once", async () => {
    const csv = await readFile(join(world.runsDir, first.reportKeys.csv), "utf8");
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe(
      "userPrincipalName,userId,decision,outcome,code,detail,phoneNumber,method,emailAddress",
    );
    expect(lines).toHaveLength(tenant.users.length + 1);
    expect(csv).toContain("+45 ******56");
    expect(csv).not.toContain("+45 20123456");
    expect(csv).toMatch(
      /tove\.clausen@contoso\.example,[^,]+,create,created,smsSignInNumberNotUnique/,
    );
  });

  it("changes nothing the next night", async () => {
    const before = world.mobiles();
    const writesBefore = world.emulator.metrics().writes;
    const output = outputOf(await world.run());
    expect(world.mobiles()).toEqual(before);
    expect(world.emulator.metrics().writes).toBe(writesBefore);
    expect(output.counts.created).toBe(0);
    expect(output.counts.planned).toBe(0);
  });
});
