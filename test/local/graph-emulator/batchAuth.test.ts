/**
 * 401s inside a `$batch` whose envelope was accepted: at a configured rate, and in the mode where
 * the envelope tolerates clock skew while every item checks the token's expiry strictly.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../../local/graph-emulator/config.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const JSON_HEADERS = { "Content-Type": "application/json" };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked field by field.
type Item = { id: string; status: number; headers: Record<string, string>; body?: any };

let emu: EmulatorHandle | undefined;
let client: GraphTestClient;

async function start(config: Partial<EmulatorConfig> = {}): Promise<EmulatorHandle> {
  emu = await startEmulator({ tenant: smallTenant(), config });
  client = new GraphTestClient(emu);
  return emu;
}

afterEach(async () => {
  await client?.close();
  await emu?.close();
  emu = undefined;
});

/** A create of u1's office phone and reads of five users' phone methods. */
const requests = [
  {
    id: "w",
    method: "POST",
    url: "/users/u1/authentication/phoneMethods",
    headers: JSON_HEADERS,
    body: { phoneNumber: "+45 33123456", phoneType: "office" },
  },
  ...["u1", "u2", "u4", "u5", "u6"].map((u) => ({
    id: u,
    method: "GET",
    url: `/users/${u}/authentication/phoneMethods`,
  })),
];

async function batch(token?: string): Promise<{ status: number; items: Item[] }> {
  const r = await client.call("POST", "/v1.0/$batch", { body: { requests }, token });
  return { status: r.status, items: (r.body?.responses ?? []) as Item[] };
}

function expectItem401(item: Item): void {
  expect(item.status).toBe(401);
  expect(item.body.error.code).toBe("InvalidAuthenticationToken");
  expect(typeof item.body.error.innerError.date).toBe("string");
  expect(item.headers["WWW-Authenticate"]).toMatch(/^Bearer /);
}

const officePhoneOfU1 = () =>
  emu
    ?.state()
    .users.find((u) => u.id === "u1")
    ?.phoneMethods.some((p) => p.phoneType === "office");

describe("inner 401 at a configured rate", () => {
  it("answers every item 401 at rate 1 while the envelope is 200, and applies no write", async () => {
    await start({ batchItem401Rate: 1 });
    const { status, items } = await batch();
    expect(status).toBe(200);
    expect(items).toHaveLength(requests.length);
    items.forEach(expectItem401);
    expect(officePhoneOfU1()).toBe(false);
    const m = emu?.metrics();
    expect(m?.unauthorized).toBe(requests.length);
    expect(m?.writes).toBe(0);
  });

  it("hits some items and spares others at rate 0.5, and a retry of the hit ones can succeed", async () => {
    await start({ batchItem401Rate: 0.5, seed: 7 });
    const { items } = await batch();
    const hit = items.filter((i) => i.status === 401);
    expect(hit.length).toBeGreaterThan(0);
    expect(hit.length).toBeLessThan(items.length);
    hit.forEach(expectItem401);
    // A client that retries the failed items with a fresh token gets them through.
    await client.admin("POST", "/config", { batchItem401Rate: 0 });
    const retried = await client.call("POST", "/v1.0/$batch", {
      body: { requests: requests.filter((r) => hit.some((h) => h.id === r.id)) },
      token: emu?.issueToken(),
    });
    for (const item of retried.body.responses as Item[]) {
      expect(item.status).toBeLessThan(300);
    }
  });

  it("leaves top-level requests alone", async () => {
    await start({ batchItem401Rate: 1 });
    const r = await client.call("GET", "/v1.0/users/u1/authentication/phoneMethods");
    expect(r.status).toBe(200);
  });

  it("is off by default: the same batch answers every item", async () => {
    await start();
    expect(emu?.config.batchItem401Rate).toBe(0);
    const { items } = await batch();
    expect(items.map((i) => i.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
  });
});

describe("an envelope that tolerates skew over items that check expiry", () => {
  it("accepts an expired token on the envelope and answers every item 401", async () => {
    await start({ batchEnvelopeTokenSkewSeconds: 60 });
    const token = emu?.issueToken({ lifetimeSeconds: 0.05 });
    await wait(120);
    const { status, items } = await batch(token);
    expect(status).toBe(200);
    expect(items).toHaveLength(requests.length);
    items.forEach(expectItem401);
    expect(officePhoneOfU1()).toBe(false);
    // The same token on a plain request, or with the tolerance off, is refused outright.
    expectEnvelope(
      await client.call("GET", "/v1.0/users/u1/authentication/phoneMethods", { token }),
      401,
      "InvalidAuthenticationToken",
    );
    await client.admin("POST", "/config", { batchEnvelopeTokenSkewSeconds: 0 });
    expectEnvelope(
      await client.call("POST", "/v1.0/$batch", { body: { requests }, token }),
      401,
      "InvalidAuthenticationToken",
    );
  });

  it("refuses the envelope once the token expired longer ago than the tolerance", async () => {
    // 0.1 s of tolerance (1 emulated second at timeScale 0.1).
    await start({ batchEnvelopeTokenSkewSeconds: 1, timeScale: 0.1 });
    const token = emu?.issueToken({ lifetimeSeconds: 0.05 });
    await wait(250);
    expectEnvelope(
      await client.call("POST", "/v1.0/$batch", { body: { requests }, token }),
      401,
      "InvalidAuthenticationToken",
    );
  });

  it("lets a valid token through the envelope and every item", async () => {
    await start({ batchEnvelopeTokenSkewSeconds: 60 });
    const { status, items } = await batch();
    expect(status).toBe(200);
    expect(items.every((i) => i.status < 300)).toBe(true);
    expect(officePhoneOfU1()).toBe(true);
  });

  it("refuses a negative tolerance and a rate outside 0..1", async () => {
    await start();
    expect(
      (await client.admin("POST", "/config", { batchEnvelopeTokenSkewSeconds: -1 })).status,
    ).toBe(400);
    expect((await client.admin("POST", "/config", { batchItem401Rate: 1.5 })).status).toBe(400);
  });
});
