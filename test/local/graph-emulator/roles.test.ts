/**
 * Directory roles (issue 11): active assignments and PIM eligibilities of users and
 * role-assignable groups, the role an `isAdmin` user implies, the routes' query options,
 * permissions and licence, `GET /groups/{id}`, and the fixture rules for roles.
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
import { BUILT_IN_ROLES, IMPLIED_ADMIN_ROLE } from "../../../local/graph-emulator/tenant/roles.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import { GraphTestClient, TENANT_ID, expectEnvelope, type Answer } from "./helpers.js";

const ASSIGNMENTS = "/v1.0/roleManagement/directory/roleAssignments";
const ELIGIBLE = "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances";
const ROLE_READ = [...PROFILES.fast.grantedRoles, "RoleManagement.Read.Directory"];
/** A token with the run's other permissions but no role-management or directory read. */
const NO_ROLE_READ = [
  "UserAuthenticationMethod.ReadWrite.All",
  "User.Read.All",
  "GroupMember.Read.All",
  "AuditLog.Read.All",
];
const SECURITY_READER_ID = "5d6b6bb7-de71-4623-b4af-96380a352509";

function rolesTenant(pim = true): TenantFixture {
  return {
    tenant: { id: TENANT_ID, domain: "contoso.example", pim },
    groups: [
      {
        id: "gr-helpdesk",
        displayName: "Helpdesk team",
        isAssignableToRole: true,
        members: ["via-group"],
        directoryRoles: [{ role: "Helpdesk Administrator" }],
      },
      {
        id: "gr-pra",
        displayName: "PRA candidates",
        isAssignableToRole: true,
        members: ["plain"],
        directoryRoles: [{ role: "Privileged Role Administrator", eligible: true }],
      },
      { id: "gr-plain", displayName: "Plain", members: ["plain", "gr-pra"] },
    ],
    users: [
      { id: "flag-admin", userPrincipalName: "flag@contoso.example", isAdmin: true },
      {
        id: "eligible-ga",
        userPrincipalName: "pim@contoso.example",
        directoryRoles: [{ role: "global administrator", eligible: true }],
      },
      { id: "via-group", userPrincipalName: "desk@contoso.example" },
      {
        id: "by-id",
        userPrincipalName: "reader@contoso.example",
        directoryRoles: [{ role: SECURITY_READER_ID }],
      },
      { id: "plain", userPrincipalName: "plain@contoso.example" },
      {
        id: "flag-no-roles",
        userPrincipalName: "flag2@contoso.example",
        isAdmin: true,
        directoryRoles: [],
      },
    ],
  };
}

const principals = (a: Answer): string[] =>
  a.body.value.map((x: { principalId: string }) => x.principalId);

