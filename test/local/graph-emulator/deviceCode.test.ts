/**
 * The device-code flow on the emulator's Entra endpoints, driven by the real
 * `DeviceCodeCredential` of @azure/identity, and Graph's checks of the delegated tokens it gets:
 * the scopes the public client carries (`scp`) and the signed-in user's roles (`wids`).
 */
import https from "node:https";
import { afterEach, describe, expect, it } from "vitest";
import { DeviceCodeCredential, type DeviceCodeInfo } from "@azure/identity";
import {
  AZURE_CLI_CLIENT_ID,
  BUILT_IN_ROLES,
  TENANT_APP_CLIENT_ID,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../../local/graph-emulator/config.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const GRAPH_DEFAULT = "https://graph.microsoft.com/.default";
/** The delegated scopes a run asks for: the product's permissions, named for Graph. */
const RUN_SCOPES = [
  "https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All",
  "https://graph.microsoft.com/User.Read.All",
  "https://graph.microsoft.com/GroupMember.Read.All",
  "https://graph.microsoft.com/AuditLog.Read.All",
  "https://graph.microsoft.com/RoleManagement.Read.Directory",
  "https://graph.microsoft.com/Directory.Read.All",
];

let emu: EmulatorHandle | undefined;
let client: GraphTestClient;
let agent: https.Agent;

async function start(
  config: Partial<EmulatorConfig> = {},
  tenant: TenantFixture = smallTenant(),
): Promise<EmulatorHandle> {
  // Polls every 50 ms (5 s at timeScale 0.01) so the flow takes moments.
  emu = await startEmulator({ tenant, config: { timeScale: 0.01, ...config } });
  client = new GraphTestClient(emu);
  agent = new https.Agent({ ca: emu.caCertPem });
  return emu;
}

afterEach(async () => {
  agent?.destroy();
  await client?.close();
  await emu?.close();
  emu = undefined;
});

/** The real credential against the emulator, trusting its CA the way the README says. */
function credential(
  clientId: string | undefined,
  onCode: (info: DeviceCodeInfo) => void = () => undefined,
): DeviceCodeCredential {
  const e = emu as EmulatorHandle;
  return new DeviceCodeCredential({
    tenantId: e.tenantId,
    ...(clientId === undefined ? {} : { clientId }),
    authorityHost: e.graphBaseUrl,
    disableInstanceDiscovery: true,
    userPromptCallback: onCode,
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

/** The claims of a token (not verified: the test reads what Graph will read). */
function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<
    string,
    unknown
  >;
}

const writeOffice = (user: string, token: string) =>
  client.call("POST", `/v1.0/users/${user}/authentication/phoneMethods`, {
    token,
    body: { phoneNumber: "+45 33123456", phoneType: "office" },
  });

/** The raw Entra endpoints, for what the credential never shows. */
async function entra(path: string, form: Record<string, string>) {
  const e = emu as EmulatorHandle;
  const r = await client.agent.request({
    origin: e.graphBaseUrl,
    path: `/${e.tenantId}/oauth2/v2.0/${path}`,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return { status: r.statusCode, body: (await r.body.json()) as Record<string, unknown> };
}

describe("device-code sign-in with the real DeviceCodeCredential", () => {
  it("polls until an admin-API approval, then gets a delegated token Graph accepts for writes", async () => {
    await start();
    const e = emu as EmulatorHandle;
    let shown: DeviceCodeInfo | undefined;
    const approved = new Promise<void>((resolve, reject) => {
      const cred = credential(TENANT_APP_CLIENT_ID, (info) => {
        shown = info;
        // The user signs in a moment later, while the credential polls.
        setTimeout(() => {
          void client
            .admin("POST", `/device-codes/${info.userCode}/approve`, {
              user: "alice@contoso.example",
              roles: ["Authentication Administrator"],
            })
            .then((a) =>
              a.status === 200 ? resolve() : reject(new Error(JSON.stringify(a.body))),
            );
        }, 200);
      });
      void cred.getToken(RUN_SCOPES).then((t) => tokens.push(t.token), reject);
    });
    const tokens: string[] = [];
    await approved;
    await expect.poll(() => tokens.length, { timeout: 5000 }).toBe(1);
    expect(shown?.userCode).toMatch(/^[A-Z0-9]{9}$/);
    expect(shown?.verificationUri).toBe("https://microsoft.com/devicelogin");
    expect(shown?.message).toContain(shown?.userCode);
    const [summary] = e.deviceCodes();
    expect(summary?.state).toBe("redeemed");
    expect(summary?.polls).toBeGreaterThan(1);
    const token = tokens[0] as string;
    const claims = claimsOf(token);
    expect(claims).toMatchObject({
      appid: TENANT_APP_CLIENT_ID,
      tid: e.tenantId,
      oid: "u1",
      upn: "alice@contoso.example",
      wids: [BUILT_IN_ROLES["Authentication Administrator"]],
      idtyp: "user",
    });
    expect(String(claims.scp).split(" ").sort()).toEqual([
      "AuditLog.Read.All",
      "Directory.Read.All",
      "GroupMember.Read.All",
      "RoleManagement.Read.Directory",
      "User.Read.All",
      "UserAuthenticationMethod.ReadWrite.All",
    ]);
    expect((await writeOffice("u2", token)).status).toBe(201);
    expect((await client.call("GET", "/v1.0/users?$top=1", { token })).status).toBe(200);
  });

  it("gives the Azure CLI's client (the credential's default) no authentication-methods scope: writes answer 403", async () => {
    await start({
      deviceCodeAutoApprove: {
        enabled: true,
        pendingPolls: 1,
        user: "alice@contoso.example",
        roles: ["Global Administrator"],
      },
    });
    const token = (await credential(undefined).getToken(GRAPH_DEFAULT)).token;
    const claims = claimsOf(token);
    expect(claims.appid).toBe(AZURE_CLI_CLIENT_ID);
    expect(String(claims.scp)).not.toMatch(/UserAuthentication/i);
    // Reads that its scopes cover still work; the phone-method write and read do not.
    expect((await client.call("GET", "/v1.0/users?$top=1", { token })).status).toBe(200);
    expectEnvelope(await writeOffice("u2", token), 403, "accessDenied");
    expectEnvelope(
      await client.call("GET", "/v1.0/users/u2/authentication/phoneMethods", { token }),
      403,
      "accessDenied",
    );
  });

  it("keeps using the token it got: a second getToken asks Entra nothing", async () => {
    // 1,000 s of real lifetime: far from MSAL's 5-minute renewal margin.
    await start({
      tokenLifetimeSeconds: 100_000,
      advertisedTokenLifetimeSeconds: 100_000,
      deviceCodeAutoApprove: { enabled: true, pendingPolls: 0, user: "u1", roles: [] },
    });
    const e = emu as EmulatorHandle;
    const cred = credential(TENANT_APP_CLIENT_ID);
    const first = await cred.getToken(RUN_SCOPES);
    const issued = e.metrics().tokensIssued;
    const second = await cred.getToken(RUN_SCOPES);
    expect(second.token).toBe(first.token);
    expect(e.metrics().tokensIssued).toBe(issued);
    expect(e.deviceCodes()).toHaveLength(1);
  });

  it("renews a token near its expiry with the refresh token, without a new sign-in", async () => {
    // 45 s of lifetime at timeScale 0.01: inside MSAL's renewal margin from the start.
    await start({
      deviceCodeAutoApprove: { enabled: true, pendingPolls: 0, user: "u1", roles: [] },
    });
    const e = emu as EmulatorHandle;
    let prompts = 0;
    const cred = credential(TENANT_APP_CLIENT_ID, () => prompts++);
    const first = await cred.getToken(RUN_SCOPES);
    const second = await cred.getToken(RUN_SCOPES);
    expect(second.token).not.toBe(first.token);
    expect(prompts).toBe(1);
    expect(e.deviceCodes()).toHaveLength(1);
    expect(claimsOf(second.token)).toMatchObject({ oid: "u1", appid: TENANT_APP_CLIENT_ID });
    expect((await writeOffice("u2", second.token)).status).toBe(403);
  });

  it("fails the credential when the user declines", async () => {
    await start();
    const cred = credential(TENANT_APP_CLIENT_ID, (info) => {
      setTimeout(() => void client.admin("POST", `/device-codes/${info.userCode}/deny`), 100);
    });
    await expect(cred.getToken(RUN_SCOPES)).rejects.toThrow(/authorization_declined/);
  });

  it("fails the credential when the code expires unapproved", async () => {
    // 100 emulated seconds at timeScale 0.01: one real second.
    await start({ deviceCodeLifetimeSeconds: 100 });
    await expect(credential(TENANT_APP_CLIENT_ID).getToken(RUN_SCOPES)).rejects.toThrow();
    expect(emu?.deviceCodes()[0]?.state).toBe("expired");
  });
});

/** A delegated token through the raw endpoints, approved as `user` with `roles` (or the tenant's). */
async function signIn(clientId: string, scope: string, user: string, roles?: string[]) {
  const e = emu as EmulatorHandle;
  const code = await entra("devicecode", { client_id: clientId, scope });
  expect(code.status).toBe(200);
  e.approveDeviceCode(String(code.body.user_code), user, roles);
  const token = await entra("token", {
    grant_type: "urn:ietf:params:oauth:grant-type:device_code",
    client_id: clientId,
    device_code: String(code.body.device_code),
  });
  expect(token.status).toBe(200);
  return String(token.body.access_token);
}

describe("delegated tokens at Graph", () => {
  it("needs UserAuthenticationMethod.ReadWrite.All in scp to write, even for a Global Administrator", async () => {
    await start();
    const readOnly = await signIn(
      TENANT_APP_CLIENT_ID,
      "https://graph.microsoft.com/User.Read.All https://graph.microsoft.com/AuditLog.Read.All",
      "u1",
      ["Global Administrator"],
    );
    expect(claimsOf(readOnly).scp).toBe("User.Read.All AuditLog.Read.All");
    expectEnvelope(await writeOffice("u2", readOnly), 403, "accessDenied");
    const writer = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1", [
      "Global Administrator",
    ]);
    expect((await writeOffice("u2", writer)).status).toBe(201);
  });

  it("needs a role that may manage the target's methods: Authentication Administrator for users, Privileged for admins", async () => {
    await start();
    const noRole = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1", []);
    expectEnvelope(await writeOffice("u2", noRole), 403, "accessDenied");
    // Directory reads need no role.
    expect((await client.call("GET", "/v1.0/users/u2", { token: noRole })).status).toBe(200);
    const authAdmin = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1", [
      "Authentication Administrator",
    ]);
    expect((await writeOffice("u2", authAdmin)).status).toBe(201);
    // u5 is an admin: only a privileged role may change its methods.
    expectEnvelope(await writeOffice("u5", authAdmin), 403, "accessDenied");
    const privileged = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1", [
      BUILT_IN_ROLES["Privileged Authentication Administrator"] as string,
    ]);
    expect((await writeOffice("u5", privileged)).status).toBe(201);
    // The report needs a reports reader role.
    const report = "/v1.0/reports/authenticationMethods/userRegistrationDetails";
    expect((await client.call("GET", report, { token: authAdmin })).status).toBe(403);
    const reader = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1", ["Reports Reader"]);
    expect((await client.call("GET", report, { token: reader })).status).toBe(200);
  });

  it("skips the role check when delegatedRoleCheck is off", async () => {
    await start({ delegatedRoleCheck: false });
    const noRole = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1", []);
    expect((await writeOffice("u5", noRole)).status).toBe(201);
  });
});

