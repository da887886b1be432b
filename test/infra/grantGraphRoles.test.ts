import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Agent, fetch as undiciFetch } from "undici";
import type { TokenCredential } from "@azure/core-auth";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import {
  GRAPH_APP_ID,
  GRAPH_APP_ROLES,
  servicePrincipalIdFor,
} from "../../local/graph-emulator/handlers/servicePrincipals.js";
import {
  GrantError,
  REQUIRED_GRAPH_ROLES,
  grantGraphRoles,
  parseCommand,
  type FetchLike,
  type GrantOptions,
} from "../../infra/scripts/grantGraphRoles.js";
import { smallTenant } from "../local/graph-emulator/helpers.js";

const ADMIN_ROLES = ["Application.Read.All", "AppRoleAssignment.ReadWrite.All"];

let emu: EmulatorHandle;
let agent: Agent;
let fetchImpl: FetchLike;
let principalId: string;
let graphSpId: string;

function credentialWith(roles: string[]): TokenCredential {
  return {
    getToken: async () => ({
      token: emu.issueToken({ roles }),
      expiresOnTimestamp: Date.now() + 3_600_000,
    }),
  };
}

function options(overrides: Partial<GrantOptions> = {}): GrantOptions {
  return {
    principalId,
    graphBaseUrl: emu.graphBaseUrl,
    allowLoopback: true,
    credential: credentialWith(ADMIN_ROLES),
    fetch: fetchImpl,
    sleep: async () => undefined,
    ...overrides,
  };
}

/** The Graph roles the principal holds, read back through Graph itself. */
async function heldRoles(): Promise<string[]> {
  const res = await fetchImpl(
    `${emu.graphBaseUrl}/v1.0/servicePrincipals/${principalId}/appRoleAssignments`,
    {
      method: "GET",
      headers: { Authorization: `Bearer ${emu.issueToken({ roles: ADMIN_ROLES })}` },
    },
  );
  const body = JSON.parse(await res.text()) as { value: { appRoleId: string }[] };
  const byId = new Map(Object.entries(GRAPH_APP_ROLES).map(([name, id]) => [id, name]));
  return body.value.map((a) => byId.get(a.appRoleId) ?? a.appRoleId).sort();
}

async function assignDirectly(roleName: string): Promise<void> {
  const res = await fetchImpl(
    `${emu.graphBaseUrl}/v1.0/servicePrincipals/${graphSpId}/appRoleAssignedTo`,
    {
      method: "POST",
      headers: {
        Authorization: `Bearer ${emu.issueToken({ roles: ADMIN_ROLES })}`,
        "Content-Type": "application/json",
      },
      body: JSON.stringify({
        principalId,
        resourceId: graphSpId,
        appRoleId: GRAPH_APP_ROLES[roleName],
      }),
    },
  );
  expect(res.status).toBe(201);
}

beforeEach(async () => {
  emu = await startEmulator({ tenant: smallTenant() });
  agent = new Agent({ connect: { ca: emu.caCertPem } });
  fetchImpl = (url, init) => undiciFetch(url, { ...init, dispatcher: agent });
  // The emulator issues every token for one client id: that app plays the managed identity.
  principalId = servicePrincipalIdFor(emu.appId);
  graphSpId = servicePrincipalIdFor(GRAPH_APP_ID);
});

afterEach(async () => {
  await agent.close();
  await emu.close();
});

