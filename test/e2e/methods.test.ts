/**
 * METHODS=mobile,email,office end to end: each user ends with exactly the methods worked out by
 * hand below, and every refused value is refused with its own reason.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateTenant } from "../../local/graph-emulator/tenant/fixture.js";
import type { FixtureUser } from "../../local/graph-emulator/tenant/types.js";
import { outputOf, startWorld, type World } from "./world.js";

const id = (n: number): string => `30000000-0000-4000-8000-0000000000${String(n).padStart(2, "0")}`;

/** A member with no method; `n` names it, the rest is what the directory holds. */
const user = (n: number, name: string, more: Partial<FixtureUser>): FixtureUser => ({
  id: id(n),
  userPrincipalName: `${name}@contoso.example`,
  ...more,
});

const tenant = validateTenant({
  tenant: {
    id: "6f1c2f5e-0000-4000-8000-0000000000c1",
    domain: "contoso.example",
    domains: [{ id: "contoso-corp.example" }, { id: "old-brand.example", isVerified: false }],
  },
  // Office phones need Voice with office phones allowed (the pre-flight stops the run otherwise).
  authenticationMethodsPolicy: { Voice: { state: "enabled", isOfficePhoneAllowed: true } },
  users: [
    // Every method made: the first addresses and numbers, an office number with an extension.
    user(1, "ada", {
      mobilePhone: "+45 20 12 34 56",
      otherMails: ["Ada.Private@Mail.example", "second@mail.example"],
      businessPhones: ["+45 33 12 34 56 ext. 12"],
    }),
    // An address in the tenant's initial domain, another in a subdomain of a verified domain.
    user(2, "bo", { otherMails: ["bo@contoso.example"], businessPhones: ["+45 33 12 34 57"] }),
    user(3, "cy", { otherMails: ["cy@mail.contoso-corp.example"] }),
    // One address held by two users: written for neither.
    user(4, "dan", { mobilePhone: "+45 20 12 34 60", otherMails: ["family@mail.example"] }),
    user(5, "eve", { otherMails: ["Family@mail.example"] }),
    // Not an address.
    user(6, "fay", { otherMails: ["fay at mail dot example"] }),
    // A domain the tenant holds but has not verified is not its own.
    user(7, "gus", { otherMails: ["gus@old-brand.example"] }),
    // An email method already registered is never changed.
    user(8, "hal", { otherMails: ["hal.new@mail.example"], otherMethods: ["email"] }),
    // An office method already registered is kept; the mobile is still written.
    user(9, "ivy", {
      mobilePhone: "+45 20 12 34 62",
      businessPhones: ["+45 33 12 34 99"],
      phoneMethods: [{ phoneType: "office", phoneNumber: "+45 33123490" }],
    }),
    // A switchboard number copied onto two users: written for neither.
    user(10, "jo", { businessPhones: ["+45 33 70 20 30"] }),
    user(11, "kim", { businessPhones: ["+4533702030"] }),
    // Admins are never written, whatever they hold.
    user(12, "lea", {
      isAdmin: true,
      mobilePhone: "+45 20 12 34 64",
      otherMails: ["lea@mail.example"],
      businessPhones: ["+45 33 12 34 64"],
    }),
  ],
});

/** The methods each user must end with, worked out by hand from the fixture above. */
const EXPECTED: Record<number, { mobile?: string; office?: string; email?: string }> = {
  1: { mobile: "+45 20123456", office: "+45 33123456x12", email: "ada.private@mail.example" },
  2: { office: "+45 33123457" },
  3: {},
  4: { mobile: "+45 20123460" },
  5: {},
  6: {},
  7: { email: "gus@old-brand.example" },
  // The emulator registers the fixture's email method with the user's first usable address.
  8: { email: "hal.new@mail.example" },
  9: { mobile: "+45 20123462", office: "+45 33123490" },
  10: {},
  11: {},
  12: {},
};

describe("METHODS=mobile,email,office (methods fixture)", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      tenant,
      settings: { DEFAULT_REGION: "DK", METHODS: "mobile,email,office", TARGET: "noMobileMethod" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("ends with exactly the expected methods per user, each written once", async () => {
    const output = outputOf(await world.run());
    const found = new Map(
      world.emulator.state().users.map((u) => {
        const phone = (type: string) => u.phoneMethods.find((m) => m.phoneType === type);
        const methods: { mobile?: string; office?: string; email?: string } = {};
        const mobile = phone("mobile");
        const office = phone("office");
        if (mobile) {
          methods.mobile = mobile.phoneNumber;
        }
        if (office) {
          methods.office = office.phoneNumber;
        }
        if (u.emailMethods[0]) {
          methods.email = u.emailMethods[0].emailAddress;
        }
        return [u.id, methods];
      }),
    );
    for (const [n, methods] of Object.entries(EXPECTED)) {
      expect(found.get(id(Number(n))), `user ${n}`).toEqual(methods);
    }
    const writes = 3 + 1 + 1 + 1 + 1; // ada's three, bo's office, dan's and ivy's mobiles, gus's email
    expect(world.emulator.metrics().writes).toBe(writes);
    expect(output.counts.created).toBe(writes);
    expect(output.counts.failed).toBe(0);
    // The contract's counts count one entry per user and method; `methods` splits them.
    expect(output.counts.candidates).toBe(tenant.users.length * 3);
    expect(output.methods?.mobile?.created).toBe(3);
    expect(output.methods?.email?.created).toBe(2);
    expect(output.methods?.office?.created).toBe(2);
  });

  it("refuses internal, shared and malformed addresses and shared numbers, each with its reason", async () => {
    const status = await world.run({ dryRun: true });
    const output = outputOf(status);
    const csv = await readFile(join(world.runsDir, output.reportKeys.csv), "utf8");
    // A line starts with the UPN, the id and the decision (no commas in them) and ends with the
    // method and the masked address.
    const decisionOf = (n: number, method: string): string | undefined =>
      csv
        .split("\r\n")
        .find((l) => l.includes(`,${id(n)},`) && new RegExp(`,${method},[^,]*$`).test(l))
        ?.split(",")[2];
    expect(decisionOf(2, "email")).toBe("skip:internalDomain");
    expect(decisionOf(3, "email")).toBe("skip:internalDomain");
    expect(decisionOf(4, "email")).toBe("skip:sharedAddress");
    expect(decisionOf(5, "email")).toBe("skip:sharedAddress");
    expect(decisionOf(6, "email")).toBe("skip:invalidAddress");
    expect(decisionOf(8, "email")).toBe("skip:hasEmailMethod");
    expect(decisionOf(9, "office")).toBe("skip:hasOfficeMethod");
    expect(decisionOf(10, "office")).toBe("skip:sharedNumber");
    expect(decisionOf(11, "office")).toBe("skip:sharedNumber");
    expect(decisionOf(12, "mobile")).toBe("skip:admin");
    expect(decisionOf(12, "email")).toBe("skip:admin");
    expect(decisionOf(12, "office")).toBe("skip:admin");
    // The reasons name what to fix, and no full address reaches the report.
    expect(csv).toContain("in the tenant's own domain 'contoso.example'");
    expect(csv).toContain("in the tenant's own domain 'contoso-corp.example'");
    expect(csv).toContain("The address is held by 2 users");
    expect(csv).not.toContain("family@mail.example");
  });
});
