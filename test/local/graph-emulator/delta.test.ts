import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { GraphTestClient, bigTenant, expectEnvelope, type Answer } from "./helpers.js";

const SELECT = "id,userPrincipalName,mobilePhone,accountEnabled";

describe("GET /users/delta", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    emu = await startEmulator({ tenant: bigTenant(250) });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  /** GETs an absolute link the emulator handed out, verbatim. */
  const follow = (link: string, headers: Record<string, string> = {}): Promise<Answer> => {
    expect(link.startsWith(`${emu.graphBaseUrl}/v1.0/`)).toBe(true);
    return client.call("GET", link.slice(emu.graphBaseUrl.length), { headers });
  };

  /** Follows nextLinks from a first answer until one carries a deltaLink. */
  const finishRound = async (
    first: Answer,
    headers: Record<string, string> = {},
  ): Promise<{ items: Record<string, unknown>[]; deltaLink: string; pages: Answer[] }> => {
    const pages = [first];
    let page = first;
    while (page.body["@odata.nextLink"] !== undefined) {
      expect(page.status).toBe(200);
      expect(page.body["@odata.deltaLink"]).toBeUndefined();
      page = await follow(page.body["@odata.nextLink"] as string, headers);
      pages.push(page);
    }
    expect(page.status).toBe(200);
    expect(typeof page.body["@odata.deltaLink"]).toBe("string");
    return {
      items: pages.flatMap((p) => p.body.value as Record<string, unknown>[]),
      deltaLink: page.body["@odata.deltaLink"] as string,
      pages,
    };
  };

  /** A deltaLink that starts "now", so a test sees only its own changes. */
  const syncFromNow = async (select = SELECT): Promise<string> => {
    const r = await client.call("GET", `/v1.0/users/delta?$select=${select}&$deltatoken=latest`);
    expect(r.status).toBe(200);
    return r.body["@odata.deltaLink"] as string;
  };

  it("pages a first round with opaque nextLinks that keep the $select, then ends with a deltaLink", async () => {
    const first = await client.call("GET", `/v1.0/users/delta?$select=${SELECT}`);
    const { items, deltaLink, pages } = await finishRound(first);
    expect(pages.map((p) => (p.body.value as unknown[]).length)).toEqual([100, 100, 50]);
    expect(new Set(items.map((u) => u.id)).size).toBe(250);
    // Every page, not only the first, is projected on the first call's $select.
    for (const u of items) {
      expect(Object.keys(u).sort()).toEqual(SELECT.split(",").sort());
    }
    expect(items[9]).toEqual({
      id: "user-9",
      userPrincipalName: "user9@big.example",
      mobilePhone: null,
      accountEnabled: false,
    });
    const next = new URL(pages[0]?.body["@odata.nextLink"] as string);
    expect(next.pathname).toBe("/v1.0/users/delta");
    expect([...next.searchParams.keys()]).toEqual(["$skiptoken"]);
    expect([...new URL(deltaLink).searchParams.keys()]).toEqual(["$deltatoken"]);
  });

  it("answers a deltaLink without changes with no users and a new deltaLink", async () => {
    const { deltaLink } = await finishRound(
      await client.call("GET", `/v1.0/users/delta?$select=${SELECT}`),
    );
    const r = await follow(deltaLink);
    expect(r.status).toBe(200);
    expect(r.body.value).toEqual([]);
    expect(r.body["@odata.nextLink"]).toBeUndefined();
    expect(typeof r.body["@odata.deltaLink"]).toBe("string");
  });

  it("reports an updated user, a created user, a soft-deleted and a hard-deleted user", async () => {
    const link = await syncFromNow();
    expect(
      emu.upsertUser({
        id: "user-3",
        userPrincipalName: "user3@big.example",
        mobilePhone: "+45 20000003",
      }),
    ).toEqual({ created: false });
    const created = await client.admin("POST", "/users", {
      id: "user-new",
      userPrincipalName: "new@big.example",
      mobilePhone: "+45 29999999",
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({ created: true });
    expect((await client.admin("DELETE", "/users/user-5")).status).toBe(204);
    expect(emu.deleteUser("user-6", { hard: true })).toBe(true);

    const { items } = await finishRound(await follow(link));
    const byId = new Map(items.map((u) => [u.id, u]));
    expect(items).toHaveLength(4);
    expect(byId.get("user-3")).toEqual({
      id: "user-3",
      userPrincipalName: "user3@big.example",
      mobilePhone: "+45 20000003",
      accountEnabled: true,
    });
    expect(byId.get("user-new")).toEqual({
      id: "user-new",
      userPrincipalName: "new@big.example",
      mobilePhone: "+45 29999999",
      accountEnabled: true,
    });
    expect(byId.get("user-5")).toEqual({ id: "user-5", "@removed": { reason: "changed" } });
    expect(byId.get("user-6")).toEqual({ id: "user-6", "@removed": { reason: "deleted" } });
    // Deleted users leave the directory; the created one joins it.
    expect((await client.call("GET", "/v1.0/users/user-5")).status).toBe(404);
    expect((await client.call("GET", "/v1.0/users/user-new")).status).toBe(200);
  });

  it("reports a soft-deleted user restored by an upsert as a whole user again", async () => {
    expect(emu.deleteUser("user-7")).toBe(true);
    const link = await syncFromNow();
    emu.upsertUser({ id: "user-7", userPrincipalName: "user7@big.example" });
    const { items } = await finishRound(await follow(link));
    expect(items).toEqual([
      {
        id: "user-7",
        userPrincipalName: "user7@big.example",
        mobilePhone: null,
        accountEnabled: true,
      },
    ]);
  });

  it("turns a soft delete into a hard delete, and refuses to delete an unknown user", async () => {
    expect(emu.deleteUser("user-8")).toBe(true);
    const link = await syncFromNow();
    expect((await client.admin("DELETE", "/users/user-8?hard=true")).status).toBe(204);
    const { items } = await finishRound(await follow(link));
    expect(items).toEqual([{ id: "user-8", "@removed": { reason: "deleted" } }]);
    expect((await client.admin("DELETE", "/users/user-8")).status).toBe(404);
    expect((await client.admin("DELETE", "/users/nobody")).status).toBe(404);
    expect(emu.deleteUser("nobody", { hard: true })).toBe(false);
  });

  it("does not surface changes to properties outside $select, nor phone-method writes", async () => {
    const link = await syncFromNow("id,mobilePhone");
    emu.upsertUser({
      id: "user-10",
      userPrincipalName: "user10@big.example",
      displayName: "Renamed",
      mobilePhone: "+45 20000010",
    });
    const write = await client.call("POST", "/v1.0/users/user-12/authentication/phoneMethods", {
      body: { phoneNumber: "+45 20000012", phoneType: "mobile" },
    });
    expect(write.status).toBe(201);
    const r = await follow(link);
    expect(r.body.value).toEqual([]);
    // The same change is visible to a round that selected the property.
    const wide = await syncFromNow("id,displayName");
    emu.upsertUser({
      id: "user-10",
      userPrincipalName: "user10@big.example",
      displayName: "Again",
    });
    expect((await follow(wide)).body.value).toEqual([{ id: "user-10", displayName: "Again" }]);
  });

  it("returns only the changed properties with Prefer: return=minimal", async () => {
    const link = await syncFromNow();
    emu.upsertUser({
      id: "user-14",
      userPrincipalName: "user14@big.example",
      mobilePhone: "+45 20000099",
    });
    const r = await follow(link, { Prefer: "return=minimal" });
    expect(r.status).toBe(200);
    expect(r.headers.get("preference-applied")).toBe("return=minimal");
    expect(r.body.value).toEqual([{ id: "user-14", mobilePhone: "+45 20000099" }]);
  });

  it("answers $deltatoken=latest with no users and a deltaLink that reports later changes", async () => {
    const r = await client.call("GET", `/v1.0/users/delta?$select=${SELECT}&$deltatoken=latest`);
    expect(r.status).toBe(200);
    expect(r.body.value).toEqual([]);
    expect(r.body["@odata.nextLink"]).toBeUndefined();
    expect(await follow(r.body["@odata.deltaLink"] as string).then((a) => a.body.value)).toEqual(
      [],
    );
    emu.deleteUser("user-16");
    expect((await follow(r.body["@odata.deltaLink"] as string)).body.value).toEqual([
      { id: "user-16", "@removed": { reason: "changed" } },
    ]);
  });

  it("tracks only the ids of an id filter", async () => {
    const first = await client.call(
      "GET",
      `/v1.0/users/delta?$select=id,mobilePhone&$filter=${encodeURIComponent("id eq 'user-20' or id eq 'user-22'")}`,
    );
    const { items, deltaLink } = await finishRound(first);
    expect(items.map((u) => u.id)).toEqual(["user-20", "user-22"]);
    emu.upsertUser({
      id: "user-21",
      userPrincipalName: "user21@big.example",
      mobilePhone: "+45 21",
    });
    emu.upsertUser({
      id: "user-22",
      userPrincipalName: "user22@big.example",
      mobilePhone: "+45 22",
    });
    expect((await follow(deltaLink)).body.value).toEqual([
      { id: "user-22", mobilePhone: "+45 22" },
    ]);
  });

  it("reports in the next delta a change made during a first round to a user already sent", async () => {
    const first = await client.call("GET", "/v1.0/users/delta?$select=id,mobilePhone");
    expect((first.body.value as { id: string }[]).some((u) => u.id === "user-40")).toBe(true);
    emu.upsertUser({
      id: "user-40",
      userPrincipalName: "user40@big.example",
      mobilePhone: "+45 40",
    });
    const { deltaLink } = await finishRound(first);
    expect((await follow(deltaLink)).body.value).toEqual([
      { id: "user-40", mobilePhone: "+45 40" },
    ]);
  });

  it("refuses an id filter of more than 50 ids", async () => {
    const ids = Array.from({ length: 51 }, (_, i) => `id eq 'user-${i}'`).join(" or ");
    expectEnvelope(
      await client.call("GET", `/v1.0/users/delta?$filter=${encodeURIComponent(ids)}`),
      400,
      "Request_UnsupportedQuery",
    );
  });

  it("never skips a user when the last user sent is deleted in the middle of a first round", async () => {
    const first = await client.call("GET", "/v1.0/users/delta?$select=id");
    const lastSent = (first.body.value as { id: string }[]).at(-1)?.id as string;
    expect(emu.deleteUser(lastSent)).toBe(true);
    const { items } = await finishRound(first);
    const seen = new Set(items.map((u) => u.id));
    for (const u of emu.state().users) {
      expect(seen.has(u.id)).toBe(true);
    }
  });

  it("answers a delta token older than its lifetime with 410, syncStateNotFound and a fresh Location", async () => {
    const link = await syncFromNow("id,mobilePhone");
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 8 * 24 * 3600 * 1000);
      const r = await follow(link);
      expectEnvelope(r, 410, "syncStateNotFound");
      const location = r.headers.get("location") as string;
      expect(location).toBe(`${emu.graphBaseUrl}/v1.0/users/delta?$select=id,mobilePhone`);
      const fresh = await follow(location);
      expect(fresh.status).toBe(200);
      expect(fresh.body.value).toHaveLength(100);
      expect(Object.keys(fresh.body.value[0] as object).sort()).toEqual(["id", "mobilePhone"]);
    } finally {
      vi.useRealTimers();
    }
  });

  it("answers a garbage delta or skip token with 400", async () => {
    const bad = await client.call("GET", "/v1.0/users/delta?$deltatoken=not-a-token");
    expectEnvelope(bad, 400, "Request_BadRequest");
    const forged = Buffer.from(JSON.stringify({ v: 1, k: "d", from: 1e9, to: 1e9, o: 0 })).toString(
      "base64url",
    );
    expectEnvelope(
      await client.call("GET", `/v1.0/users/delta?$deltatoken=${forged}`),
      400,
      "Request_BadRequest",
    );
    expectEnvelope(
      await client.call("GET", "/v1.0/users/delta?$skiptoken=eyJ4IjoxfQ"),
      400,
      "Request_BadRequest",
    );
  });

  it("refuses $top, $orderby, $expand and filters other than id eq with 400", async () => {
    for (const q of ["$top=10", "$orderby=displayName", "$expand=manager"]) {
      expectEnvelope(await client.call("GET", `/v1.0/users/delta?${q}`), 400, "Request_BadRequest");
    }
    const filter = encodeURIComponent("mobilePhone eq '+45 1'");
    expectEnvelope(
      await client.call("GET", `/v1.0/users/delta?$filter=${filter}`),
      400,
      "Request_UnsupportedQuery",
    );
  });

  it("answers 403 Authorization_RequestDenied without a user-read role", async () => {
    const token = emu.issueToken({ roles: ["UserAuthenticationMethod.ReadWrite.All"] });
    const r = await client.call("GET", "/v1.0/users/delta", { token });
    expectEnvelope(r, 403, "Authorization_RequestDenied");
  });

  it("counts delta requests under their own route in the metrics", async () => {
    emu.resetMetrics();
    await client.call("GET", "/v1.0/users/delta?$deltatoken=latest");
    await client.call("GET", "/v1.0/users/delta?$top=5");
    const route = emu.metrics().byRoute["users.delta"];
    expect(route?.requests).toBe(2);
    expect(route?.statuses).toEqual({ "200": 1, "400": 1 });
  });

  it("refuses an admin upsert that does not match the fixture schema", async () => {
    const r = await client.admin("POST", "/users", { id: "x" });
    expect(r.status).toBe(400);
    expect(() =>
      emu.upsertUser({ id: "user-30", userPrincipalName: "user31@big.example" }),
    ).toThrow(/user31@big\.example/);
  });
});
