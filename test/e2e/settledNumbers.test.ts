/**
 * The settled-numbers guard against an attacker who edits `mobilePhone` between two nights:
 * night 1 is the operator's dry run, the attacker then plants numbers on two unregistered users,
 * night 2 (a day later) writes neither and names who changed them, and night 2 + the settle
 * period writes the planted number only where it is still there. Each night runs on a local host
 * whose clock starts that much later on the same host state and run store; the emulator's audit
 * events keep the wall clock, which is consistent: the attacker acts after night 1.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { normalizePhoneNumber } from "../../shared/phone/index.js";
import {
  attackUser,
  attacksTenant,
  changeMobilePhone,
  readReport,
  readReportLines,
  usersDeciding,
} from "./attacksFixture.js";
import { outputOf, startWorld, type World } from "./world.js";

const DAY_MS = 86_400_000;
const SETTLE_DAYS = 3;
const ATTACKER = "mallory.helpdesk@contoso.example";
/** The phones the attacker controls (valid DK mobiles no fixture user holds). */
const PLANTED = { x: "+45 29 99 00 01", y: "+45 29 99 00 02" };

function graphFormat(raw: string): string {
  const n = normalizePhoneNumber(raw, { defaultRegion: "DK" });
  if (!n.ok) {
    throw new Error(`not a number: ${raw}`);
  }
  return n.phoneNumber;
}

describe("an attacker changes numbers between the nights: the settled-numbers guard", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await attacksTenant();
    world = await startWorld({
      tenant,
      settings: {
        DEFAULT_REGION: "DK",
        EXCLUDE_GROUPS: "Break Glass Accounts",
        NUMBER_SETTLE_DAYS: String(SETTLE_DAYS),
      },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("writes nothing for the changed users on night 2, names who changed them, and writes a planted number after the settle period only where it stayed", async () => {
    const x = attackUser(tenant, 7);
    const y = attackUser(tenant, 8);
    const creates = usersDeciding(tenant, "create").map((u) => u.id);

    // Night 1: the operator's dry run; it writes nothing but records who holds which number.
    const night1 = outputOf(await world.run({ dryRun: true }));
    expect(night1.dryRun).toBe(true);
    expect(world.emulator.metrics().writes).toBe(0);
    expect((await readReportLines(world.runsDir, night1.reportKeys)).get(x.id)?.decision).toBe(
      "create",
    );

    // Between the nights the attacker plants their phones on two unregistered users.
    await changeMobilePhone(world.emulator.adminUrl, x.id, PLANTED.x, ATTACKER);
    await changeMobilePhone(world.emulator.adminUrl, y.id, PLANTED.y, ATTACKER);

    // Night 2, a day later: everyone else is written, the two changed users are not.
    await world.restartHost({ clockOffsetMs: DAY_MS });
    const night2 = outputOf(await world.run());
    const afterNight2 = world.mobiles();
    const others = creates.filter((id) => id !== x.id && id !== y.id);
    expect([...afterNight2.keys()].sort()).toEqual([...others].sort());
    expect(world.emulator.metrics().writes).toBe(others.length);
    const lines2 = await readReportLines(world.runsDir, night2.reportKeys);
    for (const user of [x, y]) {
      expect(lines2.get(user.id)?.decision).toBe("skip:numberNotSettled");
      expect(lines2.get(user.id)?.detail).toContain(ATTACKER);
    }
    // The report lists both changes, masked, with who made them.
    const report2 = await readReport(world.runsDir, night2.reportKeys);
    const changed = report2.numbersChanged.filter((c) => c.userId === x.id || c.userId === y.id);
    expect(changed.map((c) => [c.userId, c.by])).toEqual(
      expect.arrayContaining([
        [x.id, ATTACKER],
        [y.id, ATTACKER],
      ]),
    );
    expect(changed).toHaveLength(2);
    expect(JSON.stringify(report2)).not.toContain(graphFormat(PLANTED.x));
    const maskedX = changed.find((c) => c.userId === x.id)?.phoneNumber ?? "";
    expect(maskedX).toMatch(/^\+45 \*+01$/);

    // Before night 3 an administrator puts y's own number back; x keeps the planted one.
    await changeMobilePhone(
      world.emulator.adminUrl,
      y.id,
      y.mobilePhone as string,
      "admin@contoso.example",
    );
    world.emulator.resetMetrics();

    // Night 3, the settle period after night 2: x's number has stayed that long and is written;
    // y's changed again, so it waits once more and nothing is written for y.
    await world.restartHost({ clockOffsetMs: (1 + SETTLE_DAYS) * DAY_MS });
    const night3 = outputOf(await world.run());
    const afterNight3 = world.mobiles();
    expect(afterNight3.get(x.id)).toBe(graphFormat(PLANTED.x));
    expect(afterNight3.has(y.id)).toBe(false);
    expect(world.emulator.metrics().writes).toBe(1);
    expect((await readReportLines(world.runsDir, night3.reportKeys)).get(y.id)?.decision).toBe(
      "skip:numberNotSettled",
    );
    // Nothing else moved: the methods of night 2 are as they were.
    for (const [id, phone] of afterNight2) {
      expect(afterNight3.get(id)).toBe(phone);
    }
  });
});
