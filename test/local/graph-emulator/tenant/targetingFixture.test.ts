import { readFile } from "node:fs/promises";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { beforeAll, describe, expect, it } from "vitest";
import { validateTenant } from "../../../../local/graph-emulator/tenant/fixture.js";
import { describeTenant } from "../../../../local/graph-emulator/tenant/generate.js";
import { GroupMembership } from "../../../../local/graph-emulator/tenant/membership.js";
import { isMfaRegistered } from "../../../../local/graph-emulator/tenant/methods.js";
import type { FixtureUser, TenantFixture } from "../../../../local/graph-emulator/tenant/types.js";

// The team's targeting fixture: these tests keep its promises (README table, every decision,
// real numbers) true while people edit it.
const fixturesDir = new URL("../../../fixtures/", import.meta.url);

let tenant: TenantFixture;
let readme: string;

function decisionOf(user: FixtureUser): string {
  return (user.displayName ?? "").split(" | ")[0]!;
}

function usersDeciding(decision: string): FixtureUser[] {
  return tenant.users.filter((user) => decisionOf(user) === decision);
}

function byNumber(n: number): FixtureUser {
  const id = `10000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
  const user = tenant.users.find((candidate) => candidate.id === id);
  if (user === undefined) {
    throw new Error(`no user '${id}' in the fixture`);
  }
  return user;
}

beforeAll(async () => {
  tenant = validateTenant(
    JSON.parse(await readFile(new URL("targeting.tenant.json", fixturesDir), "utf8")),
  );
  readme = await readFile(new URL("README.md", fixturesDir), "utf8");
});

describe("test/fixtures/targeting.tenant.json", () => {
  it("states an expected decision for every user and covers every decision at least once", () => {
    const decisions = new Set(tenant.users.map(decisionOf));

    expect([...decisions].sort()).toEqual([
      "create",
      "skip:admin",
      "skip:alreadyMfaRegistered",
      "skip:disabled",
      "skip:excludedGroup",
      "skip:guest",
      "skip:invalidNumber",
      "skip:noNumber",
    ]);
    expect(usersDeciding("skip:invalidNumber").length).toBeGreaterThanOrEqual(7);
    expect(usersDeciding("skip:noNumber").length).toBeGreaterThanOrEqual(6);
  });

  it("lists every user in the README table with the decision its displayName states", () => {
    const rows = new Map<string, { decision: string; staging: string }>();
    for (const match of readme.matchAll(
      /^\| `([0-9a-f-]{36})` \|[^|]*\|[^|]*\| `([^`]+)` \| ?([^|]*?) ?\|[^|]*\|$/gm,
    )) {
      rows.set(match[1]!, { decision: match[2]!, staging: match[3]! });
    }
    const membership = new GroupMembership(tenant);
    const staged = membership.transitiveUserIds(membership.groupsNamed("MFA Pilot")[0]!.id);

    expect(rows.size).toBe(tenant.users.length);
    for (const user of tenant.users) {
      const row = rows.get(user.id);
      expect(row?.decision, user.id).toBe(decisionOf(user));
      // Outside the staging group, only an earlier skip reason (here: the exclusion) remains.
      const outside = !staged.has(user.id) && decisionOf(user) !== "skip:excludedGroup";
      expect(row?.staging, user.id).toBe(outside ? "`skip:outsideStagingGroup`" : "");
    }
  });

  it("gives every 'create' user a valid mobile number under DEFAULT_REGION=DK, in at least eight countries", () => {
    const countries = new Set<string>();
    for (const user of usersDeciding("create")) {
      const parsed = parsePhoneNumberFromString(user.mobilePhone ?? "", "DK");
      expect(parsed?.isValid(), user.id).toBe(true);
      expect(["MOBILE", "FIXED_LINE_OR_MOBILE"], user.id).toContain(parsed?.getType());
      countries.add(parsed?.country ?? "");
      expect(isMfaRegistered(user), user.id).toBe(false);
    }

    expect(countries.size).toBeGreaterThanOrEqual(8);
  });

  it("gives every 'skip:invalidNumber' and 'skip:noNumber' user a value that is no valid mobile under DEFAULT_REGION=DK", () => {
    for (const user of [
      ...usersDeciding("skip:invalidNumber"),
      ...usersDeciding("skip:noNumber"),
    ]) {
      const parsed = parsePhoneNumberFromString(user.mobilePhone ?? "", "DK");
      const validMobile =
        parsed !== undefined && parsed.isValid() && parsed.getType() !== "FIXED_LINE";
      expect(validMobile, user.id).toBe(false);
    }
  });

  it("makes every 'skip:alreadyMfaRegistered' user MFA-registered by the report's rule", () => {
    const registered = usersDeciding("skip:alreadyMfaRegistered");

    expect(registered.every(isMfaRegistered)).toBe(true);
    // Email and TAP alone do not register a user: those users are planned for creation.
    expect(isMfaRegistered(byNumber(17))).toBe(false);
    expect(isMfaRegistered(byNumber(18))).toBe(false);
  });

  it("holds one SMS sign-in clash: user 22 holds the number user 21's mobilePhone has", () => {
    const description = describeTenant(tenant);

    expect(description.smsSignInNumbers).toBe(1);
    expect(description.smsSignInClaimants).toBe(1);
    expect(byNumber(22).phoneMethods).toEqual([
      { phoneType: "mobile", phoneNumber: "+45 27123456", smsSignInNumber: true },
    ]);
    expect(byNumber(21).mobilePhone?.replace(/\D/g, "")).toBe("4527123456");
  });

  it("resolves the staging group 'MFA Pilot' through two levels, one named with an apostrophe, to the users the README lists", () => {
    const membership = new GroupMembership(tenant);
    const [pilot] = membership.groupsNamed("MFA Pilot");
    const staged = membership.transitiveUserIds(pilot!.id);
    const listed = /the 13 transitive members \(users ([\d,\s]+)\)/.exec(readme)?.[1];

    expect(membership.groupsNamed("Sales - Rock 'n' Roll")).toHaveLength(1);
    expect([...staged].map((id) => id.slice(-2)).sort()).toEqual(listed?.match(/\d+/g)?.sort());
    expect(staged.has(byNumber(45).id)).toBe(true);
  });

  it("excludes users 29 and 30 through 'Break Glass Accounts', 30 through a nested group", () => {
    const membership = new GroupMembership(tenant);
    const [breakGlass] = membership.groupsNamed("Break Glass Accounts");

    expect([...membership.transitiveUserIds(breakGlass!.id)].sort()).toEqual(
      [byNumber(29).id, byNumber(30).id].sort(),
    );
    expect(
      usersDeciding("skip:excludedGroup")
        .map((user) => user.id)
        .sort(),
    ).toEqual([byNumber(29).id, byNumber(30).id].sort());
  });

  it("has two distinct groups sharing the display name 'Duplicate Name'", () => {
    const duplicates = new GroupMembership(tenant).groupsNamed("Duplicate Name");

    expect(duplicates).toHaveLength(2);
    expect(duplicates[0]!.id).not.toBe(duplicates[1]!.id);
  });

  it("has UPNs with an apostrophe and with letters outside ASCII", () => {
    const upns = tenant.users.map((user) => user.userPrincipalName);

    expect(upns).toContain("siobhan.o'brien@contoso.example");
    expect(upns.some((upn) => /[^\x20-\x7e]/.test(upn))).toBe(true);
  });
});