describe("role assignments and eligibilities", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;
  const as = (roles: string[]) => ({ token: emu.issueToken({ roles }) });

  beforeAll(async () => {
    emu = await startEmulator({ tenant: rolesTenant() });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("lists active assignments of users and role-assignable groups in the documented shape", async () => {
    const r = await client.call("GET", ASSIGNMENTS, as(ROLE_READ));
    expect(r.status).toBe(200);
    expect(r.body["@odata.context"]).toMatch(
      /\$metadata#roleManagement\/directory\/roleAssignments$/,
    );
    const byPrincipal = new Map(
      r.body.value.map((a: { principalId: string; roleDefinitionId: string }) => [
        a.principalId,
        a.roleDefinitionId,
      ]),
    );
    expect(byPrincipal).toEqual(
      new Map([
        ["flag-admin", BUILT_IN_ROLES[IMPLIED_ADMIN_ROLE]],
        ["by-id", SECURITY_READER_ID],
        ["gr-helpdesk", BUILT_IN_ROLES["Helpdesk Administrator"]],
      ]),
    );
    for (const a of r.body.value) {
      expect(Object.keys(a).sort()).toEqual(
        ["appScopeId", "condition", "directoryScopeId", "id", "principalId", "resourceScope", "roleDefinitionId"].sort(),
      ); // prettier-ignore
      expect(a.directoryScopeId).toBe("/");
      expect(typeof a.id).toBe("string");
    }
  });

  it("lists PIM eligibilities as schedule instances, not as assignments", async () => {
    const r = await client.call("GET", ELIGIBLE, as(ROLE_READ));
    expect(r.status).toBe(200);
    expect(principals(r)).toEqual(["eligible-ga", "gr-pra"]);
    expect(r.body.value[0]).toMatchObject({
      roleDefinitionId: BUILT_IN_ROLES["Global Administrator"],
      directoryScopeId: "/",
      memberType: "Direct",
      endDateTime: null,
    });
    expect(Date.parse(r.body.value[0].startDateTime)).not.toBeNaN();
    expect(typeof r.body.value[0].roleEligibilityScheduleId).toBe("string");
    const active = await client.call("GET", ASSIGNMENTS, as(ROLE_READ));
    expect(principals(active)).not.toContain("eligible-ga");
  });

  it("filters on principalId and roleDefinitionId, and refuses other filters with 400", async () => {
    const f = (x: string) => `?$filter=${encodeURIComponent(x)}`;
    const mine = await client.call("GET", `${ELIGIBLE}${f("principalId eq 'eligible-ga'")}`, as(ROLE_READ));
    expect(principals(mine)).toEqual(["eligible-ga"]);
    const none = await client.call("GET", `${ASSIGNMENTS}${f("principalId eq 'eligible-ga'")}`, as(ROLE_READ));
    expect(none.body.value).toEqual([]);
    const either = await client.call(
      "GET",
      `${ASSIGNMENTS}${f(`roleDefinitionId eq '${SECURITY_READER_ID}' or principalId eq 'flag-admin'`)}`,
      as(ROLE_READ),
    );
    expect(principals(either)).toEqual(["flag-admin", "by-id"]);
    expectEnvelope(
      await client.call("GET", `${ASSIGNMENTS}${f("principalId ne 'x'")}`, as(ROLE_READ)),
      400,
      "Request_UnsupportedQuery",
    );
    expectEnvelope(
      await client.call("GET", `${ASSIGNMENTS}${f("displayName eq 'x'")}`, as(ROLE_READ)),
      400,
      "Request_UnsupportedQuery",
    );
    expectEnvelope(
      await client.call("GET", `${ASSIGNMENTS}${f("principalId eq")}`, as(ROLE_READ)),
      400,
      "BadRequest",
    );
  }); // prettier-ignore

  it("projects $select and expands the principal with its type", async () => {
    const r = await client.call(
      "GET",
      `${ASSIGNMENTS}?$select=principalId,roleDefinitionId&$expand=principal`,
      as(ROLE_READ),
    );
    const group = r.body.value.find((a: { principalId: string }) => a.principalId === "gr-helpdesk");
    expect(Object.keys(group).sort()).toEqual(["principal", "principalId", "roleDefinitionId"]);
    expect(group.principal).toMatchObject({ "@odata.type": "#microsoft.graph.group", id: "gr-helpdesk" });
    const user = r.body.value.find((a: { principalId: string }) => a.principalId === "flag-admin");
    expect(user.principal).toMatchObject({
      "@odata.type": "#microsoft.graph.user",
      userPrincipalName: "flag@contoso.example",
    });
    expectEnvelope(await client.call("GET", `${ASSIGNMENTS}?$expand=roleDefinition`, as(ROLE_READ)), 400, "BadRequest");
  }); // prettier-ignore

  it("pages with $top and next links, each grant once, and refuses $top above 999", async () => {
    const seen: string[] = [];
    let path: string | undefined = `${ASSIGNMENTS}?$top=1&$select=id`;
    let pages = 0;
    while (path !== undefined) {
      const r: Answer = await client.call("GET", path, as(ROLE_READ));
      expect(r.body.value.length).toBeLessThanOrEqual(1);
      seen.push(...r.body.value.map((a: { id: string }) => a.id));
      const next: string | undefined = r.body["@odata.nextLink"];
      path = next?.slice(emu.graphBaseUrl.length);
      pages++;
    }
    const all = await client.call("GET", `${ASSIGNMENTS}?$select=id`, as(ROLE_READ));
    expect(seen).toEqual(all.body.value.map((a: { id: string }) => a.id));
    expect(pages).toBe(seen.length);
    expectEnvelope(await client.call("GET", `${ASSIGNMENTS}?$top=1000`, as(ROLE_READ)), 400, "Request_BadRequest");
  }); // prettier-ignore

  it("needs RoleManagement.Read.Directory (or a documented alternative) for each route", async () => {
    for (const path of [ASSIGNMENTS, ELIGIBLE]) {
      expectEnvelope(
        await client.call("GET", path, as(NO_ROLE_READ)),
        403,
        "Authorization_RequestDenied",
      );
      expect((await client.call("GET", path, as(["RoleManagement.Read.Directory"]))).status).toBe(200);
    }
    // Directory.Read.All is documented for assignments, not for PIM eligibility.
    expect((await client.call("GET", ASSIGNMENTS, as(["Directory.Read.All"]))).status).toBe(200);
    expectEnvelope(await client.call("GET", ELIGIBLE, as(["Directory.Read.All"])), 403, "Authorization_RequestDenied");
    expect((await client.call("GET", ELIGIBLE, as(["RoleEligibilitySchedule.Read.Directory"]))).status).toBe(200);
  }); // prettier-ignore

  it("answers both routes to the default token, which carries the product's roles", async () => {
    expect((await client.call("GET", ASSIGNMENTS)).status).toBe(200);
    expect((await client.call("GET", ELIGIBLE)).status).toBe(200);
  });

  it("tells the report an admin holds an active role, not an eligible one", async () => {
    const r = await client.call(
      "GET",
      "/v1.0/reports/authenticationMethods/userRegistrationDetails?$select=id,isAdmin",
    );
    const isAdmin = new Map(r.body.value.map((x: { id: string; isAdmin: boolean }) => [x.id, x.isAdmin]));
    expect(isAdmin.get("flag-admin")).toBe(true);
    expect(isAdmin.get("via-group")).toBe(true);
    expect(isAdmin.get("by-id")).toBe(true);
    // What the attack in issue 11 plays: eligible holders look like ordinary users to the report.
    expect(isAdmin.get("eligible-ga")).toBe(false);
    expect(isAdmin.get("plain")).toBe(false);
    // The fixture's flag still sets the report's field.
    expect(isAdmin.get("flag-no-roles")).toBe(true);
  }); // prettier-ignore

  it("follows an upsert that changes a user's roles", async () => {
    emu.upsertUser({
      id: "plain",
      userPrincipalName: "plain@contoso.example",
      directoryRoles: [{ role: "Authentication Administrator" }],
    });
    const r = await client.call(
      "GET",
      `${ASSIGNMENTS}?$filter=principalId eq 'plain'`,
      as(ROLE_READ),
    );
    expect(r.body.value.map((a: { roleDefinitionId: string }) => a.roleDefinitionId)).toEqual([
      BUILT_IN_ROLES["Authentication Administrator"],
    ]);
  });

  it("answers GET /groups/{id} with isAssignableToRole, and 404 for a user's id or an unknown id", async () => {
    const g = await client.call("GET", "/v1.0/groups/gr-helpdesk?$select=id,isAssignableToRole");
    expect(g.body).toMatchObject({ id: "gr-helpdesk", isAssignableToRole: true });
    const plain = await client.call("GET", "/v1.0/groups/gr-plain");
    expect(plain.body).toMatchObject({ id: "gr-plain", displayName: "Plain", isAssignableToRole: null });
    expectEnvelope(await client.call("GET", "/v1.0/groups/flag-admin"), 404, "Request_ResourceNotFound");
    expectEnvelope(await client.call("GET", "/v1.0/groups/nope"), 404, "Request_ResourceNotFound");
    expectEnvelope(await client.call("GET", "/v1.0/groups/gr-plain", { token: emu.issueToken({ roles: ["User.Read.All"] }) }), 403, "Authorization_RequestDenied");
  }); // prettier-ignore
});

describe("a tenant without Entra ID P2", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    emu = await startEmulator({ tenant: rolesTenant(false) });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("refuses PIM eligibility with the configured licence error and still lists assignments", async () => {
    const token = { token: emu.issueToken({ roles: ROLE_READ }) };
    expectEnvelope(await client.call("GET", ELIGIBLE, token), 400, "AadPremiumLicenseRequired");
    expect((await client.call("GET", ASSIGNMENTS, token)).status).toBe(200);
    emu.setConfig({ pimLicenceError: { status: 403, code: "Forbidden", message: "No P2." } });
    expectEnvelope(await client.call("GET", ELIGIBLE, token), 403, "Forbidden");
  });
});

