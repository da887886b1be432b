/**
 * The Graph emulator's `/servicePrincipals` module (local/graph-emulator/handlers/servicePrincipals.ts),
 * which exists so the grant script can be tested offline, and the grant script's command line.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import {
  GRAPH_APP_ID,
  GRAPH_APP_ROLES,
  servicePrincipalIdFor,
} from "../../local/graph-emulator/handlers/servicePrincipals.js";
import { main } from "../../infra/scripts/grantGraphRoles.js";
import { GraphTestClient, smallTenant } from "../local/graph-emulator/helpers.js";

const READER = ["Application.Read.All"];
const ADMIN = ["Application.Read.All", "AppRoleAssignment.ReadWrite.All"];

let emu: EmulatorHandle;
let client: GraphTestClient;
let graphSpId: string;
let miId: string;

beforeAll(async () => {
  emu = await startEmulator({ tenant: smallTenant() });
  client = new GraphTestClient(emu);
  graphSpId = servicePrincipalIdFor(GRAPH_APP_ID);
  miId = servicePrincipalIdFor(emu.appId);
});

afterAll(async () => {
  await client.agent.close();
  await emu.close();
});

const as = (roles: string[]): { token: string } => ({ token: emu.issueToken({ roles }) });

describe("emulated /servicePrincipals", () => {
  it("finds Graph's service principal by appId, with the documented role ids", async () => {
    const res = await client.call(
      "GET",
      `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${GRAPH_APP_ID}'`)}`,
      as(READER),
    );
    expect(res.status).toBe(200);
    expect(res.body.value).toHaveLength(1);
    const roles = new Map(
      (res.body.value[0].appRoles as { value: string; id: string }[]).map((r) => [r.value, r.id]),
    );
    expect(roles.get("UserAuthenticationMethod.ReadWrite.All")).toBe(
      "50483e42-d915-4231-9639-7fdb7fd190e5",
    );
    expect(roles.get("AuditLog.Read.All")).toBe("b0afded3-3588-46d8-8b3d-9842eff778da");
  });

  it("offers the roles issues 11 and 14 need, under their Microsoft Graph ids", async () => {
    const res = await client.call(
      "GET",
      `/v1.0/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${GRAPH_APP_ID}'`)}`,
      as(READER),
    );
    const roles = new Map(
      (res.body.value[0].appRoles as { value: string; id: string }[]).map((r) => [r.value, r.id]),
    );
    expect(roles.get("RoleManagement.Read.Directory")).toBe("483bed4a-2ad3-4361-a73b-c83ccdbdc53c");
    expect(roles.get("Domain.Read.All")).toBe("dbb9058a-0e50-45d7-ae91-66909b5d4664");
    expect(roles.get("Policy.Read.AuthenticationMethod")).toBe(
      "8e3bc81b-d2f3-4b7b-838c-32c88218d2f0",
    );
    expect(new Set(roles.values()).size).toBe(roles.size);
  });

  it("answers the caller's own service principal by id", async () => {
    const mine = await client.call("GET", `/v1.0/servicePrincipals/${miId}`, as(READER));
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ id: miId, appId: emu.appId });
  });

  it("refuses callers without a read role with Authorization_RequestDenied", async () => {
    const res = await client.call("GET", "/v1.0/servicePrincipals", as(["User.Read.All"]));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("Authorization_RequestDenied");
  });

  it("rejects a filter it does not model instead of ignoring it", async () => {
    const res = await client.call(
      "GET",
      `/v1.0/servicePrincipals?$filter=${encodeURIComponent("startswith(displayName,'M')")}`,
      as(READER),
    );
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("Request_UnsupportedQuery");
  });

  it("answers 404 for an unknown service principal and 405 for a write to the collection", async () => {
    const missing = await client.call(
      "GET",
      "/v1.0/servicePrincipals/00000000-0000-0000-0000-000000000001/appRoleAssignments",
      as(READER),
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("Request_ResourceNotFound");
    const post = await client.call("POST", "/v1.0/servicePrincipals", {
      ...as(ADMIN),
      body: {},
    });
    expect(post.status).toBe(405);
  });

  it("creates an assignment visible from both sides, and refuses a duplicate", async () => {
    const body = {
      principalId: miId,
      resourceId: graphSpId,
      appRoleId: GRAPH_APP_ROLES["User.Read.All"],
    };
    const created = await client.call(
      "POST",
      `/v1.0/servicePrincipals/${graphSpId}/appRoleAssignedTo`,
      { ...as(ADMIN), body },
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...body, principalType: "ServicePrincipal" });

    const fromResource = await client.call(
      "GET",
      `/v1.0/servicePrincipals/${graphSpId}/appRoleAssignedTo`,
      as(READER),
    );
    const fromPrincipal = await client.call(
      "GET",
      `/v1.0/servicePrincipals/${miId}/appRoleAssignments`,
      as(READER),
    );
    expect(fromResource.body.value.map((a: { id: string }) => a.id)).toContain(created.body.id);
    expect(fromPrincipal.body.value.map((a: { id: string }) => a.id)).toContain(created.body.id);

    const again = await client.call(
      "POST",
      `/v1.0/servicePrincipals/${graphSpId}/appRoleAssignedTo`,
      { ...as(ADMIN), body },
    );
    expect(again.status).toBe(400);
    expect(again.body.error.message).toMatch(/already exists/);
  });

  it("refuses an unknown role id and a body that names another resource than the path", async () => {
    const unknownRole = await client.call(
      "POST",
      `/v1.0/servicePrincipals/${graphSpId}/appRoleAssignedTo`,
      {
        ...as(ADMIN),
        body: {
          principalId: miId,
          resourceId: graphSpId,
          appRoleId: "00000000-0000-0000-0000-00000000beef",
        },
      },
    );
    expect(unknownRole.status).toBe(400);
    expect(unknownRole.body.error.message).toMatch(/not found on application/);
    const mismatch = await client.call(
      "POST",
      `/v1.0/servicePrincipals/${graphSpId}/appRoleAssignedTo`,
      {
        ...as(ADMIN),
        body: { principalId: miId, resourceId: miId, appRoleId: GRAPH_APP_ROLES["User.Read.All"] },
      },
    );
    expect(mismatch.status).toBe(400);
  });

  it("needs AppRoleAssignment.ReadWrite.All to assign", async () => {
    const res = await client.call(
      "POST",
      `/v1.0/servicePrincipals/${graphSpId}/appRoleAssignedTo`,
      {
        ...as(READER),
        body: {
          principalId: miId,
          resourceId: graphSpId,
          appRoleId: GRAPH_APP_ROLES["AuditLog.Read.All"],
        },
      },
    );
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("Authorization_RequestDenied");
  });
});

describe("grantGraphRoles command line", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it("prints the usage, naming the four roles, and exits 0 for --help", async () => {
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    expect(await main(["--help"])).toBe(0);
    const text = out.mock.calls.map((c) => String(c[0])).join("");
    expect(text).toContain("UserAuthenticationMethod.ReadWrite.All");
    expect(text).toContain("Privileged Role Administrator");
  });

  it("exits 2 with a sentence when no managed identity is given", async () => {
    vi.stubEnv("AZURE_MANAGED_IDENTITY_PRINCIPAL_ID", "");
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main([])).toBe(2);
    expect(String(err.mock.calls[0]?.[0])).toMatch(
      /^GrantGraphRoles: no managed identity given\. .*AZURE_MANAGED_IDENTITY_PRINCIPAL_ID\.\n$/,
    );
  });

  it("exits 2 with the usage for an unknown option", async () => {
    const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    expect(await main(["--force"])).toBe(2);
    expect(String(err.mock.calls[0]?.[0])).toMatch(/^GrantGraphRoles: Unknown option '--force'\./);
  });
});
