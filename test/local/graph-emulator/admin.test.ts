import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import {
  PROFILES,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import { drawLatency } from "../../../local/graph-emulator/policies/latency.js";
import { Prng } from "../../../local/graph-emulator/policies/random.js";
import { mergeConfig } from "../../../local/graph-emulator/config.js";
import { GraphTestClient, smallTenant } from "./helpers.js";

describe("admin API", () => {
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

  it("writes the CA PEM to caCertPath and serves Graph over https signed by it", async () => {
    expect(readFileSync(emu.caCertPath, "utf8")).toBe(emu.caCertPem);
    expect(emu.graphBaseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(emu.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/admin$/);
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
  });

  it("returns users and their phone methods from GET /state", async () => {
    await client.call("POST", "/v1.0/users/u1/authentication/phoneMethods", {
      body: { phoneNumber: "+45 20123456", phoneType: "mobile" },
    });
    const r = await client.admin("GET", "/state");
    expect(r.status).toBe(200);
    expect(r.body.users).toHaveLength(6);
    expect(r.body.users[0]).toEqual({
      id: "u1",
      userPrincipalName: "alice@contoso.example",
      phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 20123456" }],
      emailMethods: [],
    });
    expect(r.body).toEqual(emu.state());
  });

  it("counts requests, writes and routes in GET /metrics and starts over on reset-metrics", async () => {
    expect((await client.admin("POST", "/reset-metrics")).status).toBe(204);
    await client.call("GET", "/v1.0/users");
    await client.call("POST", "/v1.0/users/u4/authentication/phoneMethods", {
      body: { phoneNumber: "+45 20123499", phoneType: "mobile" },
    });
    await client.call("POST", "/v1.0/users/u4/authentication/phoneMethods", {
      body: { phoneNumber: "+45 20123499", phoneType: "mobile" },
    });
    const m = (await client.admin("GET", "/metrics")).body;
    expect(m).toMatchObject({ requests: 3, throttled: 0, writes: 1 });
    expect(m.byRoute["users.list"].requests).toBe(1);
    expect(m.byRoute["phoneMethods.create"]).toMatchObject({
      requests: 2,
      writes: 1,
      statuses: { "201": 1, "400": 1 },
    });
    expect(m.timeSeries.reduce((n: number, s: { requests: number }) => n + s.requests, 0)).toBe(3);
    emu.resetMetrics();
    expect(emu.metrics().requests).toBe(0);
  });

  it("changes the config at runtime with POST /config and refuses unknown keys and bad JSON", async () => {
    const r = await client.admin("POST", "/config", { createStatus: 200 });
    expect(r.status).toBe(200);
    expect(emu.config.createStatus).toBe(200);
    const created = await client.call("POST", "/v1.0/users/u5/authentication/phoneMethods", {
      body: { phoneNumber: "+44 7700900123", phoneType: "mobile" },
    });
    expect(created.status).toBe(200);
    expect((await client.admin("POST", "/config", { nope: 1 })).status).toBe(400);
    expect((await client.admin("POST", "/config", { timeScale: 0 })).status).toBe(400);
    const bad = await fetch(`${emu.adminUrl}/config`, { method: "POST", body: "{" });
    expect(bad.status).toBe(400);
    expect(emu.config.timeScale).toBe(1);
  });

  it("revokes tokens with POST /revoke-tokens", async () => {
    const token = emu.issueToken();
    expect((await client.admin("POST", "/revoke-tokens")).status).toBe(204);
    expect((await client.call("GET", "/v1.0/users", { token })).status).toBe(401);
  });

  it("answers 404 for unknown admin routes", async () => {
    expect((await client.admin("GET", "/nope")).status).toBe(404);
    expect((await client.admin("DELETE", "/state")).status).toBe(404);
  });
});

describe("profiles and config", () => {
  it("keeps fast free of latency and faults and gives realistic the measured create latency", () => {
    expect(PROFILES.fast.defaultLatency.meanMs).toBe(0);
    expect(
      PROFILES.fast.fault503Rate + PROFILES.fast.fault504Rate + PROFILES.fast.faultResetRate,
    ).toBe(0);
    expect(PROFILES.realistic.latency["phoneMethods.create"]).toEqual({
      meanMs: 1860,
      p99Ms: 2900,
    });
    expect(PROFILES.hostile.tokenLifetimeSeconds).toBeLessThan(
      PROFILES.hostile.advertisedTokenLifetimeSeconds,
    );
    expect(PROFILES.realistic.grantedRoles).toEqual([
      "UserAuthenticationMethod.ReadWrite.All",
      "User.Read.All",
      "GroupMember.Read.All",
      "AuditLog.Read.All",
      "RoleManagement.Read.Directory",
      "Directory.Read.All",
      "Policy.Read.AuthenticationMethod",
      "Domain.Read.All",
    ]);
  });

  it("draws latencies whose mean and p99 match the configured distribution", () => {
    const prng = new Prng(3);
    const xs = Array.from({ length: 20_000 }, () => drawLatency(prng, 1860, 2900)).sort(
      (a, b) => a - b,
    );
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 1860) / 1860).toBeLessThan(0.03);
    expect(Math.abs((xs[Math.floor(xs.length * 0.99)] ?? 0) - 2900) / 2900).toBeLessThan(0.05);
  });

  it("rejects unknown keys, a non-positive timeScale, rates outside 0..1 and a bad phone pattern", () => {
    expect(() => mergeConfig(PROFILES.fast, { bogus: 1 } as never)).toThrow(
      /unknown config key 'bogus'/,
    );
    expect(() => mergeConfig(PROFILES.fast, { timeScale: -1 })).toThrow(RangeError);
    expect(() => mergeConfig(PROFILES.fast, { fault503Rate: 2 })).toThrow(RangeError);
    expect(() => mergeConfig(PROFILES.fast, { phoneNumberPattern: "(" })).toThrow();
  });
});