/**
 * The small tenant plus Fay, who holds Authentication Administrator actively, Global Reader only
 * as PIM-eligible, and Reports Reader through a role-assignable group; and Gus, who holds an
 * active role without the isAdmin flag.
 */
function tenantWithRoles(): TenantFixture {
  const t = smallTenant();
  t.users.push(
    {
      id: "u7",
      userPrincipalName: "fay@contoso.example",
      directoryRoles: [
        { role: "Authentication Administrator" },
        { role: "Global Reader", eligible: true },
      ],
    },
    {
      id: "u8",
      userPrincipalName: "gus@contoso.example",
      directoryRoles: [{ role: "Helpdesk Administrator" }],
    },
  );
  t.groups?.push({
    id: "g-readers",
    displayName: "Report readers",
    members: ["u7"],
    isAssignableToRole: true,
    directoryRoles: [{ role: "Reports Reader" }],
  });
  return t;
}

describe("sign-ins with the tenant's directory roles", () => {
  const sorted = (ids: unknown) => [...(ids as string[])].sort();

  it("carries the user's active roles, direct and through groups, in wids when the approval names none", async () => {
    await start({}, tenantWithRoles());
    const fay = claimsOf(await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "fay@contoso.example"));
    expect(sorted(fay.wids)).toEqual(
      sorted([BUILT_IN_ROLES["Authentication Administrator"], BUILT_IN_ROLES["Reports Reader"]]),
    );
    // An isAdmin user without role fields holds the implied User Administrator assignment.
    const zoe = claimsOf(await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u5"));
    expect(zoe.wids).toEqual([BUILT_IN_ROLES["User Administrator"]]);
    expect(claimsOf(await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1")).wids).toEqual([]);
    // Named roles replace the tenant's, an empty list included.
    const named = claimsOf(await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u7", []));
    expect(named.wids).toEqual([]);
    // The admin API does the same without "roles".
    const code = await entra("devicecode", { client_id: TENANT_APP_CLIENT_ID, scope: GRAPH_DEFAULT });
    const approved = await client.admin("POST", `/device-codes/${String(code.body.user_code)}/approve`, { user: "u7" });
    expect(approved.status).toBe(200);
    const token = await entra("token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      client_id: TENANT_APP_CLIENT_ID,
      device_code: String(code.body.device_code),
    });
    expect(sorted(claimsOf(String(token.body.access_token)).wids)).toEqual(sorted(fay.wids));
    const bad = await client.admin("POST", `/device-codes/${String(code.body.user_code)}/approve`, { user: "u7", roles: "Global Administrator" });
    expect(bad.status).toBe(400);
  }); // prettier-ignore

  it("auto-approves with the tenant's roles when the config names none", async () => {
    await start(
      { deviceCodeAutoApprove: { enabled: true, pendingPolls: 0, user: "fay@contoso.example" } },
      tenantWithRoles(),
    );
    const token = (await credential(TENANT_APP_CLIENT_ID).getToken(RUN_SCOPES)).token;
    expect(claimsOf(token).wids).toContain(BUILT_IN_ROLES["Authentication Administrator"]);
    expect((await writeOffice("u2", token)).status).toBe(201);
  });

  it("treats a user with an active directory role as an admin whose methods need a privileged role", async () => {
    await start({}, tenantWithRoles());
    const fay = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "fay@contoso.example");
    // Gus is no isAdmin user, but his Helpdesk Administrator role makes him one.
    expectEnvelope(await writeOffice("u8", fay), 403, "accessDenied");
    expect((await writeOffice("u2", fay)).status).toBe(201);
    const privileged = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1", ["Privileged Authentication Administrator"]);
    expect((await writeOffice("u8", privileged)).status).toBe(201);
  }); // prettier-ignore

  it("checks email-method writes like phone-method writes: the scope and the role", async () => {
    await start({}, tenantWithRoles());
    const email = (token: string) =>
      client.call("POST", "/v1.0/users/u2/authentication/emailMethods", {
        token,
        body: { emailAddress: "bob@example.org" },
      });
    const readOnly = await signIn(TENANT_APP_CLIENT_ID, "https://graph.microsoft.com/User.Read.All", "fay@contoso.example");
    expectEnvelope(await email(readOnly), 403, "accessDenied");
    const noRole = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1");
    expectEnvelope(await email(noRole), 403, "accessDenied");
    const fay = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "fay@contoso.example");
    expect((await email(fay)).status).toBe(201);
  }); // prettier-ignore

  it("reads the audit log with AuditLog.Read.All and Directory.Read.All in scp and a reports role", async () => {
    await start({}, tenantWithRoles());
    const audits = "/v1.0/auditLogs/directoryAudits";
    // The tenant's own app carries both scopes; Fay reads reports through her group.
    const fay = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "fay@contoso.example");
    expect((await client.call("GET", audits, { token: fay })).status).toBe(200);
    const auditOnly = await signIn(TENANT_APP_CLIENT_ID, "https://graph.microsoft.com/AuditLog.Read.All", "fay@contoso.example");
    const refused = await client.call("GET", audits, { token: auditOnly });
    expectEnvelope(refused, 403, "Authentication_MSGraphPermissionMissing");
    expect(refused.body.error.message).toContain("Directory.Read.All");
    const noRole = await signIn(TENANT_APP_CLIENT_ID, GRAPH_DEFAULT, "u1");
    expectEnvelope(await client.call("GET", audits, { token: noRole }), 403, "Authentication_MSGraphPermissionMissing");
  }); // prettier-ignore
});

