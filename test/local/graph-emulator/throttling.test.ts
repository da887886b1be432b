import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fetch } from "undici";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PHONE = (user: string, phoneType = "office") => ({
  body: { phoneNumber: "+45 33123456", phoneType },
  path: `/v1.0/users/${user}/authentication/phoneMethods`,
});

describe("throttling", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    emu = await startEmulator({ tenant: smallTenant() });
    client = new GraphTestClient(emu);
  });
  afterEach(() => {
    // Back to the fast profile with fresh, full buckets.
    emu.setConfig({
      timeScale: 1,
      resourceUnitQuota: 1e9,
      writeQuota: 1e9,
      reportsQuota: 1e9,
      phoneWriteQuotaModel: "directory",
      storm: { periodSeconds: 0, durationSeconds: 0 },
      throttleLimitPercentageHeader: "above80",
    });
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("answers 429 with Retry-After and x-ms-throttle headers once the RU bucket is empty, and recovers after waiting", async () => {
    // 10 RU per 10 real seconds: refill is slow next to six requests, yet recovery takes ~2 s.
    emu.setConfig({ timeScale: 0.05, resourceUnitQuota: 10, resourceUnitWindowSeconds: 200 });
    const statuses: number[] = [];
    let throttled;
    for (let i = 0; i < 6; i++) {
      const r = await client.call("GET", "/v1.0/users");
      statuses.push(r.status);
      if (r.status === 429) {
        throttled = r;
      } else {
        expect(r.headers.get("x-ms-resource-unit")).toBe("2");
      }
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    expectEnvelope(throttled!, 429, "TooManyRequests");
    const retryAfter = Number(throttled!.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter) && retryAfter >= 1).toBe(true);
    expect(throttled!.headers.get("x-ms-throttle-scope")).toBe(
      `Tenant_Application/Read/${emu.appId}/${emu.tenantId}`,
    );
    expect(throttled!.headers.get("x-ms-throttle-information")).toBe("ResourceUnitLimitExceeded");
    expect(throttled!.body.error.innerError.status).toBe("429");
    await wait(retryAfter * 1000);
    expect((await client.call("GET", "/v1.0/users")).status).toBe(200);
    expect(emu.metrics().throttled).toBeGreaterThanOrEqual(1);
  });

  it("charges less for $select and small $top, as documented", async () => {
    const r = await client.call(
      "GET",
      "/v1.0/groups/g-staging/transitiveMembers/microsoft.graph.user?$select=id&$top=5",
    );
    expect(r.headers.get("x-ms-resource-unit")).toBe("3");
    const u = await client.call("GET", "/v1.0/users?$select=id");
    expect(u.headers.get("x-ms-resource-unit")).toBe("1");
  });

  it("applies the write quota to phone-method writes with WriteLimitExceeded and recovers", async () => {
    emu.setConfig({ timeScale: 0.05, writeQuota: 2, writeQuotaWindowSeconds: 40 });
    const a = await client.call("POST", PHONE("u1").path, { body: PHONE("u1").body });
    const b = await client.call("POST", PHONE("u2").path, { body: PHONE("u2").body });
    const c = await client.call("POST", PHONE("u4").path, { body: PHONE("u4").body });
    expect([a.status, b.status, c.status]).toEqual([201, 201, 429]);
    expect(c.headers.get("x-ms-throttle-information")).toBe("WriteLimitExceeded");
    expect(c.headers.get("x-ms-throttle-scope")).toContain("Tenant_Application/Write/");
    expect(emu.state().users[3]?.phoneMethods).toEqual([]);
    // Reads are not writes: they still pass while the write bucket is empty.
    expect((await client.call("GET", "/v1.0/users/u4/authentication/phoneMethods")).status).toBe(
      200,
    );
    await wait(Number(c.headers.get("retry-after")) * 1000);
    expect((await client.call("POST", PHONE("u4").path, { body: PHONE("u4").body })).status).toBe(
      201,
    );
  });

  it("scales Retry-After with timeScale and never sends 0", async () => {
    emu.setConfig({ timeScale: 1, writeQuota: 1, writeQuotaWindowSeconds: 150 });
    await client.call("POST", PHONE("u5").path, { body: PHONE("u5").body });
    const slow = await client.call("POST", PHONE("u6").path, { body: PHONE("u6").body });
    expect(slow.headers.get("retry-after")).toBe("150");
    emu.setConfig({ timeScale: 0.001, writeQuota: 1, writeQuotaWindowSeconds: 150 });
    await wait(200);
    await client.call(
      "DELETE",
      `/v1.0/users/u5/authentication/phoneMethods/e37fc753-ff3b-4958-9484-eaa9425c82bc`,
    );
    const fast = await client.call(
      "DELETE",
      `/v1.0/users/u6/authentication/phoneMethods/e37fc753-ff3b-4958-9484-eaa9425c82bc`,
    );
    expect(fast.status).toBe(429);
    expect(fast.headers.get("retry-after")).toBe("1");
  });

  it("counts phone-method requests against the reports quota in the reports model", async () => {
    emu.setConfig({
      phoneWriteQuotaModel: "reports",
      reportsQuota: 2,
      reportsQuotaWindowSeconds: 10,
    });
    const s1 = (await client.call("GET", "/v1.0/users/u2/authentication/phoneMethods")).status;
    const s2 = (await client.call("GET", "/v1.0/users/u2/authentication/phoneMethods")).status;
    const third = await client.call("GET", "/v1.0/users/u2/authentication/phoneMethods");
    expect([s1, s2, third.status]).toEqual([200, 200, 429]);
    expect(third.headers.get("retry-after")).toBe("5");
    expect((await client.call("GET", "/v1.0/users/u2")).status).toBe(200);
  });

  it("sends x-ms-throttle-limit-percentage only above 0.8 of a limit by default", async () => {
    emu.setConfig({ resourceUnitQuota: 10, resourceUnitWindowSeconds: 1000 });
    const seen: (string | null)[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push(
        (await client.call("GET", "/v1.0/users")).headers.get("x-ms-throttle-limit-percentage"),
      );
    }
    expect(seen.slice(0, 4)).toEqual([null, null, null, null]);
    expect(Number(seen[4])).toBeGreaterThan(0.8);
    emu.setConfig({ resourceUnitQuota: 1e9, throttleLimitPercentageHeader: "never" });
  });

  it("throttles everything during a storm", async () => {
    emu.setConfig({ timeScale: 1, storm: { periodSeconds: 0.3, durationSeconds: 0.25 } });
    // Storms begin one period after start; this emulator has been up longer than that. Calls
    // for longer than a period, so that a few quick ones cannot all fall between two storms.
    const statuses = new Set<number>();
    const until = Date.now() + 700;
    while (Date.now() < until && !statuses.has(429)) {
      statuses.add((await client.call("GET", "/v1.0/users/u1")).status);
    }
    expect(statuses.has(429)).toBe(true);
  });
});

