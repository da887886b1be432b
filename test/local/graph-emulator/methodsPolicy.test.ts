/**
 * The authentication methods policy (issue 14): defaults, the fixture's configurations with
 * include and exclude targets, the documented shapes, the permission, and the fixture rules.
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
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const POLICY = "/v1.0/policies/authenticationMethodsPolicy";
const CONFIG = `${POLICY}/authenticationMethodConfigurations`;
const READER = [...PROFILES.fast.grantedRoles, "Policy.Read.AuthenticationMethod"];

interface Configuration {
  "@odata.type": string;
  id: string;
  state: string;
  includeTargets: { id: string; targetType: string }[];
  excludeTargets: { id: string }[];
}

function policyTenant(): TenantFixture {
  return {
    ...smallTenant(),
    authenticationMethodsPolicy: {
      Sms: {
        state: "enabled",
        includeTargets: [{ id: "g-staging", isRegistrationRequired: true }],
        excludeTargets: [{ id: "g-quote" }],
      },
      Voice: { state: "disabled", isOfficePhoneAllowed: true },
    },
  };
}

async function withEmulator<T>(
  tenant: TenantFixture,
  run: (client: GraphTestClient, emu: EmulatorHandle) => Promise<T>,
): Promise<T> {
  const emu = await startEmulator({ tenant });
  const client = new GraphTestClient(emu);
  try {
    return await run(client, emu);
  } finally {
    await client.close();
    await emu.close();
  }
}

describe("authentication methods policy", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;
  let token: { token: string };

  beforeAll(async () => {
    emu = await startEmulator({ tenant: policyTenant() });
    client = new GraphTestClient(emu);
    token = { token: emu.issueToken({ roles: READER }) };
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("defaults to Sms, Voice and Email enabled for all users and the other methods disabled", async () => {
    const byId = await withEmulator(smallTenant(), async (c, e) => {
      const r = await c.call("GET", POLICY, { token: e.issueToken({ roles: READER }) });
      expect(r.status).toBe(200);
      expect(r.body.id).toBe("authenticationMethodsPolicy");
      return new Map(
        (r.body.authenticationMethodConfigurations as Configuration[]).map((m) => [m.id, m]),
      );
    });
    for (const id of ["Sms", "Voice", "Email"]) {
      expect(byId.get(id)).toMatchObject({
        state: "enabled",
        includeTargets: [{ targetType: "group", id: "all_users", isRegistrationRequired: false }],
        excludeTargets: [],
      });
    }
    for (const id of ["Fido2", "MicrosoftAuthenticator", "TemporaryAccessPass", "SoftwareOath"]) {
      expect(byId.get(id)?.state).toBe("disabled");
    }
    for (const [id, m] of byId) {
      expect(m["@odata.type"]).toMatch(/^#microsoft\.graph\.\w+AuthenticationMethodConfiguration$/);
      expect(m["@odata.type"].toLowerCase()).toContain(id.toLowerCase());
    }
  });

  it("serves the fixture's configuration with include and exclude targets, by id in any case", async () => {
    const sms = await client.call("GET", `${CONFIG}/sms`, token);
    expect(sms.status).toBe(200);
    expect(sms.body).toMatchObject({
      "@odata.type": "#microsoft.graph.smsAuthenticationMethodConfiguration",
      id: "Sms",
      state: "enabled",
      includeTargets: [
        { targetType: "group", id: "g-staging", isRegistrationRequired: true, isUsableForSignIn: true },
      ],
      excludeTargets: [{ targetType: "group", id: "g-quote" }],
    });
    const voice = await client.call("GET", `${CONFIG}/Voice`, token);
    expect(voice.body).toMatchObject({ state: "disabled", isOfficePhoneAllowed: true });
    // A method the fixture leaves out keeps its default.
    const email = await client.call("GET", `${CONFIG}/EMAIL`, token);
    expect(email.body).toMatchObject({ id: "Email", state: "enabled" });
    const list = await client.call("GET", CONFIG, token);
    expect(list.body.value.map((m: Configuration) => m.id)).toContain("Sms");
    expectEnvelope(await client.call("GET", `${CONFIG}/carrierPigeon`, token), 404, "itemNotFound");
  }); // prettier-ignore

  it("needs Policy.Read.AuthenticationMethod or a documented alternative", async () => {
    const noPolicyRead = { token: emu.issueToken({ roles: ["User.Read.All", "Directory.Read.All"] }) };
    expectEnvelope(await client.call("GET", POLICY, noPolicyRead), 403, "Authorization_RequestDenied");
    expectEnvelope(await client.call("GET", `${CONFIG}/Sms`, noPolicyRead), 403, "Authorization_RequestDenied");
    for (const role of ["Policy.Read.AuthenticationMethod", "Policy.Read.All", "Policy.ReadWrite.AuthenticationMethod"]) {
      expect((await client.call("GET", `${CONFIG}/Sms`, { token: emu.issueToken({ roles: [role] }) })).status).toBe(200);
    }
  }); // prettier-ignore
});

describe("fixture rules for the policy", () => {
  const rejection = (change: (t: TenantFixture) => void): TenantFixtureError => {
    const t = policyTenant();
    change(t);
    try {
      validateTenant(t);
    } catch (error) {
      expect(error).toBeInstanceOf(TenantFixtureError);
      return error as TenantFixtureError;
    }
    throw new Error("expected a rejection");
  };

  it("accepts the policy tenant", () => {
    expect(() => validateTenant(policyTenant())).not.toThrow();
  });

  it("names an unknown target group, an excluded all_users, an unknown method and a missing state", () => {
    const policy = (t: TenantFixture) => t.authenticationMethodsPolicy!;
    expect(rejection((t) => (policy(t).Sms!.includeTargets = [{ id: "ghost" }])).path).toBe(
      "/authenticationMethodsPolicy/Sms/includeTargets/0/id",
    );
    expect(rejection((t) => (policy(t).Sms!.excludeTargets = [{ id: "all_users" }])).path).toBe(
      "/authenticationMethodsPolicy/Sms/excludeTargets/0/id",
    );
    expect(rejection((t) => ((policy(t) as Record<string, unknown>).Carrier = { state: "enabled" })).path).toBe(
      "/authenticationMethodsPolicy",
    );
    expect(rejection((t) => ((policy(t) as Record<string, unknown>).Email = {})).path).toBe(
      "/authenticationMethodsPolicy/Email",
    );
  }); // prettier-ignore
});