describe("grantGraphRoles against the Graph emulator", () => {
  it("assigns exactly the four roles the app needs when the identity has none", async () => {
    // Act
    const result = await grantGraphRoles(options());

    // Assert
    expect(result.granted).toEqual([...REQUIRED_GRAPH_ROLES]);
    expect(result.present).toEqual([]);
    expect(result.graphServicePrincipalId).toBe(graphSpId);
    expect(await heldRoles()).toEqual([...REQUIRED_GRAPH_ROLES].sort());
  });

  it("can grant the roles the directory guards and the policy pre-flight will need", async () => {
    const roles = [
      "RoleManagement.Read.Directory",
      "Policy.Read.AuthenticationMethod",
      "Domain.Read.All",
    ];

    const result = await grantGraphRoles(options({ roles }));

    expect(result.granted).toEqual(roles);
    expect(await heldRoles()).toEqual([...roles].sort());
  });

  it("changes nothing on a second run", async () => {
    // Arrange
    await grantGraphRoles(options());

    const methods: string[] = [];
    const recording: FetchLike = async (url, init) => {
      methods.push(init.method);
      return fetchImpl(url, init);
    };

    // Act
    const second = await grantGraphRoles(options({ fetch: recording }));

    // Assert
    expect(methods).not.toContain("POST");
    expect(second.granted).toEqual([]);
    expect(second.present).toEqual([...REQUIRED_GRAPH_ROLES]);
    expect(await heldRoles()).toHaveLength(REQUIRED_GRAPH_ROLES.length);
  });

  it("reports what it would grant on a dry run and assigns nothing", async () => {
    // Arrange
    await assignDirectly("User.Read.All");
    const lines: string[] = [];

    // Act
    const result = await grantGraphRoles(options({ dryRun: true, log: (l) => lines.push(l) }));

    // Assert
    expect(result.wouldGrant).toEqual(REQUIRED_GRAPH_ROLES.filter((r) => r !== "User.Read.All"));
    expect(result.granted).toEqual([]);
    expect(await heldRoles()).toEqual(["User.Read.All"]);
    expect(lines).toContain("Dry run: would grant 'AuditLog.Read.All'.");
  });

  it("grants only the missing roles and warns about, but keeps, a role the app does not need", async () => {
    // Arrange
    await assignDirectly("GroupMember.Read.All");
    await assignDirectly("Group.Read.All");
    const lines: string[] = [];

    // Act
    const result = await grantGraphRoles(options({ log: (l) => lines.push(l) }));

    // Assert
    expect(result.present).toEqual(["GroupMember.Read.All"]);
    expect(result.granted).toEqual(
      REQUIRED_GRAPH_ROLES.filter((r) => r !== "GroupMember.Read.All"),
    );
    expect(result.extra).toEqual(["Group.Read.All"]);
    expect(lines.some((l) => l.includes("'Group.Read.All', which the app does not need"))).toBe(
      true,
    );
    expect(await heldRoles()).toHaveLength(REQUIRED_GRAPH_ROLES.length + 1);
  });

  it("names AppRoleAssignment.ReadWrite.All when the admin may read but not assign", async () => {
    // Act
    const attempt = grantGraphRoles(
      options({ credential: credentialWith(["Application.Read.All"]) }),
    );

    // Assert
    await expect(attempt).rejects.toThrow(GrantError);
    await expect(attempt).rejects.toThrow(/lacks 'AppRoleAssignment\.ReadWrite\.All'/);
    await expect(attempt).rejects.toThrow(
      `Such an admin can run 'npx tsx infra/scripts/grantGraphRoles.ts --principal-id ${principalId}' later.`,
    );
    await expect(attempt).rejects.toMatchObject({
      status: 403,
      code: "Authorization_RequestDenied",
    });
    expect(await heldRoles()).toEqual([]);
  });

  it("names Application.Read.All when the admin may not read service principals", async () => {
    // Act
    const attempt = grantGraphRoles(
      options({ credential: credentialWith(["AppRoleAssignment.ReadWrite.All"]) }),
    );

    // Assert
    await expect(attempt).rejects.toThrow(/lacks 'Application\.Read\.All'/);
    await expect(attempt).rejects.toThrow(/Privileged Role Administrator/);
  });

  it("retries while a new identity is not visible in Graph, then says to pass the object id", async () => {
    // Arrange
    const lines: string[] = [];
    const sleeps: number[] = [];

    // Act
    const attempt = grantGraphRoles(
      options({
        principalId: "99999999-9999-9999-9999-999999999999",
        principalAttempts: 3,
        retryDelayMs: 5,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        log: (l) => lines.push(l),
      }),
    );

    // Assert
    await expect(attempt).rejects.toMatchObject({ code: "principalNotFound", status: 404 });
    await expect(attempt).rejects.toThrow(/principal id \(not its client id\)/);
    expect(sleeps).toEqual([5, 5]);
    expect(lines.filter((l) => l.includes("not visible in Graph yet"))).toHaveLength(2);
  });

  it("treats an assignment made by someone else between its read and its write as present", async () => {
    // Arrange: the first POST races with another admin who assigns the same role first.
    let raced = false;
    const racing: FetchLike = async (url, init) => {
      if (init.method === "POST" && !raced) {
        raced = true;
        await fetchImpl(url, init);
      }
      return fetchImpl(url, init);
    };

    // Act
    const result = await grantGraphRoles(options({ fetch: racing }));

    // Assert
    expect(result.present).toEqual(["UserAuthenticationMethod.ReadWrite.All"]);
    expect(result.granted).toHaveLength(REQUIRED_GRAPH_ROLES.length - 1);
    expect(await heldRoles()).toHaveLength(REQUIRED_GRAPH_ROLES.length);
  });

  it("waits Retry-After seconds on a 429 and then succeeds", async () => {
    // Arrange
    let throttled = false;
    const sleeps: number[] = [];
    const throttling: FetchLike = async (url, init) => {
      if (!throttled) {
        throttled = true;
        return {
          status: 429,
          headers: { get: (n: string) => (n.toLowerCase() === "retry-after" ? "3" : null) },
          text: async () => JSON.stringify({ error: { code: "TooManyRequests", message: "x" } }),
        };
      }
      return fetchImpl(url, init);
    };

    // Act
    const result = await grantGraphRoles(
      options({
        fetch: throttling,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      }),
    );

    // Assert
    expect(sleeps).toEqual([3000]);
    expect(result.granted).toHaveLength(REQUIRED_GRAPH_ROLES.length);
  });

  it("tells the admin to sign in when no token can be had", async () => {
    // Arrange
    const noLogin: TokenCredential = {
      getToken: async () => {
        throw new Error("Please run 'azd auth login' from a command prompt.\nmore detail");
      },
    };

    // Act
    const attempt = grantGraphRoles(options({ credential: noLogin }));

    // Assert
    await expect(attempt).rejects.toMatchObject({ code: "noToken" });
    await expect(attempt).rejects.toThrow(/Sign in with 'az login' \(or 'azd auth login'\)/);
  });

  it("refuses a principal id that is not an object id before calling Graph", async () => {
    // Arrange
    let calls = 0;
    const counting: FetchLike = async (url, init) => {
      calls++;
      return fetchImpl(url, init);
    };

    // Act
    const attempt = grantGraphRoles(options({ principalId: "my-identity", fetch: counting }));

    // Assert
    await expect(attempt).rejects.toMatchObject({ code: "badPrincipalId" });
    expect(calls).toBe(0);
  });

  it("fails with the role name when Graph does not offer a requested role", async () => {
    // Act
    const attempt = grantGraphRoles(options({ roles: ["No.Such.Role"] }));

    // Assert
    await expect(attempt).rejects.toThrow(/no application role 'No\.Such\.Role'/);
  });
});