describe("fixture rules for roles", () => {
  const base = rolesTenant();
  const rejection = (change: (t: TenantFixture) => void): TenantFixtureError => {
    const t = structuredClone(base);
    change(t);
    try {
      validateTenant(t);
    } catch (error) {
      expect(error).toBeInstanceOf(TenantFixtureError);
      return error as TenantFixtureError;
    }
    throw new Error("expected a rejection");
  };

  it("accepts the roles tenant", () => {
    expect(() => validateTenant(base)).not.toThrow();
  });

  it("names an unknown role and a role listed twice", () => {
    const unknown = rejection((t) => (t.users[4]!.directoryRoles = [{ role: "Coffee Admin" }]));
    expect(unknown.path).toBe("/users/4/directoryRoles/0/role");
    expect(unknown.message).toContain("'Coffee Admin'");
    const twice = rejection(
      (t) => (t.users[4]!.directoryRoles = [{ role: "Global Reader" }, { role: "global reader" }]),
    );
    expect(twice.path).toBe("/users/4/directoryRoles/1");
  });

  it("refuses roles on a group that is not role-assignable, and groups inside one", () => {
    const notAssignable = rejection((t) => (t.groups![2]!.directoryRoles = [{ role: "Global Reader" }]));
    expect(notAssignable.path).toBe("/groups/2/directoryRoles");
    expect(notAssignable.message).toContain("isAssignableToRole");
    const nested = rejection((t) => t.groups![0]!.members.push("gr-plain"));
    expect(nested.path).toBe("/groups/0/members/1");
  }); // prettier-ignore

  it("refuses a role entry with an unknown field or without a role", () => {
    expect(rejection((t) => (t.users[4]!.directoryRoles = [{ role: "Global Reader", scope: "/" } as never])).path).toBe(
      "/users/4/directoryRoles/0",
    );
    expect(rejection((t) => (t.users[4]!.directoryRoles = [{ eligible: true } as never])).path).toBe(
      "/users/4/directoryRoles/0",
    );
  }); // prettier-ignore
});
