/**
 * One number on many users (a switchboard copied around, or an attacker's phone planted on many
 * accounts): a number held by more than one user is written for none of them, and the report
 * names it, masked, with how many hold it.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { normalizePhoneNumber } from "../../shared/phone/index.js";
import { attacksTenant, readReport, readReportLines, usersDeciding } from "./attacksFixture.js";
import { outputOf, startWorld, type World } from "./world.js";

describe("one number held by many users", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await attacksTenant();
    world = await startWorld({
      tenant,
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("writes it for none of its holders, and the report names it masked with the count", async () => {
    const holders = usersDeciding(tenant, "skip:sharedNumber");
    // The holders spell it differently; normalised it is one number.
    const numbers = new Set(
      holders.map((u) => {
        const n = normalizePhoneNumber(u.mobilePhone, { defaultRegion: "DK" });
        return n.ok ? n.phoneNumber : `invalid: ${u.id}`;
      }),
    );
    expect(numbers.size).toBe(1);
    const [shared] = [...numbers] as [string];

    const output = outputOf(await world.run());

    const mobiles = world.mobiles();
    expect(holders.filter((u) => mobiles.has(u.id))).toEqual([]);
    expect(world.emulator.metrics().writes).toBe(usersDeciding(tenant, "create").length);
    expect(output.plan["skip:sharedNumber"]).toBe(holders.length);
    const lines = await readReportLines(world.runsDir, output.reportKeys);
    for (const u of holders) {
      expect(lines.get(u.id)?.decision).toBe("skip:sharedNumber");
      expect(lines.get(u.id)?.detail).toContain(`held by ${holders.length} users`);
    }
    const report = await readReport(world.runsDir, output.reportKeys);
    expect(report.sharedNumbers).toHaveLength(1);
    const [row] = report.sharedNumbers;
    expect(row?.holders).toBe(holders.length);
    // Masked: the country code and the last two digits, never the whole number.
    const digits = shared.replace(/\D/g, "");
    expect(row?.phoneNumber).toMatch(new RegExp(`^\\+45 \\*+${digits.slice(-2)}$`));
    const national = digits.slice(2);
    expect(JSON.stringify(report)).not.toContain(national);
    expect(await readFile(join(world.runsDir, output.reportKeys.csv), "utf8")).not.toContain(
      national,
    );
  });
});