describe("grantGraphRoles sends the admin's token only where the app's may go", () => {
  /** A credential and a fetch that record what they were asked, and answer nothing useful. */
  function recorders(): { scopes: string[]; urls: string[]; options: Partial<GrantOptions> } {
    const scopes: string[] = [];
    const urls: string[] = [];
    return {
      scopes,
      urls,
      options: {
        credential: {
          getToken: async (scope) => {
            scopes.push(String(scope));
            throw new Error("no sign-in in this test");
          },
        },
        fetch: async (url) => {
          urls.push(url);
          throw new Error("no network in this test");
        },
      },
    };
  }

  it.each([
    [
      "a host that is not Graph",
      "https://graph.example.com",
      {},
      /'--graph-base-url' \(GRAPH_BASE_URL\) must be the Microsoft Graph root/,
    ],
    [
      "a Graph host on another port",
      "https://graph.microsoft.com:8443",
      {},
      /must be the Microsoft Graph root/,
    ],
    ["plain http", "http://graph.microsoft.com", {}, /must be an https URL/],
    [
      "a loopback emulator without GRAPH_ALLOW_LOOPBACK",
      "https://127.0.0.1:8443",
      {},
      /names a loopback host: set GRAPH_ALLOW_LOOPBACK=true/,
    ],
    [
      "a loopback emulator in Azure",
      "https://127.0.0.1:8443",
      { allowLoopback: true, inAzure: true },
      /'GRAPH_ALLOW_LOOPBACK' must not be true in Azure/,
    ],
  ])("refuses %s before asking for a token", async (_, graphBaseUrl, flags, message) => {
    // Arrange
    const { scopes, urls, options: recording } = recorders();

    // Act
    const attempt = grantGraphRoles({
      principalId: "00000000-0000-4000-8000-000000000001",
      graphBaseUrl,
      ...flags,
      ...recording,
    } as GrantOptions);

    // Assert
    await expect(attempt).rejects.toMatchObject({ code: "badGraphBaseUrl" });
    await expect(attempt).rejects.toThrow(message);
    expect(scopes).toEqual([]);
    expect(urls).toEqual([]);
  });

  it("asks a national cloud's token for that cloud's Graph", async () => {
    // Arrange
    const { scopes, options: recording } = recorders();

    // Act
    const attempt = grantGraphRoles({
      principalId: "00000000-0000-4000-8000-000000000001",
      graphBaseUrl: "https://dod-graph.microsoft.us/v1.0",
      ...recording,
    } as GrantOptions);

    // Assert
    await expect(attempt).rejects.toMatchObject({ code: "noToken" });
    expect(scopes).toEqual(["https://dod-graph.microsoft.us/.default"]);
  });
});

