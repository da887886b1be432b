/**
 * TARGET=ssprUnregistered end to end, and the readiness count of the same tenant: the users the
 * registration report calls not SSPR-registered get a mobile method, no one else does; the
 * readiness counts and lists match the fixture's method mixes, with ids and UPNs and no number.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateTenant } from "../../local/graph-emulator/tenant/fixture.js";
import type { FixtureUser } from "../../local/graph-emulator/tenant/types.js";
import { outputOf, startWorld, type World } from "./world.js";

const id = (n: number): string => `40000000-0000-4000-8000-0000000000${String(n).padStart(2, "0")}`;

/** A member with a valid mobile number in the directory; `more` says what is registered. */
const user = (n: number, more: Partial<FixtureUser> = {}): FixtureUser => ({
  id: id(n),
  userPrincipalName: `user${n}@contoso.example`,
  mobilePhone: `+45 20 12 34 ${String(n).padStart(2, "0")}`,
  ...more,
});

const tenant = validateTenant({
  tenant: { id: "6f1c2f5e-0000-4000-8000-0000000000c2", domain: "contoso.example" },
  users: [
    // Nothing registered: not SSPR-registered, no method at all.
    user(1),
    user(2),
    // A security key only: MFA-registered, but SSPR does not accept it (phishing-resistant).
    user(3, { otherMethods: ["fido2SecurityKey"] }),
    // A mobile method only: registered for both, SMS/voice only.
    user(4, { phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 40123404" }] }),
    // The email method only: SSPR-registered, not MFA-registered.
    user(5, { otherMethods: ["email"], otherMails: ["user5@mail.example"] }),
    // Authenticator push: registered for both.
    user(6, { otherMethods: ["microsoftAuthenticatorPush"] }),
    // An office phone only: SSPR-registered, SMS/voice only.
    user(7, { phoneMethods: [{ phoneType: "office", phoneNumber: "+45 33123407" }] }),
    // A passkey and Windows Hello: phishing-resistant, not SSPR methods.
    user(8, { otherMethods: ["passKeyDeviceBound", "windowsHelloForBusiness"] }),
  ],
});

/** The users the report calls not SSPR-registered, worked out by hand from the fixture. */
const NOT_SSPR = [1, 2, 3, 8].map(id);

describe("TARGET=ssprUnregistered and the readiness count (SSPR fixture)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      tenant,
      settings: { DEFAULT_REGION: "DK", TARGET: "ssprUnregistered" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("writes exactly the users the registration report calls not SSPR-registered", async () => {
    const before = world.mobiles();
    const output = outputOf(await world.run());
    const after = world.mobiles();
    expect([...after.keys()].filter((u) => !before.has(u)).sort()).toEqual(NOT_SSPR);
    expect(after.get(id(4))).toBe(before.get(id(4)));
    expect(output.counts.created).toBe(NOT_SSPR.length);
    expect(output.plan["skip:alreadySsprRegistered"]).toBe(tenant.users.length - NOT_SSPR.length);
    // The readiness was counted before anything was written.
    expect(output.readiness).toEqual({
      counted: 8,
      smsOrVoiceOnly: 2, // users 4 and 7
      noMethod: 2, // users 1 and 2
      phishingResistant: 2, // users 3 and 8
    });
  });

  it("lists the readiness groups in report.json and readiness.csv by id and UPN, never by number", async () => {
    world.reset();
    const output = outputOf(await world.run({ dryRun: true }));
    const runDir = join(world.runsDir, output.reportKeys.json, "..");
    const report = JSON.parse(await readFile(join(runDir, "report.json"), "utf8")) as {
      readiness: { users: Record<string, { userId: string; userPrincipalName: string }[]> };
    };
    const ids = (group: string) => report.readiness.users[group]?.map((u) => u.userId).sort();
    expect(ids("smsOrVoiceOnly")).toEqual([id(4), id(7)]);
    expect(ids("noMethod")).toEqual([id(1), id(2)]);
    expect(ids("phishingResistant")).toEqual([id(3), id(8)]);
    expect(report.readiness.users.noMethod?.[0]?.userPrincipalName).toMatch(/@contoso\.example$/);
    const csv = await readFile(join(runDir, "readiness.csv"), "utf8");
    expect(csv.trim().split("\r\n")).toHaveLength(1 + 6);
    expect(csv).toContain(`user7@contoso.example,${id(7)},smsOrVoiceOnly,officePhone`);
    for (const text of [JSON.stringify(report.readiness), csv]) {
      expect(text).not.toMatch(/\+45|33123407|40123404/);
    }
    const html = await readFile(join(runDir, "report.html"), "utf8");
    expect(html).toContain('id="h-readiness"');
    expect(html).toContain("user4@contoso.example");
  });
});
