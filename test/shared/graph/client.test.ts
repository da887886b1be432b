import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphAccess, MAX_BATCH_SIZE } from "../../../shared/graph/client.js";
import type { GraphCredential } from "../../../shared/graph/credentials.js";
import { GraphRequestError } from "../../../shared/graph/errors.js";
import { odataString, phoneMethodsPath, query, userPath } from "../../../shared/graph/paths.js";
import type { RetryEvent } from "../../../shared/graph/transport.js";
import { access } from "./support.js";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";

const SMALL: TenantFixture = {
  tenant: {
    id: "6f1c2f5e-0000-4000-8000-000000000001",
    domain: "contoso.example",
    premium: true,
    smsSignInEnabled: true,
  },
  groups: [
    {
      id: "a1000000-0000-4000-8000-000000000001",
      displayName: "Sales - Rock 'n' Roll",
      members: ["u1", "a1000000-0000-4000-8000-000000000002"],
    },
    { id: "a1000000-0000-4000-8000-000000000002", displayName: "Nested", members: ["u2"] },
  ],
  users: [
    { id: "u1", userPrincipalName: "o'brien@contoso.example", mobilePhone: "+45 20123456" },
    { id: "u2", userPrincipalName: "søren@contoso.example", mobilePhone: "+45 30123456" },
    {
      id: "u3",
      userPrincipalName: "cy@contoso.example",
      phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 40123456" }],
    },
    {
      id: "u4",
      userPrincipalName: "holder@contoso.example",
      phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 50123456", smsSignInNumber: true }],
    },
    { id: "u5", userPrincipalName: "di@contoso.example" },
  ],
};

