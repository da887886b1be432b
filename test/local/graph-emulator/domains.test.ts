/**
 * The tenant's domains (issue 14): the initial domain plus the fixture's `tenant.domains`, in the
 * documented shape, behind Domain.Read.All, and the fixture rules for domains.
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
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const READER = [...PROFILES.fast.grantedRoles, "Domain.Read.All"];

describe("domains", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;
  let token: { token: string };

  beforeAll(async () => {
    emu = await startEmulator({
      tenant: smallTenant({
        domains: [
          { id: "contoso.com", isDefault: true },
          { id: "mail.contoso.com" },
          { id: "fabrikam-pending.example", isVerified: false },
          { id: "federated.contoso.com", authenticationType: "Federated" },
        ],
      }),
    });
    client = new GraphTestClient(emu);
    token = { token: emu.issueToken({ roles: READER }) };
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("lists the initial domain first and the fixture's domains, in the documented shape", async () => {
    const r = await client.call("GET", "/v1.0/domains", token);
    expect(r.status).toBe(200);
    expect(r.body["@odata.context"]).toMatch(/\$metadata#domains$/);
    const byId = new Map(r.body.value.map((d: { id: string }) => [d.id, d]));
    expect([...byId.keys()]).toEqual([
      "contoso.example",
      "contoso.com",
      "mail.contoso.com",
      "fabrikam-pending.example",
      "federated.contoso.com",
    ]);
    expect(byId.get("contoso.example")).toMatchObject({
      isInitial: true,
      isVerified: true,
      isDefault: false,
      isRoot: true,
      authenticationType: "Managed",
      supportedServices: ["Email", "OfficeCommunicationsOnline"],
    });
    expect(byId.get("contoso.com")).toMatchObject({ isDefault: true, isInitial: false, isVerified: true });
    expect(byId.get("mail.contoso.com")).toMatchObject({ isRoot: false });
    expect(byId.get("fabrikam-pending.example")).toMatchObject({ isVerified: false, supportedServices: [] });
    expect(byId.get("federated.contoso.com")).toMatchObject({ authenticationType: "Federated" });
  }); // prettier-ignore

  it("makes the initial domain the default when no other is", async () => {
    const plain = await startEmulator({ tenant: smallTenant() });
    try {
      const c = new GraphTestClient(plain);
      const r = await c.call("GET", "/v1.0/domains?$select=id,isDefault,isVerified", {
        token: plain.issueToken({ roles: ["Domain.Read.All"] }),
      });
      expect(r.body.value).toEqual([{ id: "contoso.example", isDefault: true, isVerified: true }]);
      await c.close();
    } finally {
      await plain.close();
    }
  });

  it("gets one domain by name, any case, and answers 404 for another", async () => {
    const r = await client.call("GET", "/v1.0/domains/Contoso.COM?$select=id,isDefault", token);
    expect(r.body).toMatchObject({ id: "contoso.com", isDefault: true });
    expectEnvelope(await client.call("GET", "/v1.0/domains/nope.example", token), 404, "Request_ResourceNotFound");
  }); // prettier-ignore

  it("needs Domain.Read.All or a directory read role, and refuses query options it does not model", async () => {
    const noDomainRead = { token: emu.issueToken({ roles: ["User.Read.All", "GroupMember.Read.All"] }) };
    expectEnvelope(await client.call("GET", "/v1.0/domains", noDomainRead), 403, "Authorization_RequestDenied");
    const directory = { token: emu.issueToken({ roles: ["Directory.Read.All"] }) };
    expect((await client.call("GET", "/v1.0/domains", directory)).status).toBe(200);
    expectEnvelope(
      await client.call("GET", `/v1.0/domains?$filter=${encodeURIComponent("isVerified eq true")}`, token),
      400,
      "Request_UnsupportedQuery",
    );
  }); // prettier-ignore
});

describe("fixture rules for domains", () => {
  const rejection = (domains: unknown): TenantFixtureError => {
    try {
      validateTenant(smallTenant({ domains } as never));
    } catch (error) {
      expect(error).toBeInstanceOf(TenantFixtureError);
      return error as TenantFixtureError;
    }
    throw new Error("expected a rejection");
  };

  it("refuses a repeated domain, two defaults, an unverified default and unknown fields", () => {
    expect(rejection([{ id: "CONTOSO.example" }]).path).toBe("/tenant/domains/0/id");
    expect(rejection([{ id: "a.example", isDefault: true }, { id: "b.example", isDefault: true }]).path).toBe(
      "/tenant/domains/1/isDefault",
    );
    expect(rejection([{ id: "a.example", isDefault: true, isVerified: false }]).path).toBe("/tenant/domains/0/isDefault");
    expect(rejection([{ id: "a.example", verified: true }]).path).toBe("/tenant/domains/0");
    expect(rejection([{ id: "a.example", authenticationType: "Kerberos" }]).path).toBe("/tenant/domains/0/authenticationType");
  }); // prettier-ignore
});
