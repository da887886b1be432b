import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { GraphTestClient, bigTenant, expectEnvelope, smallTenant } from "./helpers.js";

const EVENTUAL = { ConsistencyLevel: "eventual" };

describe("users", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    emu = await startEmulator({ tenant: smallTenant() });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("returns the documented default properties without $select (no accountEnabled or userType)", async () => {
    const r = await client.call("GET", "/v1.0/users?$top=1");
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.value[0]).sort()).toEqual(
      [
        "businessPhones",
        "displayName",
        "givenName",
        "id",
        "jobTitle",
        "mail",
        "mobilePhone",
        "officeLocation",
        "preferredLanguage",
        "surname",
        "userPrincipalName",
      ].sort(),
    );
    expect(r.headers.get("request-id")).toBeTruthy();
  });

  it("returns only the selected properties with $select", async () => {
    const r = await client.call("GET", "/v1.0/users?$select=id,accountEnabled,userType");
    expect(r.body.value[2]).toEqual({ id: "u3", accountEnabled: false, userType: "Member" });
    expect(r.body.value).toHaveLength(6);
    expect(r.body["@odata.nextLink"]).toBeUndefined();
  });

  it("rejects an unknown $select property with 400", async () => {
    expectEnvelope(
      await client.call("GET", "/v1.0/users?$select=id,shoeSize"),
      400,
      "Request_BadRequest",
    );
  });

  it("rejects $top outside 1..999 with the documented message", async () => {
    for (const top of ["0", "1000", "-1", "abc"]) {
      const r = await client.call("GET", `/v1.0/users?$top=${top}`);
      expectEnvelope(r, 400, "Request_BadRequest");
      expect(r.body.error.message).toBe(
        `Invalid page size specified: '${top}'. Must be between 1 and 999 inclusive.`,
      );
    }
  });

  it("filters on accountEnabled and userType without advanced parameters", async () => {
    const enabled = await client.call(
      "GET",
      "/v1.0/users?$filter=accountEnabled eq false&$select=id",
    );
    expect(enabled.body.value).toEqual([{ id: "u3" }]);
    const guests = await client.call(
      "GET",
      "/v1.0/users?$filter=userType eq 'Guest' and accountEnabled eq true&$select=id",
    );
    expect(guests.body.value).toEqual([{ id: "u4" }]);
  });

  it("requires ConsistencyLevel eventual and $count=true for mobilePhone and ne filters", async () => {
    const f =
      "$filter=" +
      encodeURIComponent("accountEnabled eq true and mobilePhone ne null") +
      "&$select=id";
    expectEnvelope(await client.call("GET", `/v1.0/users?${f}`), 400, "Request_UnsupportedQuery");
    expectEnvelope(
      await client.call("GET", `/v1.0/users?${f}`, { headers: EVENTUAL }),
      400,
      "Request_UnsupportedQuery",
    );
    expectEnvelope(
      await client.call("GET", `/v1.0/users?${f}&$count=true`),
      400,
      "Request_UnsupportedQuery",
    );
    const ok = await client.call("GET", `/v1.0/users?${f}&$count=true`, { headers: EVENTUAL });
    expect(ok.status).toBe(200);
    expect(ok.body.value.map((u: { id: string }) => u.id)).toEqual(["u1", "u5"]);
    expect(ok.body["@odata.count"]).toBe(2);
    const eqNull = await client.call(
      "GET",
      "/v1.0/users?$filter=mobilePhone eq null&$count=true&$select=id",
      { headers: EVENTUAL },
    );
    expect(eqNull.body.value.map((u: { id: string }) => u.id)).toEqual(["u2", "u4", "u6"]);
  });

  it("rejects $count=true without the ConsistencyLevel header even without a filter", async () => {
    const r = await client.call("GET", "/v1.0/users?$count=true");
    expectEnvelope(r, 400, "Request_BadRequest");
    expect(r.body.error.message).toBe("$count is not currently supported.");
  });

  it("sends @odata.count on page 1 only and does not imply the header on the nextLink", async () => {
    const first = await client.call(
      "GET",
      "/v1.0/users?$filter=mobilePhone ne null&$count=true&$top=1&$select=id",
      { headers: EVENTUAL },
    );
    expect(first.body["@odata.count"]).toBe(3);
    const next: string = first.body["@odata.nextLink"];
    expect(next).toContain("$skiptoken=");
    const path = next.slice(emu.graphBaseUrl.length);
    const second = await client.call("GET", path, { headers: EVENTUAL });
    expect(second.status).toBe(200);
    expect(second.body["@odata.count"]).toBeUndefined();
    expect(second.body.value).toEqual([{ id: "u3" }]);
    expectEnvelope(await client.call("GET", path), 400, "Request_UnsupportedQuery");
  });

  it("rejects an unsupported filter property, bad syntax and a forged skiptoken with 400", async () => {
    expectEnvelope(
      await client.call("GET", "/v1.0/users?$filter=shoeSize eq 4"),
      400,
      "Request_UnsupportedQuery",
    );
    expectEnvelope(
      await client.call("GET", "/v1.0/users?$filter=accountEnabled eq"),
      400,
      "Request_BadRequest",
    );
    expectEnvelope(
      await client.call("GET", "/v1.0/users?$filter=accountEnabled eq 'yes'"),
      400,
      "Request_BadRequest",
    );
    expectEnvelope(
      await client.call("GET", "/v1.0/users?$filter=(accountEnabled eq true"),
      400,
      "Request_BadRequest",
    );
    expectEnvelope(
      await client.call("GET", "/v1.0/users?$skiptoken=not-a-token"),
      400,
      "Request_BadRequest",
    );
    expectEnvelope(await client.call("GET", "/v1.0/users?$skip=2"), 400, "Request_BadRequest");
  });

  it("gets a user by id or by URL-encoded UPN with quotes and unicode", async () => {
    expect((await client.call("GET", "/v1.0/users/u1")).body.userPrincipalName).toBe(
      "alice@contoso.example",
    );
    const quoted = await client.call(
      "GET",
      `/v1.0/users/${encodeURIComponent("o'brien@contoso.example")}`,
    );
    expect(quoted.body.id).toBe("u4");
    const unicode = await client.call(
      "GET",
      `/v1.0/users/${encodeURIComponent("ZOË.ünïcode@contoso.example")}?$select=id`,
    );
    expect(unicode.body).toMatchObject({ id: "u5" });
  });

  it("answers 404 Request_ResourceNotFound for an unknown user and 400 for a broken escape", async () => {
    expectEnvelope(
      await client.call("GET", "/v1.0/users/nobody@contoso.example"),
      404,
      "Request_ResourceNotFound",
    );
    expectEnvelope(await client.call("GET", "/v1.0/users/%E0%A4%A"), 400, "BadRequest");
  });

  it("serves the same routes under /beta and rejects an unknown version", async () => {
    expect((await client.call("GET", "/beta/users/u1")).status).toBe(200);
    expectEnvelope(await client.call("GET", "/v2.0/users/u1"), 400, "BadRequest");
  });

  it("answers unknown segments with 400 BadRequest and wrong methods with 405", async () => {
    const unknown = await client.call("GET", "/v1.0/devices");
    expectEnvelope(unknown, 400, "BadRequest");
    expect(unknown.body.error.message).toBe("Resource not found for the segment 'devices'.");
    expectEnvelope(await client.call("GET", "/v1.0/users/u1/manager"), 400, "BadRequest");
    expectEnvelope(await client.call("GET", "/"), 400, "BadRequest");
    const wrong = await client.call("DELETE", "/v1.0/users");
    expectEnvelope(wrong, 405, "Request_BadRequest");
    expect(wrong.headers.get("allow")).toBe("GET");
    expectEnvelope(await client.call("GET", "/v1.0/me"), 400, "BadRequest");
  });
});