describe("faults", () => {
  let emu: EmulatorHandle | undefined;
  let client: GraphTestClient;
  afterEach(async () => {
    await client.close();
    await emu?.close();
    emu = undefined;
  });

  async function start(config: object) {
    emu = await startEmulator({ tenant: smallTenant(), config });
    client = new GraphTestClient(emu);
    return emu;
  }

  it("injects 503 with Retry-After and 504 with the Graph envelope", async () => {
    await start({ fault503Rate: 1 });
    const r = await client.call("GET", "/v1.0/users");
    expectEnvelope(r, 503, "serviceNotAvailable");
    expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    emu?.setConfig({ fault503Rate: 0, fault504Rate: 1 });
    expect((await client.call("GET", "/v1.0/users")).status).toBe(504);
  });

  it("resets the connection of top-level requests and turns resets into 504 inside a batch", async () => {
    const e = await start({ faultResetRate: 1 });
    await expect(
      fetch(`${e.graphBaseUrl}/v1.0/users`, {
        headers: { authorization: `Bearer ${e.issueToken()}` },
        dispatcher: client.agent,
      }),
    ).rejects.toThrow();
    const batch = await client.call("POST", "/v1.0/$batch", {
      body: { requests: [{ id: "1", method: "GET", url: "/users" }] },
    });
    expect(batch.status).toBe(200);
    expect(batch.body.responses[0].status).toBe(504);
    expect(e.metrics().resets).toBe(1);
  }, 20_000);

  it("applies a write before failing it when faultAfterWrite is on, so clients must reconcile", async () => {
    const e = await start({ fault503Rate: 1, faultAfterWrite: true });
    const r = await client.call("POST", PHONE("u1", "mobile").path, {
      body: PHONE("u1", "mobile").body,
    });
    expect(r.status).toBe(503);
    expect(e.state().users[0]?.phoneMethods).toEqual([
      { phoneType: "mobile", phoneNumber: "+45 33123456" },
    ]);
    expect(e.metrics().writes).toBe(1);
  });

  it("draws the same faults for the same seed", async () => {
    const run = async (seed: number) => {
      const e = await start({ fault503Rate: 0.3, fault504Rate: 0.2, seed });
      const out: number[] = [];
      for (let i = 0; i < 20; i++) {
        out.push((await client.call("GET", "/v1.0/users/u1")).status);
      }
      await client.close();
      await e.close();
      emu = undefined;
      return out;
    };
    const a = await run(7);
    const b = await run(7);
    const c = await run(8);
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(new Set(a).size).toBeGreaterThan(1);
    emu = await startEmulator({ tenant: smallTenant() });
    client = new GraphTestClient(emu);
  });
});
