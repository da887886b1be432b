/**
 * The user properties issues 11 and 14 read: `createdDateTime`, `otherMails` and `businessPhones`,
 * from the fixture (or their plain-case defaults) through every route that returns users.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import {
  TenantFixtureError,
  validateTenant,
} from "../../../local/graph-emulator/tenant/fixture.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import { GraphTestClient, TENANT_ID, expectEnvelope } from "./helpers.js";

const DAY_MS = 24 * 3600 * 1000;
const PROPS = "id,createdDateTime,otherMails,businessPhones";

function tenant(): TenantFixture {
  return {
    tenant: { id: TENANT_ID, domain: "contoso.example" },
    groups: [{ id: "g1", displayName: "All", members: ["u1", "u2"] }],
    users: [
      {
        id: "u1",
        userPrincipalName: "new@contoso.example",
        // An offset other than UTC: Graph answers in UTC.
        createdDateTime: "2026-03-01T10:15:00+02:00",
        otherMails: ["Private.Mail@example.net", "new@contoso.example"],
        businessPhones: ["+45 33 12 34 56 x 120"],
      },
      { id: "u2", userPrincipalName: "old@contoso.example" },
    ],
  };
}

describe("createdDateTime, otherMails and businessPhones", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;
  let startedMs: number;

  beforeAll(async () => {
    startedMs = Date.now();
    emu = await startEmulator({ tenant: tenant() });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("serves the fixture's values, in UTC, and the plain case for a user without them", async () => {
    const r = await client.call("GET", `/v1.0/users?$select=${PROPS}`);
    expect(r.status).toBe(200);
    expect(r.body.value[0]).toEqual({
      id: "u1",
      createdDateTime: "2026-03-01T08:15:00Z",
      otherMails: ["Private.Mail@example.net", "new@contoso.example"],
      businessPhones: ["+45 33 12 34 56 x 120"],
    });
    const plain = r.body.value[1];
    expect(plain.otherMails).toEqual([]);
    expect(plain.businessPhones).toEqual([]);
    // Long ago: 400 days before the emulator started.
    const created = Date.parse(plain.createdDateTime);
    expect(plain.createdDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created).toBeGreaterThanOrEqual(startedMs - 400 * DAY_MS - 1000);
    expect(created).toBeLessThanOrEqual(Date.now() - 400 * DAY_MS);
  });

  it("returns createdDateTime and otherMails only when selected, businessPhones by default", async () => {
    const r = await client.call("GET", "/v1.0/users/u1");
    expect(r.body.businessPhones).toEqual(["+45 33 12 34 56 x 120"]);
    expect(r.body).not.toHaveProperty("createdDateTime");
    expect(r.body).not.toHaveProperty("otherMails");
    const selected = await client.call("GET", "/v1.0/users/u1?$select=createdDateTime,otherMails");
    expect(selected.body).toMatchObject({
      createdDateTime: "2026-03-01T08:15:00Z",
      otherMails: ["Private.Mail@example.net", "new@contoso.example"],
    });
  });

  it("selects them on group members and in a delta round", async () => {
    const members = await client.call(
      "GET",
      `/v1.0/groups/g1/transitiveMembers/microsoft.graph.user?$select=${PROPS}`,
    );
    expect(members.body.value.map((u: { createdDateTime: string }) => u.createdDateTime)).toEqual([
      "2026-03-01T08:15:00Z",
      expect.stringMatching(/Z$/),
    ]);
    const delta = await client.call("GET", `/v1.0/users/delta?$select=${PROPS}`);
    expect(delta.status).toBe(200);
    expect(delta.body.value[0]).toEqual({
      id: "u1",
      createdDateTime: "2026-03-01T08:15:00Z",
      otherMails: ["Private.Mail@example.net", "new@contoso.example"],
      businessPhones: ["+45 33 12 34 56 x 120"],
    });
  });

  it("keeps a user's creation time when an upsert changes the user", async () => {
    const before = await client.call("GET", "/v1.0/users/u2?$select=createdDateTime");
    emu.upsertUser({
      id: "u2",
      userPrincipalName: "old@contoso.example",
      otherMails: ["x@y.example"],
    });
    const after = await client.call("GET", "/v1.0/users/u2?$select=createdDateTime,otherMails");
    expect(after.body.createdDateTime).toBe(before.body.createdDateTime);
    expect(after.body.otherMails).toEqual(["x@y.example"]);
  });

  it("rejects an unknown property next to them in $select", async () => {
    expectEnvelope(
      await client.call("GET", "/v1.0/users?$select=createdDateTime,hireDate"),
      400,
      "Request_BadRequest",
    );
  });
});

describe("fixture validation of the user properties", () => {
  const withUser = (extra: Record<string, unknown>): unknown => ({
    tenant: { id: TENANT_ID, domain: "contoso.example" },
    users: [{ id: "u1", userPrincipalName: "a@contoso.example", ...extra }],
  });
  const rejection = (value: unknown): TenantFixtureError => {
    try {
      validateTenant(value);
    } catch (error) {
      return error as TenantFixtureError;
    }
    throw new Error("expected a rejection");
  };

  it("accepts an offset date-time and string lists", () => {
    expect(() =>
      validateTenant(
        withUser({ createdDateTime: "2026-01-02T03:04:05Z", otherMails: [], businessPhones: [] }),
      ),
    ).not.toThrow();
  });

  it("names the path of a createdDateTime that is not an RFC 3339 date-time", () => {
    for (const bad of ["yesterday", "2026-01-02", "2026-01-02T03:04:05"]) {
      const error = rejection(withUser({ createdDateTime: bad }));
      expect(error).toBeInstanceOf(TenantFixtureError);
      expect(error.path).toBe("/users/0/createdDateTime");
      expect(error.message).toContain('must match format "date-time"');
    }
  });

  it("names the path of otherMails or businessPhones that are not lists of strings", () => {
    expect(rejection(withUser({ otherMails: "a@b.example" })).path).toBe("/users/0/otherMails");
    expect(rejection(withUser({ businessPhones: [42] })).path).toBe("/users/0/businessPhones/0");
  });
});
