/**
 * The directory audit log (issue 11): "Update user" events seeded from the fixture and written by
 * the admin API when a user's mobilePhone changes, served at /auditLogs/directoryAudits with the
 * documented shape, filters, paging, permissions, quota and retention.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PROFILES,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import {
  TenantFixtureError,
  validateTenant,
} from "../../../local/graph-emulator/tenant/fixture.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import { GraphTestClient, TENANT_ID, expectEnvelope, type Answer } from "./helpers.js";

const AUDITS = "/v1.0/auditLogs/directoryAudits";
const DAY_MS = 24 * 3600 * 1000;
const READER = [...PROFILES.fast.grantedRoles, "Directory.Read.All"];

function auditTenant(premium = true): TenantFixture {
  return {
    tenant: { id: TENANT_ID, domain: "contoso.example", premium },
    users: [
      { id: "u1", userPrincipalName: "ann@contoso.example", mobilePhone: "+45 20000001" },
      { id: "u2", userPrincipalName: "ben@contoso.example", mobilePhone: "+45 2" },
      { id: "u3", userPrincipalName: "cat@contoso.example" },
      { id: "helpdesk", userPrincipalName: "helpdesk@contoso.example" },
    ],
    auditEvents: [
      { userId: "u1", daysAgo: 10, initiatedBy: { app: "HR provisioning" } },
      {
        userId: "u2",
        daysAgo: 2,
        oldValue: "+45 1",
        newValue: "+45 2",
        initiatedBy: { userPrincipalName: "helpdesk@contoso.example" },
      },
      { userId: "u3", activityDateTime: new Date(Date.now() - 40 * DAY_MS).toISOString() },
      { userId: "u1", daysAgo: 1, properties: ["DisplayName"] },
    ],
  };
}

interface Audit {
  id: string;
  activityDateTime: string;
  initiatedBy: { user: { userPrincipalName: string; id: string } | null; app: { displayName: string } | null };
  targetResources: {
    id: string;
    type: string;
    userPrincipalName: string;
    modifiedProperties: { displayName: string; oldValue: string | null; newValue: string }[];
  }[];
} // prettier-ignore

const targets = (a: Answer): string[] => a.body.value.map((e: Audit) => e.targetResources[0]!.id);
const q = (f: string) => `${AUDITS}?$filter=${encodeURIComponent(f)}`;

describe("directory audits", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;
  let token: { token: string };

  beforeAll(async () => {
    emu = await startEmulator({ tenant: auditTenant(), config: { reportsQuota: 1000 } });
    client = new GraphTestClient(emu);
    token = { token: emu.issueToken({ roles: READER }) };
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("answers the default token, which carries the product's roles", async () => {
    expect((await client.call("GET", AUDITS)).status).toBe(200);
  });

  it("serves seeded events in the documented directoryAudit shape, newest first", async () => {
    const r = await client.call("GET", AUDITS, token);
    expect(r.status).toBe(200);
    expect(r.body["@odata.context"]).toMatch(/\$metadata#auditLogs\/directoryAudits$/);
    // u3's 40-day-old event is past the 30-day retention of a P1/P2 tenant.
    expect(targets(r)).toEqual(["u1", "u2", "u1"]);
    const times = r.body.value.map((e: Audit) => Date.parse(e.activityDateTime));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    const ben = r.body.value[1];
    expect(ben).toMatchObject({
      category: "UserManagement",
      activityDisplayName: "Update user",
      loggedByService: "Core Directory",
      operationType: "Update",
      result: "success",
      initiatedBy: { user: { userPrincipalName: "helpdesk@contoso.example", id: "helpdesk" }, app: null },
      targetResources: [
        {
          id: "u2",
          type: "User",
          userPrincipalName: "ben@contoso.example",
          modifiedProperties: [
            { displayName: "MobilePhone", oldValue: '["+45 1"]', newValue: '["+45 2"]' },
            { displayName: "Included Updated Properties", oldValue: null, newValue: '"MobilePhone"' },
          ],
        },
      ],
    });
    expect(typeof ben.id).toBe("string");
    expect(ben.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const hr = r.body.value[2];
    expect(hr.initiatedBy).toMatchObject({ user: null, app: { displayName: "HR provisioning" } });
    // A seeded MobilePhone event defaults to the user's current number, from none.
    expect(hr.targetResources[0].modifiedProperties[0]).toEqual({
      displayName: "MobilePhone",
      oldValue: "[]",
      newValue: '["+45 20000001"]',
    });
  }); // prettier-ignore

  it("filters on the activity name and a lower time bound, in either order", async () => {
    const since = new Date(Date.now() - 5 * DAY_MS).toISOString();
    for (const f of [
      `activityDisplayName eq 'Update user' and activityDateTime ge ${since}`,
      `activityDateTime ge ${since} and activityDisplayName eq 'Update user'`,
    ]) {
      const r = await client.call("GET", q(f), token);
      expect(r.status).toBe(200);
      expect(targets(r)).toEqual(["u1", "u2"]);
    }
    const older = await client.call("GET", q(`activityDateTime le ${since}`), token);
    expect(targets(older)).toEqual(["u1"]);
    const other = await client.call("GET", q("activityDisplayName eq 'Add user'"), token);
    expect(other.body.value).toEqual([]);
  });

  it("refuses filters it does not support with 400", async () => {
    const since = new Date(Date.now() - DAY_MS).toISOString();
    for (const f of [
      `activityDisplayName eq 'Update user' or activityDateTime ge ${since}`,
      `activityDateTime gt ${since}`,
      `activityDateTime ge '${since}'`,
      "targetResources/any(t:t eq 'u1')",
      "category eq 'UserManagement'",
      "activityDisplayName eq",
    ]) {
      expectEnvelope(await client.call("GET", q(f), token), 400, "BadRequest");
    }
    expectEnvelope(await client.call("GET", `${AUDITS}?$orderby=category`, token), 400, "BadRequest");
  }); // prettier-ignore

  it("pages with $top and next links without repeating or skipping when events arrive meanwhile", async () => {
    const first = await client.call("GET", `${AUDITS}?$top=2`, token);
    expect(first.body.value).toHaveLength(2);
    const next: string = first.body["@odata.nextLink"];
    expect(next).toContain("$skiptoken=");
    // A change between pages is newer than everything paged: it does not shift the next page.
    emu.updateUser("u3", { mobilePhone: "+45 30000003" }, "helpdesk@contoso.example");
    const second = await client.call("GET", next.slice(emu.graphBaseUrl.length), token);
    expect(second.body["@odata.nextLink"]).toBeUndefined();
    expect([...targets(first), ...targets(second)]).toEqual(["u1", "u2", "u1"]);
    const now = await client.call("GET", `${AUDITS}?$top=1`, token);
    expect(targets(now)).toEqual(["u3"]);
    for (const top of ["0", "1000", "x"]) {
      expectEnvelope(await client.call("GET", `${AUDITS}?$top=${top}`, token), 400, "BadRequest");
    }
  });

  it("writes an event naming the actor when the admin API changes a mobilePhone, and delta sees the change", async () => {
    const latest = await client.call("GET", "/v1.0/users/delta?$deltatoken=latest&$select=id,mobilePhone");
    const patched = await client.admin("PATCH", "/users/u1", {
      mobilePhone: "+45 29999999",
      by: "helpdesk@contoso.example",
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toEqual({ changed: ["mobilePhone"] });
    const newest = (await client.call("GET", `${AUDITS}?$top=1`, token)).body.value[0] as Audit;
    expect(newest.initiatedBy.user?.userPrincipalName).toBe("helpdesk@contoso.example");
    expect(newest.targetResources[0]).toMatchObject({
      id: "u1",
      userPrincipalName: "ann@contoso.example",
      modifiedProperties: [
        { displayName: "MobilePhone", oldValue: '["+45 20000001"]', newValue: '["+45 29999999"]' },
        { displayName: "Included Updated Properties", newValue: '"MobilePhone"' },
      ],
    });
    expect(Date.now() - Date.parse(newest.activityDateTime)).toBeLessThan(60_000);
    const delta = await client.call("GET", latest.body["@odata.deltaLink"].slice(emu.graphBaseUrl.length));
    expect(delta.body.value).toEqual([{ id: "u1", mobilePhone: "+45 29999999" }]);
    expect((await client.call("GET", "/v1.0/users/u1")).body.mobilePhone).toBe("+45 29999999");
  }); // prettier-ignore

  it("defaults the actor to an admin, takes an application, and records every audited property", async () => {
    expect(emu.updateUser("u2", { mobilePhone: null })).toEqual(["mobilePhone"]);
    let newest = (await client.call("GET", `${AUDITS}?$top=1`, token)).body.value[0] as Audit;
    expect(newest.initiatedBy.user?.userPrincipalName).toBe("admin@contoso.example");
    expect(newest.targetResources[0]!.modifiedProperties[0]).toMatchObject({ oldValue: '["+45 2"]', newValue: "[]" });
    expect(emu.updateUser("u2", { businessPhones: ["+45 33 00 00 00"], otherMails: ["b@x.example"] }, { app: "Workday" })).toEqual([
      "businessPhones",
      "otherMails",
    ]);
    newest = (await client.call("GET", `${AUDITS}?$top=1`, token)).body.value[0] as Audit;
    expect(newest.initiatedBy.app?.displayName).toBe("Workday");
    expect(newest.targetResources[0]!.modifiedProperties.map((p) => p.displayName)).toEqual([
      "TelephoneNumber",
      "OtherMail",
      "Included Updated Properties",
    ]);
    expect(newest.targetResources[0]!.modifiedProperties[2]!.newValue).toBe('"TelephoneNumber, OtherMail"');
    // Nothing audited changed: no event.
    expect(emu.updateUser("u2", { otherMails: ["b@x.example"] })).toEqual([]);
    const still = (await client.call("GET", `${AUDITS}?$top=1`, token)).body.value[0] as Audit;
    expect(still.id).toBe(newest.id);
    expect(emu.updateUser("nobody", { mobilePhone: "+45 1" })).toBeUndefined();
  }); // prettier-ignore

  it("writes an event when an admin upsert changes a mobilePhone", async () => {
    await client.admin("POST", "/users", { id: "u3", userPrincipalName: "cat@contoso.example", mobilePhone: "+45 31111111" });
    const newest = (await client.call("GET", `${AUDITS}?$top=1`, token)).body.value[0] as Audit;
    expect(newest.targetResources[0]).toMatchObject({ id: "u3" });
    expect(newest.targetResources[0]!.modifiedProperties[0]!.newValue).toBe('["+45 31111111"]');
  }); // prettier-ignore

  it("refuses admin patches it cannot apply", async () => {
    expect((await client.admin("PATCH", "/users/u1", { jobTitle: "CEO" })).status).toBe(400);
    expect((await client.admin("PATCH", "/users/u1", { mobilePhone: 45 })).status).toBe(400);
    expect((await client.admin("PATCH", "/users/u1", { mobilePhone: "+45 1", by: "a@b", byApp: "X" })).status).toBe(400);
    expect((await client.admin("PATCH", "/users/nobody", { mobilePhone: "+45 1" })).status).toBe(404);
    expect(() => emu.updateUser("u1", { displayName: "x" } as never)).toThrow(TypeError);
  }); // prettier-ignore

  it("encodes values the unified audit log's way when configured", async () => {
    emu.setConfig({ auditValueStyle: "pretty" });
    const r = await client.call("GET", q("activityDateTime le " + new Date(Date.now() - 5 * DAY_MS).toISOString()), token);
    expect(r.body.value[0].targetResources[0].modifiedProperties[0].newValue).toBe('[\r\n  "+45 20000001"\r\n]');
    emu.setConfig({ auditValueStyle: "compact" });
  }); // prettier-ignore
});

describe("who may read the audit log", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    emu = await startEmulator({ tenant: auditTenant(false), config: { reportsQuota: 3 } });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("needs AuditLog.Read.All and, as documented, Directory.Read.All unless configured otherwise", async () => {
    const as = (roles: string[]) => ({ token: emu.issueToken({ roles }) });
    const without = await client.call("GET", AUDITS, as(["User.Read.All", "Directory.Read.All"]));
    expectEnvelope(without, 403, "Authentication_MSGraphPermissionMissing");
    expect(without.body.error.message).toContain("AuditLog.Read.All");
    const noDirectory = await client.call(
      "GET",
      AUDITS,
      as(["AuditLog.Read.All", "User.Read.All"]),
    );
    expectEnvelope(noDirectory, 403, "Authentication_MSGraphPermissionMissing");
    expect(noDirectory.body.error.message).toContain("Directory.Read.All");
    emu.setConfig({ directoryAuditsNeedDirectoryRead: false });
    const ok = await client.call("GET", AUDITS, as(["AuditLog.Read.All"]));
    expect(ok.status).toBe(200);
    // A tenant without P1/P2 keeps 7 days: the 10-day-old event is gone, the 2-day-old one is not.
    expect(targets(ok)).toEqual(["u1", "u2"]);
  });

  it("counts against the reports quota", async () => {
    emu.setConfig({ directoryAuditsNeedDirectoryRead: false, reportsQuota: 2 });
    const token = { token: emu.issueToken({ roles: ["AuditLog.Read.All"] }) };
    const answers = [];
    for (let i = 0; i < 3; i++) {
      answers.push((await client.call("GET", AUDITS, token)).status);
    }
    expect(answers).toEqual([200, 200, 429]);
  });
});

describe("fixture rules for audit events", () => {
  const rejection = (change: (t: TenantFixture) => void): TenantFixtureError => {
    const t = structuredClone(auditTenant());
    change(t);
    try {
      validateTenant(t);
    } catch (error) {
      expect(error).toBeInstanceOf(TenantFixtureError);
      return error as TenantFixtureError;
    }
    throw new Error("expected a rejection");
  };

  it("names an unknown user, a missing or doubled date, a future date and a doubled actor", () => {
    expect(rejection((t) => (t.auditEvents![0]!.userId = "ghost")).path).toBe("/auditEvents/0/userId");
    expect(rejection((t) => delete t.auditEvents![0]!.daysAgo).path).toBe("/auditEvents/0");
    expect(rejection((t) => (t.auditEvents![0]!.activityDateTime = "2020-01-01T00:00:00Z")).path).toBe("/auditEvents/0");
    const future = new Date(Date.now() + DAY_MS).toISOString();
    expect(rejection((t) => (t.auditEvents![2]!.activityDateTime = future)).path).toBe("/auditEvents/2/activityDateTime");
    expect(rejection((t) => (t.auditEvents![1]!.initiatedBy = { app: "x", userPrincipalName: "y" } as never)).path).toBe(
      "/auditEvents/1/initiatedBy",
    );
    expect(rejection((t) => (t.auditEvents![1]!.daysAgo = -1)).path).toBe("/auditEvents/1/daysAgo");
  }); // prettier-ignore
});