describe("groups", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    emu = await startEmulator({ tenant: smallTenant() });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("finds a group by displayName with OData quote escaping", async () => {
    const f = encodeURIComponent("displayName eq 'O''Brien''s team'");
    const r = await client.call("GET", `/v1.0/groups?$filter=${f}&$select=id,displayName`);
    expect(r.body.value).toEqual([{ id: "g-quote", displayName: "O'Brien's team" }]);
    const none = await client.call(
      "GET",
      `/v1.0/groups?$filter=${encodeURIComponent("displayName eq 'Nope'")}`,
    );
    expect(none.body.value).toEqual([]);
  });

  it("rejects a bad group filter with 400", async () => {
    expectEnvelope(
      await client.call(
        "GET",
        `/v1.0/groups?$filter=${encodeURIComponent("displayName eq 'unterminated")}`,
      ),
      400,
      "Request_BadRequest",
    );
    expectEnvelope(
      await client.call("GET", `/v1.0/groups?$filter=${encodeURIComponent("mailNickname eq 'x'")}`),
      400,
      "Request_UnsupportedQuery",
    );
  });

  it("resolves nested groups and cycles into each user once", async () => {
    const r = await client.call(
      "GET",
      "/v1.0/groups/g-staging/transitiveMembers/microsoft.graph.user?$select=id,accountEnabled",
    );
    expect(r.status).toBe(200);
    const ids = r.body.value.map((u: { id: string }) => u.id).sort();
    expect(ids).toEqual(["u1", "u2", "u3"]);
    expect(r.body.value[0]["@odata.type"]).toBe("#microsoft.graph.user");
    const withHeader = await client.call(
      "GET",
      "/v1.0/groups/g-staging/transitiveMembers/microsoft.graph.user?$count=true",
      { headers: EVENTUAL },
    );
    expect(withHeader.body["@odata.count"]).toBe(3);
    const empty = await client.call(
      "GET",
      "/v1.0/groups/g-empty/transitiveMembers/microsoft.graph.user",
    );
    expect(empty.body.value).toEqual([]);
  });

  it("pages transitive members with $top and nextLink", async () => {
    const first = await client.call(
      "GET",
      "/v1.0/groups/g-staging/transitiveMembers/microsoft.graph.user?$top=2&$select=id",
    );
    expect(first.body.value).toHaveLength(2);
    const second = await client.call(
      "GET",
      first.body["@odata.nextLink"].slice(emu.graphBaseUrl.length),
    );
    expect(second.body.value).toHaveLength(1);
    expect(second.body["@odata.nextLink"]).toBeUndefined();
    expectEnvelope(
      await client.call(
        "GET",
        "/v1.0/groups/g-staging/transitiveMembers/microsoft.graph.user?$top=1000",
      ),
      400,
      "Request_BadRequest",
    );
  });

  it("answers 404 for an unknown group and 400 for a bad cast segment", async () => {
    expectEnvelope(
      await client.call("GET", "/v1.0/groups/nope/transitiveMembers/microsoft.graph.user"),
      404,
      "Request_ResourceNotFound",
    );
    expectEnvelope(
      await client.call("GET", "/v1.0/groups/g-staging/transitiveMembers/microsoft.graph.device"),
      400,
      "Request_BadRequest",
    );
  });
});

describe("paging a large tenant", () => {
  it("pages 20,000 users at 999 per page, each user once, with the filter applied", async () => {
    const emu = await startEmulator({ tenant: bigTenant(20_000) });
    const client = new GraphTestClient(emu);
    const seen = new Set<string>();
    let path: string | undefined =
      "/v1.0/users?$select=id,mobilePhone&$filter=accountEnabled eq true&$top=999";
    let pages = 0;
    while (path) {
      const r = await client.call("GET", path);
      expect(r.status).toBe(200);
      for (const u of r.body.value) {
        seen.add(u.id);
      }
      pages++;
      path = r.body["@odata.nextLink"]?.slice(emu.graphBaseUrl.length);
    }
    expect(seen.size).toBe(18_000);
    expect(pages).toBe(Math.ceil(18_000 / 999));
    await client.close();
    await emu.close();
  });
});
