import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const JSON_HEADERS = { "Content-Type": "application/json" };

describe("$batch", () => {
  let emu: EmulatorHandle | undefined;
  let client: GraphTestClient;

  async function fresh(config = {}) {
    if (emu) {
      await client.close();
      await emu.close();
    }
    emu = await startEmulator({ tenant: smallTenant(), config });
    client = new GraphTestClient(emu);
  }
  beforeEach(async () => {
    await fresh();
  });
  afterAll(async () => {
    await client.close();
    await emu?.close();
  });

  const batch = (requests: unknown, token?: string | null) =>
    client.call("POST", "/v1.0/$batch", { body: { requests }, token });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked field by field.
  type Item = { id: string; status: number; headers: Record<string, string>; body?: any };
  const byId = (body: { responses: Item[] }): Record<string, Item> =>
    Object.fromEntries(body.responses.map((r) => [r.id, r]));

  it("evaluates each item separately and answers 200 with per-item status, headers and body", async () => {
    const r = await batch([
      {
        id: "1",
        method: "POST",
        url: "/users/u1/authentication/phoneMethods",
        headers: JSON_HEADERS,
        body: { phoneNumber: "+45 20123456", phoneType: "mobile" },
      },
      {
        id: "2",
        method: "POST",
        url: "users/u2/authentication/phoneMethods",
        headers: JSON_HEADERS,
        body: { phoneNumber: "+1 2065550999", phoneType: "mobile" },
      },
      { id: "3", method: "GET", url: "/users/ghost" },
      { id: "4", method: "GET", url: "/users?$select=id&$top=1" },
    ]);
    expect(r.status).toBe(200);
    const items = byId(r.body);
    expect(items["1"]?.status).toBe(201);
    expect(items["1"]?.body.id).toBe("3179e48a-750b-4051-897c-87b9720928f7");
    expect(items["2"]?.status).toBe(400);
    expect(items["3"]?.status).toBe(404);
    expect(items["3"]?.body.error.code).toBe("Request_ResourceNotFound");
    expect(items["4"]?.body.value).toEqual([{ id: "u1" }]);
    expect(items["4"]?.headers["Content-Type"]).toContain("application/json");
    const m = emu?.metrics();
    expect(m?.requests).toBe(4);
    expect(m?.writes).toBe(1);
    expect(m?.batches).toBe(1);
  });

  it("accepts 20 items and rejects 21 for the whole batch", async () => {
    const items = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ id: String(i + 1), method: "GET", url: "/users/u1" }));
    const ok = await batch(items(20));
    expect(ok.body.responses).toHaveLength(20);
    expectEnvelope(await batch(items(21)), 400, "BadRequest");
    expect(emu?.metrics().requests).toBe(20);
  });

  it("rejects duplicate ids, malformed JSON, a missing requests array and bad items with 400", async () => {
    expectEnvelope(
      await batch([
        { id: "a", method: "GET", url: "/users" },
        { id: "A", method: "GET", url: "/users" },
      ]),
      400,
      "BadRequest",
    );
    expectEnvelope(await client.call("POST", "/v1.0/$batch", { body: "{oops" }), 400, "BadRequest");
    expectEnvelope(
      await client.call("POST", "/v1.0/$batch", { body: { nope: [] } }),
      400,
      "BadRequest",
    );
    expectEnvelope(await batch([]), 400, "BadRequest");
    expectEnvelope(await batch([{ id: 1, method: "GET", url: "/users" }]), 400, "BadRequest");
    expectEnvelope(
      await batch([{ id: "1", method: "GET", url: "/users", dependsOn: ["9"] }]),
      400,
      "BadRequest",
    );
    expectEnvelope(
      await batch([
        { id: "1", method: "GET", url: "/users", dependsOn: ["2"] },
        { id: "2", method: "GET", url: "/users", dependsOn: ["1"] },
      ]),
      400,
      "BadRequest",
    );
    expectEnvelope(await client.call("GET", "/v1.0/$batch"), 405, "Request_BadRequest");
  });

  it("answers 401 for the whole batch without a valid token", async () => {
    expectEnvelope(
      await batch([{ id: "1", method: "GET", url: "/users" }], null),
      401,
      "InvalidAuthenticationToken",
    );
  });

  it("answers per-item 400 for absolute urls, a body without Content-Type and unknown routes", async () => {
    const r = await batch([
      { id: "1", method: "GET", url: "https://graph.microsoft.com/v1.0/users" },
      {
        id: "2",
        method: "POST",
        url: "/users/u1/authentication/phoneMethods",
        body: { phoneNumber: "+45 20123456", phoneType: "mobile" },
      },
      { id: "3", method: "GET", url: "/devices" },
    ]);
    const items = byId(r.body);
    expect([items["1"]?.status, items["2"]?.status, items["3"]?.status]).toEqual([400, 400, 400]);
  });

  it("applies roles per item", async () => {
    const token = emu?.issueToken({ roles: ["User.Read.All"] });
    const r = await batch(
      [
        { id: "1", method: "GET", url: "/users/u1" },
        { id: "2", method: "GET", url: "/users/u1/authentication/phoneMethods" },
      ],
      token,
    );
    const items = byId(r.body);
    expect(items["1"]?.status).toBe(200);
    expect(items["2"]?.status).toBe(403);
    expect(items["2"]?.body.error.code).toBe("accessDenied");
  });

  it("runs dependsOn in order and answers 424 when the dependency failed", async () => {
    const r = await batch([
      {
        id: "1",
        method: "POST",
        url: "/users/u1/authentication/phoneMethods",
        headers: JSON_HEADERS,
        body: { phoneNumber: "+45 20123456", phoneType: "mobile" },
      },
      {
        id: "2",
        method: "POST",
        url: "/users/u1/authentication/phoneMethods",
        headers: JSON_HEADERS,
        body: { phoneNumber: "+45 20123457", phoneType: "alternateMobile" },
        dependsOn: ["1"],
      },
      { id: "3", method: "GET", url: "/users/ghost" },
      { id: "4", method: "GET", url: "/users/u1", dependsOn: ["3"] },
    ]);
    const items = byId(r.body);
    expect(items["1"]?.status).toBe(201);
    expect(items["2"]?.status).toBe(201);
    expect(items["4"]?.status).toBe(424);
  });

  it("throttles items individually with Retry-After in the item headers while the batch stays 200", async () => {
    await fresh({ writeQuota: 3, writeQuotaWindowSeconds: 150 });
    const requests = Array.from({ length: 5 }, (_, i) => ({
      id: String(i + 1),
      method: "POST",
      url: `/users/u${i + 1}/authentication/phoneMethods`,
      headers: JSON_HEADERS,
      body: { phoneNumber: `+45 2012345${i}`, phoneType: "office" },
    }));
    const r = await batch(requests);
    expect(r.status).toBe(200);
    const throttled = r.body.responses.filter((x: { status: number }) => x.status === 429);
    expect(throttled).toHaveLength(2);
    expect(Number(throttled[0].headers["Retry-After"])).toBeGreaterThanOrEqual(1);
    expect(throttled[0].body.error.code).toBe("TooManyRequests");
    expect(emu?.metrics().throttled).toBe(2);
  });
});
