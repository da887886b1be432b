import type { FixtureUser } from "../../../../local/graph-emulator/tenant/types.js";
import { createHash } from "node:crypto";
import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import { beforeAll, describe, expect, it } from "vitest";
import { validateTenant } from "../../../../local/graph-emulator/tenant/fixture.js";
import {
  DEFAULT_TENANT_MIX,
  describeTenant,
  GENERATED_GROUP_NAMES,
  generateTenant,
  generateTenantWithTruth,
  type GeneratedTenant,
} from "../../../../local/graph-emulator/tenant/generate.js";
import { GroupMembership } from "../../../../local/graph-emulator/tenant/membership.js";
import {
  GENERATED_COUNTRIES,
  NumberKind,
} from "../../../../local/graph-emulator/tenant/phoneNumbers.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex");
}

// Each share is drawn per user, so a count is binomial: four standard deviations is a tolerance a
// correct generator meets whatever the seed, and a wrong share (say doubled) does not.
function expectShare(count: number, share: number): void {
  const tolerance = 4 * Math.sqrt((share * (1 - share)) / USERS);
  expect(Math.abs(count / USERS - share), `share ${count / USERS} vs ${share}`).toBeLessThanOrEqual(
    tolerance,
  );
}

function countKinds(generated: GeneratedTenant, kinds: readonly number[]): number {
  let count = 0;
  for (const kind of generated.truth.numberKinds) {
    count += kinds.includes(kind) ? 1 : 0;
  }
  return count;
}

const USERS = 10_000;
let big: GeneratedTenant;

beforeAll(() => {
  big = generateTenantWithTruth({ users: USERS, seed: 42 });
});