describe("parseCommand", () => {
  it("takes the principal from azd's output when no flag is given", () => {
    const command = parseCommand([], { AZURE_MANAGED_IDENTITY_PRINCIPAL_ID: "abc" });
    expect(command).toEqual({
      principalId: "abc",
      graphBaseUrl: undefined,
      allowLoopback: false,
      inAzure: false,
      dryRun: false,
      help: false,
    });
  });

  it("reads GRAPH_ALLOW_LOOPBACK and whether it runs in Azure from the environment", () => {
    expect(
      parseCommand([], { GRAPH_ALLOW_LOOPBACK: "true", WEBSITE_INSTANCE_ID: "i1" }),
    ).toMatchObject({ allowLoopback: true, inAzure: true });
    expect(() => parseCommand([], { GRAPH_ALLOW_LOOPBACK: "maybe" })).toThrow(
      /'GRAPH_ALLOW_LOOPBACK' must be true or false/,
    );
  });

  it("prefers flags over the environment", () => {
    const command = parseCommand(
      ["--principal-id", "flag", "--graph-base-url", "https://graph.microsoft.us", "--dry-run"],
      { AZURE_MANAGED_IDENTITY_PRINCIPAL_ID: "env", GRAPH_BASE_URL: "https://x.example" },
    );
    expect(command).toMatchObject({
      principalId: "flag",
      graphBaseUrl: "https://graph.microsoft.us",
      dryRun: true,
    });
  });

  it("rejects an unknown option", () => {
    expect(() => parseCommand(["--force"], {})).toThrow(/--force/);
  });
});
