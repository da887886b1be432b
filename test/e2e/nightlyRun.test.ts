import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { outputOf, startWorld, targetingTenant, type World } from "./world.js";

const id = (n: number): string => `10000000-0000-4000-8000-0000000000${String(n).padStart(2, "0")}`;

/** The mobile method every user must end with, in Graph's format, worked out by hand from the fixture. */
const EXPECTED_MOBILES: Record<number, string> = {
  1: "+45 20123456",
  2: "+45 30123456",
  3: "+45 41123456",
  4: "+46 701234567",
  5: "+47 40612345",
  6: "+49 15123456789",
  7: "+44 7400123456",
  8: "+1 2015550123",
  9: "+358 412345678",
  10: "+31 612345678",
  11: "+33 612345678",
  12: "+45 50123456",
  13: "+45 60123456",
  14: "+45 21123456x12",
  15: "+45 22123456",
  16: "+45 23123456",
  17: "+45 24123456",
  18: "+45 25123456",
  19: "+353 850123456",
  20: "+45 26123456",
  21: "+45 27123456",
  45: "+47 41234567",
  46: "+45 52123456",
  // Methods that existed before the run and must be left exactly as they were.
  22: "+45 27123456",
  23: "+45 28123456",
  24: "+45 31123456",
};

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
    const expected = new Map(
      Object.entries(EXPECTED_MOBILES).map(([n, phone]) => [id(Number(n)), phone]),
    );
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