describe("generateTenant", () => {
  it("is deterministic: the same seed gives byte-identical JSON, another seed another tenant", () => {
    const a = hashOf(generateTenant({ users: 2_000, seed: 7 }));
    const b = hashOf(generateTenant({ users: 2_000, seed: 7 }));
    const c = hashOf(generateTenant({ users: 2_000, seed: 8 }));

    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  it("produces a fixture the validator accepts, with GUID ids and unique UPNs", () => {
    const tenant = validateTenant(big.tenant);

    expect(tenant.users).toHaveLength(USERS);
    expect(tenant.users.every((user) => GUID.test(user.id))).toBe(true);
    expect(tenant.groups?.every((group) => GUID.test(group.id))).toBe(true);
    expect(GUID.test(tenant.tenant.id)).toBe(true);
  });

  it("honours the default mix within sampling tolerance", () => {
    const d = describeTenant(big.tenant);
    const m = DEFAULT_TENANT_MIX;
    const staging = d.groups.find((g) => g.displayName === GENERATED_GROUP_NAMES.staging)!;
    const valid = 1 - m.noMobilePhone - m.invalidNumber;
    const method =
      m.registeredByApp + m.mobileMethodSame + m.mobileMethodDifferent + m.officeMethodOnly;

    expectShare(d.guests, m.guests);
    expectShare(d.disabled, m.disabled);
    expectShare(d.admins - m.breakGlassAccounts, m.admins * (1 - m.guests));
    expectShare(d.withoutMobilePhone, m.noMobilePhone);
    expectShare(countKinds(big, [3, 4, 5, 6, 7, 8]), m.invalidNumber);
    expectShare(countKinds(big, [NumberKind.validNational]), m.nationalFormat * valid);
    expectShare(d.mfaRegistered, method);
    expectShare(d.registeredByOtherMethod, m.registeredByApp);
    expectShare(d.emailOrTapOnly, m.emailOrTapOnly);
    expectShare(d.withOfficeMethodOnly, m.officeMethodOnly);
    expectShare(staging.transitiveUsers, m.staging);
    expect(d.withAlternateMobileMethod).toBeGreaterThan(0);
  });

  it("honours an overridden mix", () => {
    const d = describeTenant(
      generateTenant({
        users: 4_000,
        seed: 3,
        mix: { guests: 0.5, noMobilePhone: 0, invalidNumber: 0, registeredByApp: 0.4, staging: 0 },
      }),
    );

    expect(d.guests / 4_000).toBeCloseTo(0.5, 1);
    expect(d.withoutMobilePhone).toBe(0);
    expect(d.registeredByOtherMethod / 4_000).toBeCloseTo(0.4, 1);
    expect(d.groups.find((g) => g.displayName === GENERATED_GROUP_NAMES.staging)?.transitiveUsers).toBe(0);
  }); // prettier-ignore

  it("gives valid mobile numbers of their country per libphonenumber full metadata, from at least 20 countries", () => {
    const countries = new Set<string>();
    const wrong: string[] = [];
    let checked = 0;
    big.tenant.users.forEach((user, i) => {
      const kind = big.truth.numberKinds[i];
      if (kind !== NumberKind.validInternational && kind !== NumberKind.validNational) {
        return;
      }
      const country = GENERATED_COUNTRIES[big.truth.numberCountries[i]!]!.country;
      // International spellings may use the 00 prefix, which needs a region dialling out with 00.
      const parsed = parsePhoneNumberFromString(
        user.mobilePhone!,
        kind === NumberKind.validNational ? country : "DK",
      );
      const type = parsed?.getType();
      if (
        parsed?.isValid() !== true ||
        parsed.country !== country ||
        (type !== "MOBILE" && type !== "FIXED_LINE_OR_MOBILE")
      ) {
        wrong.push(`${country} ${user.mobilePhone!}`);
      }
      countries.add(country);
      checked++;
    });

    expect(wrong).toEqual([]);
    expect(checked).toBeGreaterThan(USERS * 0.8);
    expect(countries.size).toBeGreaterThanOrEqual(20);
  });

  it("gives unusable values for the invalid kinds, landlines being valid fixed-line numbers", () => {
    const wrong: string[] = [];
    big.tenant.users.forEach((user, i) => {
      const kind = big.truth.numberKinds[i]!;
      if (kind < NumberKind.placeholder) {
        return;
      }
      const phone = user.mobilePhone!;
      const parsed = parsePhoneNumberFromString(phone, "DK");
      const ok =
        kind === NumberKind.fixedLine
          ? parsed?.getType() === "FIXED_LINE"
          : kind === NumberKind.twoNumbers
            ? phone.split("+").length === 3
            : parsed?.isValid() !== true;
      if (!ok) {
        wrong.push(`${kind} ${phone}`);
      }
    });

    expect(wrong).toEqual([]);
  });

  it("spells numbers as HR types them", () => {
    const phones = big.tenant.users.map((user) => user.mobilePhone ?? "");
    const some = (pattern: RegExp): boolean => phones.some((phone) => pattern.test(phone));

    expect(some(/^\+\d+ \d\d \d\d/)).toBe(true); // +45 20 12 34 56
    expect(some(/^00\d+ /)).toBe(true); // 0045 20123456
    expect(some(/\(0\)/)).toBe(true); // +44 (0)7400 123456
    expect(some(/^\(\d{3}\) \d{3}-\d{4}$/)).toBe(true); // (206) 555-0100
    expect(some(/^0\d{4} \d+$/)).toBe(true); // 07400 123456
    expect(some(/^\+\d+\.\d/)).toBe(true);
    expect(some(/^\+\d+-\d/)).toBe(true);
    expect(some(/^tel:\+/)).toBe(true);
    expect(some(/^(Mobile:|Mob\.|Cell|Phone:) /)).toBe(true);
    expect(some(/ (x|ext\.? )\d+$/)).toBe(true);
    expect(some(/[\uff10-\uff19]/)).toBe(true);
    expect(some(/\u00a0/)).toBe(true);
    expect(some(/^\s|\s$/)).toBe(true);
    for (const placeholder of ["N/A", "-", "0"]) {
      expect(phones).toContain(placeholder);
    }
    expect(big.tenant.users.some((user) => user.mobilePhone === null)).toBe(true);
    expect(big.tenant.users.some((user) => !("mobilePhone" in user))).toBe(true);
  });

  it("names users like a real directory: apostrophes, unicode letters, guests with #EXT#", () => {
    const upns = big.tenant.users.map((user) => user.userPrincipalName);
    const guests = big.tenant.users.filter((user) => user.userType === "Guest");

    expect(upns.some((upn) => upn.includes("'"))).toBe(true);
    expect(upns.some((upn) => /[^\x20-\x7e]/.test(upn))).toBe(true);
    expect(guests.length).toBeGreaterThan(0);
    expect(
      guests.every((g) => /^[^@]+_[a-z.]+#EXT#@contoso\.example$/.test(g.userPrincipalName)),
    ).toBe(true);
  });

  it("includes SMS sign-in clash pairs whose claimant would be planned for creation", () => {
    const usersById = new Map(big.tenant.users.map((user) => [user.id, user]));
    const pairs = big.truth.clashPairs;

    const expected = USERS * DEFAULT_TENANT_MIX.smsSignInClashPairs;
    expect(pairs.length).toBeGreaterThanOrEqual(Math.max(1, expected - 4 * Math.sqrt(expected)));
    expect(pairs.length).toBeLessThanOrEqual(expected + 4 * Math.sqrt(expected));
    for (const { holderId, claimantId } of pairs) {
      const holder = usersById.get(holderId)!;
      const claimant = usersById.get(claimantId)!;
      const held = holder.phoneMethods?.find((m) => m.smsSignInNumber === true);
      expect(held?.phoneType).toBe("mobile");
      expect(parsePhoneNumberFromString(claimant.mobilePhone!, "DK")?.number).toBe(
        `+${held?.phoneNumber.replace(/\D/g, "")}`,
      );
      expect(claimant.accountEnabled ?? true).toBe(true);
      expect(claimant.userType ?? "Member").toBe("Member");
      expect(claimant.isAdmin ?? false).toBe(false);
      expect(claimant.phoneMethods ?? []).toEqual([]);
      expect(claimant.otherMethods ?? []).toEqual([]);
    }
    expect(describeTenant(big.tenant).smsSignInClaimants).toBe(pairs.length);
  }); // prettier-ignore

  it("has at least one clash pair even in a tiny tenant", () => {
    const generated = generateTenantWithTruth({ users: 4, seed: 99 });

    expect(generated.truth.clashPairs).toHaveLength(1);
    expect(describeTenant(generated.tenant).smsSignInClaimants).toBe(1);
  });

  it("builds the staging group with two nested levels and the exclusion and duplicate groups", () => {
    const membership = new GroupMembership(big.tenant);
    const [pilot] = membership.groupsNamed(GENERATED_GROUP_NAMES.staging);
    const [sales] = membership.groupsNamed(GENERATED_GROUP_NAMES.stagingSales);
    const [nordics] = membership.groupsNamed(GENERATED_GROUP_NAMES.stagingSalesNordics);
    const [breakGlass] = membership.groupsNamed(GENERATED_GROUP_NAMES.exclusion);
    const staged = membership.transitiveUserIds(pilot!.id);
    const nordicUsers = membership.transitiveUserIds(nordics!.id);

    expect(GENERATED_GROUP_NAMES.stagingSales).toContain("'");
    expect(pilot!.members).toContain(sales!.id);
    expect(sales!.members).toContain(nordics!.id);
    expect(pilot!.members).not.toContain(nordics!.id);
    expect(nordicUsers.size).toBeGreaterThan(0);
    expect([...nordicUsers].every((id) => staged.has(id))).toBe(true);
    expect(staged.size).toBeGreaterThan(pilot!.members.length);
    const breakGlassUsers = [...membership.transitiveUserIds(breakGlass!.id)];
    expect(breakGlassUsers).toHaveLength(DEFAULT_TENANT_MIX.breakGlassAccounts);
    const usersById = new Map(big.tenant.users.map((user) => [user.id, user]));
    expect(breakGlassUsers.every((id) => usersById.get(id)?.isAdmin === true)).toBe(true);
    expect(membership.groupsNamed(GENERATED_GROUP_NAMES.duplicate)).toHaveLength(2);
  });

  it("honours domain and tenant id, and handles empty and one-user tenants", () => {
    const tenant = generateTenant({ users: 1, domain: "fabrikam.example", tenantId: "t-1" });
    const empty = validateTenant(generateTenant({ users: 0 }));

    expect(validateTenant(tenant).tenant).toEqual({
      id: "t-1",
      domain: "fabrikam.example",
      premium: true,
      smsSignInEnabled: true,
    });
    expect(tenant.users[0]!.userPrincipalName).toMatch(/@fabrikam\.example$/);
    expect(empty.users).toEqual([]);
  });

  it("rejects a user count or mix share out of range, naming it", () => {
    expect(() => generateTenant({ users: -1 })).toThrow(RangeError);
    expect(() => generateTenant({ users: 1.5 })).toThrow("not '1.5'");
    expect(() => generateTenant({ users: 10, mix: { guests: 1.5 } })).toThrow(
      "GraphEmulator: the tenant mix share 'guests' must be a number from 0 to 1.",
    );
    expect(() =>
      generateTenant({ users: 10, mix: { registeredByApp: 0.6, emailOrTapOnly: 0.6 } }),
    ).toThrow(/add up to more than 1/);
  });
});

describe("describeTenant", () => {
  it("counts the categories of the contract example", async () => {
    const { readFile } = await import("node:fs/promises");
    const example = validateTenant(
      JSON.parse(
        await readFile(
          new URL("../../../../local/graph-emulator/tenant/tenant-fixture.example.json", import.meta.url),
          "utf8",
        ),
      ),
    );

    const d = describeTenant(example);

    expect(d).toMatchObject({
      users: 7,
      members: 6,
      guests: 1,
      disabled: 1,
      admins: 0,
      withMobilePhone: 7,
      withoutMobilePhone: 0,
      mfaRegistered: 2,
      registeredByPhone: 1,
      registeredByOtherMethod: 1,
      emailOrTapOnly: 0,
      withMobileMethod: 1,
      smsSignInNumbers: 0,
      smsSignInClaimants: 0,
    });
    expect(d.groups.map((g) => [g.displayName, g.directMembers, g.transitiveUsers])).toEqual([
      ["MFA Pilot", 2, 2],
      ["MFA Pilot - Sales", 1, 1],
    ]);
  }); // prettier-ignore
});

describe("generated contact details and shared numbers", () => {
  // Every number more than one user's mobilePhone spells, read back from the fixture alone.
  function sharedFromFixture(generated: GeneratedTenant): Map<string, string[]> {
    const holders = new Map<string, string[]>();
    generated.tenant.users.forEach((user, i) => {
      const kind = generated.truth.numberKinds[i];
      if (kind !== NumberKind.validInternational && kind !== NumberKind.validNational) {
        return;
      }
      const region =
        kind === NumberKind.validNational
          ? GENERATED_COUNTRIES[generated.truth.numberCountries[i]!]!.country
          : "DK";
      const e164 = parsePhoneNumberFromString(user.mobilePhone!, region)!.number;
      holders.set(e164, [...(holders.get(e164) ?? []), user.id]);
    });
    return new Map([...holders].filter(([, ids]) => ids.length > 1));
  }

  const plain = (user: GeneratedTenant["tenant"]["users"][number]): boolean =>
    user.accountEnabled !== false &&
    user.userType !== "Guest" &&
    user.isAdmin !== true &&
    user.phoneMethods === undefined &&
    user.otherMethods === undefined;

  it("tells the truth about every shared number, the switchboard and planted pairs included", () => {
    const truth = new Map(big.truth.sharedNumbers.map((s) => [s.number, s.holderIds]));

    expect(truth).toEqual(sharedFromFixture(big));
    const switchboard = truth.get(big.truth.switchboardNumber)!;
    const usersById = new Map(big.tenant.users.map((user) => [user.id, user]));
    expect(switchboard.every((id) => plain(usersById.get(id)!))).toBe(true);
    // ~0.5 % of the plain users with a number of their own in international form.
    const eligible = big.tenant.users.filter(
      (user, i) => plain(user) && big.truth.numberKinds[i] === NumberKind.validInternational,
    ).length;
    const expected = eligible * DEFAULT_TENANT_MIX.switchboard;
    expect(Math.abs(switchboard.length - expected)).toBeLessThanOrEqual(4 * Math.sqrt(expected));
    // Clash pairs are shared numbers too; beyond them and the switchboard, plain pairs exist.
    const clashIds = new Set(big.truth.clashPairs.flatMap((p) => [p.holderId, p.claimantId]));
    const plainPairs = [...truth.values()].filter(
      (ids) =>
        ids.length === 2 && ids.every((id) => !clashIds.has(id) && plain(usersById.get(id)!)),
    );
    expect(plainPairs.length).toBeGreaterThanOrEqual(1);
  });

  it("plants a switchboard and a shared pair even in a small tenant", () => {
    const small = generateTenantWithTruth({ users: 60, seed: 5 });
    const truth = new Map(small.truth.sharedNumbers.map((s) => [s.number, s.holderIds]));

    expect(truth).toEqual(sharedFromFixture(small));
    expect(truth.get(small.truth.switchboardNumber)?.length).toBeGreaterThanOrEqual(2);
    expect(truth.size).toBeGreaterThanOrEqual(3); // the switchboard, a clash pair and a plain pair
  });

  it("draws contact details from a stream of their own: without them the users are the same", () => {
    const without = generateTenant({
      users: 2_000,
      seed: 7,
      mix: { switchboard: 0, sharedMobilePairs: 0, otherMails: 0, businessPhones: 0 },
    });
    const withThem = generateTenant({ users: 2_000, seed: 7 });
    const strip = (
      user: FixtureUser,
    ): Omit<FixtureUser, "mobilePhone" | "otherMails" | "businessPhones"> => {
      const { mobilePhone: _m, otherMails: _o, businessPhones: _b, ...rest } = user;
      return rest;
    };

    expect(without.users.some((user) => user.otherMails || user.businessPhones)).toBe(false);
    expect(withThem.users.map(strip)).toEqual(without.users.map(strip));
    expect(withThem.groups).toEqual(without.groups);
    const changed = withThem.users.filter(
      (user, i) => user.mobilePhone !== without.users[i]!.mobilePhone,
    );
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.every(plain)).toBe(true);
  });

  it("gives messy otherMails: several, inside the tenant's domain, shared, malformed", () => {
    const users = big.tenant.users;
    const withMails = users.filter((user) => user.otherMails !== undefined);
    const all = withMails.flatMap((user) => user.otherMails!);
    const counts = new Map<string, number>();
    for (const mail of all) {
      counts.set(mail, (counts.get(mail) ?? 0) + 1);
    }

    expectShare(withMails.length, DEFAULT_TENANT_MIX.otherMails);
    expect(withMails.some((user) => user.otherMails!.length > 1)).toBe(true);
    expect(all.some((mail) => mail.toLowerCase().endsWith("@contoso.example"))).toBe(true);
    expect([...counts.values()].some((n) => n > 1)).toBe(true);
    expect(all.some((mail) => !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(mail))).toBe(true);
    expect(all.some((mail) => /^[^@\s]+@[^@\s]+\.[a-z]+$/.test(mail))).toBe(true);
  });

  it("gives one businessPhones entry at most: landlines with extensions, the shared switchboard, garbage", () => {
    const withPhones = big.tenant.users.filter((user) => user.businessPhones !== undefined);
    const phones = withPhones.map((user) => user.businessPhones![0]!);
    const switchboard = phones.filter(
      (phone) => parsePhoneNumberFromString(phone, "DK")?.number === big.truth.switchboardNumber,
    );

    expectShare(withPhones.length, DEFAULT_TENANT_MIX.businessPhones);
    expect(withPhones.every((user) => user.businessPhones!.length === 1)).toBe(true);
    expect(phones.some((phone) => / (x|ext\.?) ?\d+$|-\d{3}$/.test(phone))).toBe(true);
    expect(switchboard.length).toBeGreaterThan(1);
    expect(phones.some((phone) => parsePhoneNumberFromString(phone, "DK")?.isValid() !== true)).toBe(true);
  }); // prettier-ignore
});