describe("the device-code endpoints", () => {
  it("answer the documented device authorization response and authorization_pending", async () => {
    await start();
    const code = await entra("devicecode", {
      client_id: TENANT_APP_CLIENT_ID,
      scope: `${GRAPH_DEFAULT} openid profile offline_access`,
    });
    expect(code.body).toMatchObject({
      verification_uri: "https://microsoft.com/devicelogin",
      expires_in: 9,
      interval: 0.05,
    });
    for (const key of ["device_code", "user_code", "message"]) {
      expect(typeof code.body[key]).toBe("string");
    }
    const poll = () =>
      entra("token", {
        grant_type: "urn:ietf:params:oauth:grant-type:device_code",
        client_id: TENANT_APP_CLIENT_ID,
        device_code: String(code.body.device_code),
        client_info: "1",
      });
    const pending = await poll();
    expect(pending.status).toBe(400);
    expect(pending.body).toMatchObject({ error: "authorization_pending", error_codes: [70016] });
    emu?.approveDeviceCode(String(code.body.user_code), "alice@contoso.example");
    const done = await poll();
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ token_type: "Bearer" });
    // Named as asked (MSAL finds its cached token by these), .default included.
    expect(String(done.body.scope).split(" ")).toEqual(
      expect.arrayContaining([
        "https://graph.microsoft.com/UserAuthenticationMethod.ReadWrite.All",
        "https://graph.microsoft.com/.default",
        "openid",
        "profile",
      ]),
    );
    expect(String(done.body.scope)).not.toContain("offline_access");
    for (const key of ["access_token", "refresh_token", "id_token", "client_info"]) {
      expect(typeof done.body[key]).toBe("string");
    }
    expect(claimsOf(String(done.body.id_token))).toMatchObject({
      aud: TENANT_APP_CLIENT_ID,
      oid: "u1",
      preferred_username: "alice@contoso.example",
    });
    // A code is redeemed once; the refresh token gets a new access token.
    expect((await poll()).body.error).toBe("invalid_grant");
    const refreshed = await entra("token", {
      grant_type: "refresh_token",
      client_id: TENANT_APP_CLIENT_ID,
      refresh_token: String(done.body.refresh_token),
      scope: RUN_SCOPES[0] as string,
    });
    expect(refreshed.status).toBe(200);
    expect(claimsOf(String(refreshed.body.access_token)).scp).toBe(
      "UserAuthenticationMethod.ReadWrite.All",
    );
  });

  it("refuse an unknown client, another resource's scope, an unknown device code and a bad approval", async () => {
    await start();
    expect(
      (await entra("devicecode", { client_id: "nobody", scope: GRAPH_DEFAULT })).body.error,
    ).toBe("unauthorized_client");
    expect(
      (
        await entra("devicecode", {
          client_id: TENANT_APP_CLIENT_ID,
          scope: "https://vault.azure.net/.default",
        })
      ).body.error,
    ).toBe("invalid_scope");
    const bad = await entra("token", {
      grant_type: "urn:ietf:params:oauth:grant-type:device_code",
      client_id: TENANT_APP_CLIENT_ID,
      device_code: "nope",
    });
    expect(bad.body.error).toBe("bad_verification_code");
    const code = await entra("devicecode", {
      client_id: TENANT_APP_CLIENT_ID,
      scope: GRAPH_DEFAULT,
    });
    const userCode = String(code.body.user_code);
    expect(
      (await client.admin("POST", "/device-codes/NOSUCHCODE/approve", { user: "u1" })).status,
    ).toBe(404);
    expect(
      (await client.admin("POST", `/device-codes/${userCode}/approve`, { user: "ghost" })).status,
    ).toBe(404);
    expect(
      (
        await client.admin("POST", `/device-codes/${userCode}/approve`, {
          user: "u1",
          roles: ["Wizard"],
        })
      ).status,
    ).toBe(400);
    expect(
      (await client.admin("POST", `/device-codes/${userCode}/approve`, { user: "u1" })).status,
    ).toBe(200);
    expect(
      (await client.admin("POST", `/device-codes/${userCode}/approve`, { user: "u1" })).status,
    ).toBe(409);
    expect((await client.admin("GET", "/device-codes")).body.deviceCodes).toEqual([
      expect.objectContaining({ userCode, state: "approved", user: "alice@contoso.example" }),
    ]);
  });

  it("takes the clients and their scopes from config", async () => {
    await start({
      publicClients: { "my-app": { displayName: "Mine", scopes: ["User.Read.All"] } },
    });
    expect(
      (await entra("devicecode", { client_id: TENANT_APP_CLIENT_ID, scope: GRAPH_DEFAULT })).body
        .error,
    ).toBe("unauthorized_client");
    const code = await entra("devicecode", { client_id: "my-app", scope: GRAPH_DEFAULT });
    expect(code.status).toBe(200);
    expect(emu?.deviceCodes()[0]?.scopes).toEqual(["User.Read.All"]);
    expect(
      (await client.admin("POST", "/config", { publicClients: { x: { scopes: "all" } } })).status,
    ).toBe(400);
  });
});
