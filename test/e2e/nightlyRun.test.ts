import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { expectedMobiles, outputOf, startWorld, targetingTenant, type World } from "./world.js";

describe("nightlyRun end to end (targeting fixture, fast profile)", () => {
  let world: World;
  let tenant: TenantFixture;

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
  });
  afterAll(async () => {
    await world?.close();
  });

  it("ends with exactly the expected phone methods, user by user, read back through Graph", async () => {
    const output = outputOf(await world.run());
    const expected = expectedMobiles();
    expect(world.mobiles()).toEqual(expected);
    expect(output.counts.created).toBe(23);
    expect(output.counts.smsSignInNotUnique).toBe(1);
    expect(output.counts.failed).toBe(0);
    expect(output.counts.candidates).toBe(tenant.users.length);
    expect(output.failedChunks).toEqual([]);
    // Every user got the decision the fixture names for it.
    const labels = new Map<string, number>();
    for (const u of tenant.users) {
      const label = (u.displayName ?? "").split(" | ")[0] as string;
      labels.set(label, (labels.get(label) ?? 0) + 1);
    }
    expect(output.plan).toEqual(Object.fromEntries(labels));
  });

  it("writes a per-user report with masked numbers and every user once", async () => {
    const { readFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const runs = await world.host.listInstances();
    const last = runs.filter((r) => r.name === "nightlyRun").at(-1);
    const output = outputOf(last!);
    const csv = await readFile(join(world.runsDir, output.reportKeys.csv), "utf8");
    const lines = csv.trim().split("\r\n");
    expect(lines[0]).toBe("userPrincipalName,userId,decision,outcome,code,detail,phoneNumber");
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
