import { afterAll, beforeAll, describe, expect, it } from "vitest";
import https from "node:https";
import { ClientSecretCredential, ManagedIdentityCredential } from "@azure/identity";
import { Client } from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { Agent } from "undici";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

describe("managed identity and bearer tokens", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;
  const savedEnv = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

  beforeAll(async () => {
    emu = await startEmulator({ tenant: smallTenant() });
    client = new GraphTestClient(emu);
    process.env.IDENTITY_ENDPOINT = emu.identityEndpoint;
    process.env.IDENTITY_HEADER = emu.identityHeader;
  });

  afterAll(async () => {
    process.env.IDENTITY_ENDPOINT = savedEnv.endpoint;
    process.env.IDENTITY_HEADER = savedEnv.header;
    if (savedEnv.endpoint === undefined) {
      delete process.env.IDENTITY_ENDPOINT;
    }
    if (savedEnv.header === undefined) {
      delete process.env.IDENTITY_HEADER;
    }
    await client.close();
    await emu.close();
  });

  async function identity(query: string, header?: string) {
    const res = await fetch(`${emu.identityEndpoint}?${query}`, {
      headers: header === undefined ? {} : { "X-IDENTITY-HEADER": header },
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it("gives the real ManagedIdentityCredential a token that Graph accepts", async () => {
    const credential = new ManagedIdentityCredential();
    const token = await credential.getToken("https://graph.microsoft.com/.default");
    expect(token.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(token.expiresOnTimestamp).toBeGreaterThan(Date.now());
    const users = await client.call("GET", "/v1.0/users?$top=1", { token: token.token });
    expect(users.status).toBe(200);
  });

  it("lets the real Graph client page users through the emulator with a CA-trusting dispatcher", async () => {
    const dispatcher = new Agent({ connect: { ca: emu.caCertPem } });
    const graph = Client.initWithMiddleware({
      authProvider: new TokenCredentialAuthenticationProvider(new ManagedIdentityCredential(), {
        scopes: ["https://graph.microsoft.com/.default"],
      }),
      baseUrl: emu.graphBaseUrl,
      customHosts: new Set(["127.0.0.1"]),
      // Node 20's fetch accepts an undici 7 Agent at run time; only the type packages differ.
      fetchOptions: { dispatcher } as unknown as RequestInit,
    });
    const first = await graph.api("/users").select("id,userPrincipalName").top(2).get();
    expect(first.value.map((u: { id: string }) => u.id)).toEqual(["u1", "u2"]);
    const second = await graph.api(first["@odata.nextLink"]).get();
    expect(second.value.map((u: { id: string }) => u.id)).toEqual(["u3", "u4"]);
    const created = await graph
      .api("/users/u1/authentication/phoneMethods")
      .post({ phoneNumber: "+45 20123456", phoneType: "mobile" });
    expect(created.id).toBe("3179e48a-750b-4051-897c-87b9720928f7");
    await dispatcher.close();
  });

  function secretCredential(secret: string, agent: https.Agent) {
    // core-rest-pipeline's Node client uses request.agent, which is how the emulator's CA gets in.
    return new ClientSecretCredential(emu.tenantId, emu.appId, secret, {
      authorityHost: emu.graphBaseUrl,
      disableInstanceDiscovery: true,
      additionalPolicies: [
        {
          position: "perCall",
          policy: {
            name: "emulatorCa",
            sendRequest: (req, next) => {
              req.agent = agent;
              return next(req);
            },
          },
        },
      ],
    });
  }

  it("gives the real ClientSecretCredential a token through the client-credentials endpoint", async () => {
    const agent = new https.Agent({ ca: emu.caCertPem });
    const token = await secretCredential(emu.clientSecret, agent).getToken(
      "https://graph.microsoft.com/.default",
    );
    expect((await client.call("GET", "/v1.0/users?$top=1", { token: token.token })).status).toBe(
      200,
    );
    await expect(
      secretCredential("wrong", agent).getToken("https://graph.microsoft.com/.default"),
    ).rejects.toThrow(/AADSTS7000215/);
    agent.destroy();
  });

  it("refuses other grant types, scopes and tenants on the token endpoint", async () => {
    const post = (tenant: string, form: Record<string, string>) =>
      client.agent
        .request({
          origin: emu.graphBaseUrl,
          path: `/${tenant}/oauth2/v2.0/token`,
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(form).toString(),
        })
        .then(async (r) => ({
          status: r.statusCode,
          body: (await r.body.json()) as { error: string },
        }));
    const base = {
      client_id: emu.appId,
      client_secret: emu.clientSecret,
      scope: "https://graph.microsoft.com/.default",
    };
    expect((await post(emu.tenantId, { ...base, grant_type: "client_credentials" })).status).toBe(
      200,
    );
    expect((await post(emu.tenantId, { ...base, grant_type: "password" })).body.error).toBe(
      "unsupported_grant_type",
    );
    expect(
      (
        await post(emu.tenantId, {
          ...base,
          grant_type: "client_credentials",
          scope: "https://vault.azure.net/.default",
        })
      ).body.error,
    ).toBe("invalid_scope");
    expect(
      (await post("other-tenant", { ...base, grant_type: "client_credentials" })).body.error,
    ).toBe("invalid_tenant");
  });

  it("answers the documented token response shape with expires_on as epoch seconds", async () => {
    const r = await identity(
      "resource=https://graph.microsoft.com&api-version=2019-08-01",
      emu.identityHeader,
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      resource: "https://graph.microsoft.com",
      token_type: "Bearer",
      client_id: emu.appId,
    });
    expect(String(r.body.expires_on)).toMatch(/^\d{10}$/);
  });

  it("refuses a token request without X-IDENTITY-HEADER with 400 and a wrong one with 401", async () => {
    expect(
      (await identity("resource=https://graph.microsoft.com&api-version=2019-08-01")).status,
    ).toBe(400);
    expect(
      (await identity("resource=https://graph.microsoft.com&api-version=2019-08-01", "nope"))
        .status,
    ).toBe(401);
  });

  it("refuses an unknown resource, api-version or client id with 400", async () => {
    const h = emu.identityHeader;
    expect(
      (await identity("resource=https://vault.azure.net&api-version=2019-08-01", h)).status,
    ).toBe(400);
    expect(
      (await identity("resource=https://graph.microsoft.com&api-version=2017-09-01", h)).status,
    ).toBe(400);
    expect(
      (
        await identity(
          "resource=https://graph.microsoft.com&api-version=2019-08-01&client_id=other",
          h,
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await identity(
          `resource=https://graph.microsoft.com&api-version=2019-08-01&client_id=${emu.appId}`,
          h,
        )
      ).status,
    ).toBe(200);
  });

  it("answers 401 InvalidAuthenticationToken with WWW-Authenticate for missing and garbage tokens", async () => {
    for (const token of [null, "garbage", "a.b.c", "Zm9v.YmFy.YmF6"]) {
      const r = await client.call("GET", "/v1.0/users", { token });
      expectEnvelope(r, 401, "InvalidAuthenticationToken");
      expect(r.headers.get("www-authenticate")).toContain(
        'client_id="00000003-0000-0000-c000-000000000000"',
      );
    }
  });

  it("answers 401 for a token signed by another emulator", async () => {
    const other = await startEmulator({ tenant: smallTenant() });
    const foreign = other.issueToken();
    await other.close();
    expectEnvelope(
      await client.call("GET", "/v1.0/users", { token: foreign }),
      401,
      "InvalidAuthenticationToken",
    );
  });

  it("expires tokens at their real lifetime even when expires_on promises longer", async () => {
    emu.setConfig({ tokenLifetimeSeconds: 0.3, advertisedTokenLifetimeSeconds: 3600 });
    const r = await identity(
      "resource=https://graph.microsoft.com&api-version=2019-08-01",
      emu.identityHeader,
    );
    emu.setConfig({ tokenLifetimeSeconds: 4500, advertisedTokenLifetimeSeconds: 4500 });
    expect(Number(r.body.expires_on) * 1000).toBeGreaterThan(Date.now() + 3000 * 1000);
    const token = String(r.body.access_token);
    expect((await client.call("GET", "/v1.0/users", { token })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const expired = await client.call("GET", "/v1.0/users", { token });
    expectEnvelope(expired, 401, "InvalidAuthenticationToken");
    expect(expired.body.error.message).toBe("Lifetime validation failed, the token is expired.");
  });

  it("revokes every token issued so far while new tokens keep working", async () => {
    const old = emu.issueToken();
    emu.revokeAllTokens();
    expectEnvelope(
      await client.call("GET", "/v1.0/users", { token: old }),
      401,
      "InvalidAuthenticationToken",
    );
    expect((await client.call("GET", "/v1.0/users", { token: emu.issueToken() })).status).toBe(200);
  });

  it("answers 403 accessDenied on auth-method routes and Authorization_RequestDenied on directory routes without the role", async () => {
    const token = emu.issueToken({ roles: ["AuditLog.Read.All"] });
    const phone = await client.call("GET", "/v1.0/users/u1/authentication/phoneMethods", { token });
    expectEnvelope(phone, 403, "accessDenied");
    expect(phone.body.error.message).toBe("Request Authorization failed");
    expectEnvelope(
      await client.call("GET", "/v1.0/users", { token }),
      403,
      "Authorization_RequestDenied",
    );
    expectEnvelope(
      await client.call("GET", "/v1.0/groups", { token }),
      403,
      "Authorization_RequestDenied",
    );
  });

  it("lets UserAuthenticationMethod.Read.All read phone methods but not write them", async () => {
    const token = emu.issueToken({ roles: ["UserAuthenticationMethod.Read.All"] });
    expect(
      (await client.call("GET", "/v1.0/users/u2/authentication/phoneMethods", { token })).status,
    ).toBe(200);
    const write = await client.call("POST", "/v1.0/users/u4/authentication/phoneMethods", {
      token,
      body: { phoneNumber: "+1 2065550199", phoneType: "mobile" },
    });
    expectEnvelope(write, 403, "accessDenied");
  });

  it("requires AuditLog.Read.All for the registration report", async () => {
    const token = emu.issueToken({ roles: ["User.Read.All"] });
    const r = await client.call(
      "GET",
      "/v1.0/reports/authenticationMethods/userRegistrationDetails",
      { token },
    );
    expect(r.status).toBe(403);
    expect(
      (await client.call("GET", "/v1.0/reports/authenticationMethods/userRegistrationDetails"))
        .status,
    ).toBe(200);
  });
});