describe("GraphAccess against the emulator (fast profile)", () => {
  let emulator: EmulatorHandle;
  beforeAll(async () => {
    emulator = await startEmulator({ tenant: structuredClone(SMALL), profile: "fast" });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it("looks users up by UPN with quotes and non-ASCII letters, and groups by a quoted name", async () => {
    const graph = access(emulator);
    const user = await graph.get<{ id: string }>(userPath("o'brien@contoso.example"));
    expect(user.id).toBe("u1");
    expect((await graph.get<{ id: string }>(userPath("søren@contoso.example"))).id).toBe("u2");
    const groups = await graph.get<{ value: { id: string }[] }>(
      `/groups${query({ $filter: `displayName eq ${odataString("Sales - Rock 'n' Roll")}` })}`,
    );
    expect(groups.value.map((g) => g.id)).toEqual(["a1000000-0000-4000-8000-000000000001"]);
    const members = [];
    for await (const page of graph.pages<{ id: string }>(
      `/groups/a1000000-0000-4000-8000-000000000001/transitiveMembers/microsoft.graph.user${query({ $select: "id", $count: "true" })}`,
      { ConsistencyLevel: "eventual" },
    )) {
      members.push(...page.value.map((u) => u.id));
    }
    expect(members.sort()).toEqual(["u1", "u2"]);
    await graph.close();
  });

  it("returns each batch item's own status, body and typed error", async () => {
    const graph = access(emulator);
    const results = await graph.batch([
      {
        id: "create",
        method: "POST",
        url: phoneMethodsPath("u1"),
        body: { phoneNumber: "+45 20123456", phoneType: "mobile" },
      },
      {
        id: "duplicate",
        method: "POST",
        url: phoneMethodsPath("u3"),
        body: { phoneNumber: "+45 40123456", phoneType: "mobile" },
      },
      {
        id: "badFormat",
        method: "POST",
        url: phoneMethodsPath("u5"),
        body: { phoneNumber: "4520123456", phoneType: "mobile" },
      },
      { id: "missing", method: "GET", url: phoneMethodsPath("no-such-user") },
      {
        id: "clash",
        method: "POST",
        url: phoneMethodsPath("u2"),
        body: { phoneNumber: "+45 50123456", phoneType: "mobile" },
      },
    ]);
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(results.map((r) => r.id)).toEqual([
      "create",
      "duplicate",
      "badFormat",
      "missing",
      "clash",
    ]);
    expect(byId.create?.status).toBeGreaterThanOrEqual(200);
    expect(byId.create?.status).toBeLessThan(300);
    expect(byId.create?.error).toBeUndefined();
    for (const id of ["duplicate", "badFormat"]) {
      expect(byId[id]?.error).toBeInstanceOf(GraphRequestError);
      expect(byId[id]?.error?.kind).toBe("perUser");
      expect(byId[id]?.status).toBeGreaterThanOrEqual(400);
    }
    expect(byId.missing?.status).toBe(404);
    expect(byId.clash?.status).toBe(409);
    expect(byId.clash?.error?.code).toBe("phoneNumberNotUnique");
    // The clash still created the method, as Graph does.
    const u2 = emulator.state().users.find((u) => u.id === "u2");
    expect(u2?.phoneMethods).toEqual([{ phoneType: "mobile", phoneNumber: "+45 50123456" }]);
    await graph.close();
  });

  it("refuses an empty or oversized batch before sending it", async () => {
    const graph = access(emulator);
    await expect(graph.batch([])).rejects.toThrow(RangeError);
    const tooMany = Array.from({ length: MAX_BATCH_SIZE + 1 }, (_, i) => ({
      id: String(i),
      method: "GET" as const,
      url: "/users/u1",
    }));
    await expect(graph.batch(tooMany)).rejects.toThrow(/1 to 20 requests/);
    await graph.close();
  });

  it("names the missing permission when Graph answers 403", async () => {
    // A token of its own: MSAL caches managed-identity tokens process-wide, and a narrow one
    // left in that cache would refuse the other tests' writes.
    const readOnly: GraphCredential = {
      getToken: async () => ({
        token: emulator.issueToken({ roles: ["User.Read.All"] }),
        expiresOnTimestamp: Date.now() + 3_600_000,
      }),
      invalidate: () => undefined,
    };
    const graph = access(emulator, [], readOnly);
    const error = await graph.get(phoneMethodsPath("u1")).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphRequestError);
    expect((error as GraphRequestError).status).toBe(403);
    expect((error as GraphRequestError).kind).toBe("fatal");
    expect((error as GraphRequestError).message).toContain(
      "'UserAuthenticationMethod.ReadWrite.All'",
    );
    expect((error as GraphRequestError).requestId).toBeTruthy();
    await graph.close();
  });

  it("turns Graph's 400 for an invalid page size into a fatal error with Graph's code", async () => {
    const graph = access(emulator);
    const error = await graph.get(`/users${query({ $top: 0 })}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphRequestError);
    expect((error as GraphRequestError).status).toBe(400);
    expect((error as GraphRequestError).kind).toBe("fatal");
    expect((error as GraphRequestError).code).not.toBe("");
    await graph.close();
  });

  it("gets a fresh token once after a 401 and fails clearly when Graph still refuses", async () => {
    const events: RetryEvent[] = [];
    const graph = access(emulator, events);
    await graph.get(userPath("u1"));
    emulator.revokeAllTokens();
    await graph.get(userPath("u1"));
    expect(events.filter((e) => e.status === 401)).toHaveLength(1);

    const garbage: GraphCredential = {
      getToken: async () => ({
        token: "garbage.token.value",
        expiresOnTimestamp: Date.now() + 3_600_000,
      }),
      invalidate: () => undefined,
    };
    const broken = access(emulator, [], garbage);
    const error = await broken.get(userPath("u1")).catch((e: unknown) => e);
    expect((error as GraphRequestError).status).toBe(401);
    expect((error as GraphRequestError).code).toBe("InvalidAuthenticationToken");
    expect((error as GraphRequestError).kind).toBe("fatal");
    await graph.close();
    await broken.close();
  });

  it("reports a connection that never answers as a transient network error", async () => {
    const graph = new GraphAccess({
      baseUrl: "https://127.0.0.1:9",
      credential: {
        getToken: async () => ({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }),
        invalidate: () => undefined,
      },
      retry: { maxRetries: 1, baseDelayMs: 1 },
    });
    const error = await graph
      .post(phoneMethodsPath("u1"), { phoneNumber: "+45 20123456", phoneType: "mobile" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GraphRequestError);
    expect((error as GraphRequestError).status).toBe(0);
    expect((error as GraphRequestError).kind).toBe("transient");
    await graph.close();
  });
});
