/**
 * Outages: Graph down for a while (503 with Retry-After, or connection resets), started by the
 * admin API or scheduled by config, with the requests that arrive meanwhile counted apart.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../../local/graph-emulator/config.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const JSON_HEADERS = { "Content-Type": "application/json" };

let emu: EmulatorHandle | undefined;
let client: GraphTestClient;

async function start(config: Partial<EmulatorConfig> = {}): Promise<void> {
  emu = await startEmulator({ tenant: smallTenant(), config });
  client = new GraphTestClient(emu);
}

afterEach(async () => {
  await client?.close();
  await emu?.close();
  emu = undefined;
});

const createOffice = (user: string) =>
  client.call("POST", `/v1.0/users/${user}/authentication/phoneMethods`, {
    body: { phoneNumber: "+45 33123456", phoneType: "office" },
  });
const batchOfWrites = () =>
  client.call("POST", "/v1.0/$batch", {
    body: {
      requests: ["u2", "u5"].map((u, i) => ({
        id: String(i),
        method: "POST",
        url: `/users/${u}/authentication/phoneMethods`,
        headers: JSON_HEADERS,
        body: { phoneNumber: "+45 33123456", phoneType: "office" },
      })),
    },
  });
const officeCount = () =>
  emu?.state().users.filter((u) => u.phoneMethods.some((p) => p.phoneType === "office")).length;

describe("an outage started by the admin API", () => {
  it("answers every request and batch envelope 503 with Retry-After, applies nothing, and counts them apart", async () => {
    await start();
    const started = await client.admin("POST", "/outage", { seconds: 1, mode: "503" });
    expect(started.status).toBe(200);
    expect(started.body).toMatchObject({ active: true, mode: "503" });
    const began = Date.now();
    const read = await client.call("GET", "/v1.0/users/u1");
    expectEnvelope(read, 503, "serviceNotAvailable");
    expect(read.headers.get("retry-after")).toBe("5");
    expectEnvelope(await createOffice("u1"), 503, "serviceNotAvailable");
    const envelope = await batchOfWrites();
    expectEnvelope(envelope, 503, "serviceNotAvailable");
    // Even an unauthenticated request meets the outage first.
    expect((await client.call("GET", "/v1.0/users", { token: null })).status).toBe(503);
    expect(officeCount()).toBe(0);
    const m = emu?.metrics();
    expect(m?.outage).toEqual({ requests: 4, batches: 1, resets: 0 });
    expect(m?.requests).toBe(0);
    expect(m?.serverErrors).toBe(0);
    expect(m?.batches).toBe(0);
    // Graph answers again once the outage is over.
    await wait(began + 1100 - Date.now());
    expect((await client.admin("GET", "/outage")).body).toEqual({ active: false });
    expect((await createOffice("u1")).status).toBe(201);
    expect((await batchOfWrites()).body.responses.map((r: { status: number }) => r.status)).toEqual(
      [201, 201],
    );
    expect(emu?.metrics().outage.requests).toBe(4);
    expect(emu?.metrics().requests).toBe(3);
  });

  it("covers the directory routes too: roles, audit log, domains, policy, groups and email methods", async () => {
    await start();
    const paths = [
      "/v1.0/roleManagement/directory/roleAssignments",
      "/v1.0/roleManagement/directory/roleEligibilityScheduleInstances",
      "/v1.0/auditLogs/directoryAudits",
      "/v1.0/domains",
      "/v1.0/policies/authenticationMethodsPolicy",
      "/v1.0/groups/g-staging",
      "/v1.0/users/u1/authentication/emailMethods",
    ];
    const createEmail = () =>
      client.call("POST", "/v1.0/users/u1/authentication/emailMethods", {
        body: { emailAddress: "ann@example.org" },
      });
    emu?.startOutage(60);
    for (const path of paths) {
      expectEnvelope(await client.call("GET", path), 503, "serviceNotAvailable");
    }
    expectEnvelope(await createEmail(), 503, "serviceNotAvailable");
    expect(emu?.state().users.find((u) => u.id === "u1")?.emailMethods).toEqual([]);
    expect(emu?.metrics().outage.requests).toBe(paths.length + 1);
    expect(emu?.metrics().requests).toBe(0);
    // Once Graph is back, each route answers as it does outside an outage.
    emu?.startOutage(0);
    for (const path of paths) {
      expect((await client.call("GET", path)).status, path).not.toBe(503);
    }
    expect((await createEmail()).status).toBe(201);
  });

  it("resets connections in reset mode", async () => {
    await start();
    await client.admin("POST", "/outage", { seconds: 60, mode: "reset" });
    await expect(client.call("GET", "/v1.0/users/u1")).rejects.toThrow();
    await expect(batchOfWrites()).rejects.toThrow();
    expect(emu?.metrics().outage).toEqual({ requests: 2, batches: 1, resets: 2 });
    expect(officeCount()).toBe(0);
  });

  it("scales its length by timeScale, and ends at once with 0 seconds", async () => {
    await start({ timeScale: 0.001 });
    // 600 emulated seconds = 0.6 real seconds.
    expect(emu?.startOutage(600).active).toBe(true);
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(503);
    await wait(700);
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
    await client.admin("POST", "/outage", { seconds: 600 });
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(503);
    await client.admin("POST", "/outage", { seconds: 0 });
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
  });

  it("leaves the managed-identity endpoint up: tokens can still be had", async () => {
    await start();
    await client.admin("POST", "/outage", { seconds: 60 });
    const res = await fetch(
      `${emu?.identityEndpoint}?resource=https://graph.microsoft.com&api-version=2019-08-01`,
      { headers: { "X-IDENTITY-HEADER": emu?.identityHeader ?? "" } },
    );
    expect(res.status).toBe(200);
  });

  it("refuses a negative length and an unknown mode", async () => {
    await start();
    expect((await client.admin("POST", "/outage", { seconds: -1 })).status).toBe(400);
    expect((await client.admin("POST", "/outage", { seconds: 5, mode: "502" })).status).toBe(400);
    expect((await client.admin("POST", "/outage", {})).status).toBe(400);
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
  });
});

describe("an outage scheduled by config", () => {
  it("starts and ends at the configured times after the config applies", async () => {
    // At timeScale 0.01: starts 0.5 s after start, lasts 0.6 s.
    await start({
      timeScale: 0.01,
      outage: { startSeconds: 50, durationSeconds: 60, mode: "503" },
    });
    const began = Date.now();
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
    expect((await client.admin("GET", "/outage")).body).toMatchObject({
      active: false,
      mode: "503",
    });
    await wait(began + 700 - Date.now());
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(503);
    await wait(began + 1250 - Date.now());
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
    expect(emu?.metrics().outage.requests).toBe(1);
  });

  it("can be set mid-run through the config API, counted from then", async () => {
    await start();
    await client.admin("POST", "/config", { outage: { startSeconds: 0, durationSeconds: 60 } });
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(503);
    await client.admin("POST", "/config", { outage: { durationSeconds: 0 } });
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
  });

  it("is off by default and refuses an unknown mode", async () => {
    await start();
    expect(emu?.config.outage.durationSeconds).toBe(0);
    const bad = await client.admin("POST", "/config", {
      outage: { durationSeconds: 5, mode: "x" },
    });
    expect(bad.status).toBe(400);
    expect((await client.call("GET", "/v1.0/users/u1")).status).toBe(200);
  });
});
