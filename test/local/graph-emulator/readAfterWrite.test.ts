/**
 * Read-after-write lag: a write of a user's authentication methods is answered at once but stays
 * invisible to reads of that user's methods for `readAfterWriteLagMs` (scaled by timeScale).
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  EMAIL_METHOD_ID,
  PHONE_METHOD_IDS,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../../local/graph-emulator/config.js";
import { GraphTestClient, smallTenant } from "./helpers.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
const JSON_HEADERS = { "Content-Type": "application/json" };

let emu: EmulatorHandle | undefined;
let client: GraphTestClient;

async function start(config: Partial<EmulatorConfig>): Promise<void> {
  emu = await startEmulator({ tenant: smallTenant(), config });
  client = new GraphTestClient(emu);
}

afterEach(async () => {
  await client?.close();
  await emu?.close();
  emu = undefined;
});

/** The phone methods a read of the user shows, as `type=number`. */
async function readPhones(user: string): Promise<string[]> {
  const r = await client.call("GET", `/v1.0/users/${user}/authentication/phoneMethods`);
  expect(r.status).toBe(200);
  return r.body.value.map(
    (m: { phoneType: string; phoneNumber: string }) => `${m.phoneType}=${m.phoneNumber}`,
  );
}

const createMobile = (user: string, number = "+45 20123456") =>
  client.call("POST", `/v1.0/users/${user}/authentication/phoneMethods`, {
    body: { phoneNumber: number, phoneType: "mobile" },
  });

describe("read-after-write lag", () => {
  it("answers a create at once and shows it to reads only after the lag", async () => {
    await start({ readAfterWriteLagMs: 1500 });
    const written = Date.now();
    expect((await createMobile("u1")).status).toBe(201);
    expect(await readPhones("u1")).toEqual([]);
    const all = await client.call("GET", "/v1.0/users/u1/authentication/methods");
    expect(all.body.value.map((m: { id: string }) => m.id)).not.toContain(PHONE_METHOD_IDS.mobile);
    const one = await client.call(
      "GET",
      `/v1.0/users/u1/authentication/phoneMethods/${PHONE_METHOD_IDS.mobile}`,
    );
    expect(one.status).toBe(404);
    // The state itself has it: only reads lag.
    expect(emu?.state().users.find((u) => u.id === "u1")?.phoneMethods).toHaveLength(1);
    await wait(written + 1600 - Date.now());
    expect(await readPhones("u1")).toEqual(["mobile=+45 20123456"]);
  });

  it("shows the old number after an update and the deleted method after a delete, until the lag is over", async () => {
    await start({ readAfterWriteLagMs: 1500 });
    const written = Date.now();
    const patched = await client.call(
      "PATCH",
      `/v1.0/users/u2/authentication/phoneMethods/${PHONE_METHOD_IDS.mobile}`,
      { body: { phoneNumber: "+1 2065550999" } },
    );
    expect(patched.status).toBe(204);
    const deleted = await client.call(
      "DELETE",
      `/v1.0/users/u6/authentication/phoneMethods/${PHONE_METHOD_IDS.alternateMobile}`,
    );
    expect(deleted.status).toBe(204);
    expect(await readPhones("u2")).toEqual(["mobile=+1 2065550100"]);
    expect(await readPhones("u6")).toEqual([
      "mobile=+1 2065550111",
      "alternateMobile=+1 2065550112",
    ]);
    await wait(written + 1600 - Date.now());
    expect(await readPhones("u2")).toEqual(["mobile=+1 2065550999"]);
    expect(await readPhones("u6")).toEqual(["mobile=+1 2065550111"]);
  });

  it("hides email-method writes the same way: create, update and delete", async () => {
    await start({ readAfterWriteLagMs: 1500 });
    const base = "/v1.0/users/u1/authentication/emailMethods";
    const readEmails = async (): Promise<string[]> => {
      const r = await client.call("GET", base);
      expect(r.status).toBe(200);
      return r.body.value.map((m: { emailAddress: string }) => m.emailAddress);
    };
    let written = Date.now();
    const created = await client.call("POST", base, { body: { emailAddress: "ann@example.org" } });
    expect(created.status).toBe(201);
    expect(await readEmails()).toEqual([]);
    expect((await client.call("GET", `${base}/${EMAIL_METHOD_ID}`)).status).toBe(404);
    const all = await client.call("GET", "/v1.0/users/u1/authentication/methods");
    expect(all.body.value.map((m: { id: string }) => m.id)).not.toContain(EMAIL_METHOD_ID);
    // Writes see the real state: the second create is the duplicate.
    expect((await client.call("POST", base, { body: { emailAddress: "x@example.org" } })).status).toBe(400);
    await wait(written + 1600 - Date.now());
    expect(await readEmails()).toEqual(["ann@example.org"]);
    written = Date.now();
    const patched = await client.call("PATCH", `${base}/${EMAIL_METHOD_ID}`, {
      body: { emailAddress: "ann@example.net" },
    });
    expect(patched.status).toBe(204);
    expect(await readEmails()).toEqual(["ann@example.org"]);
    await wait(written + 1600 - Date.now());
    expect(await readEmails()).toEqual(["ann@example.net"]);
    written = Date.now();
    expect((await client.call("DELETE", `${base}/${EMAIL_METHOD_ID}`)).status).toBe(204);
    expect(await readEmails()).toEqual(["ann@example.net"]);
    await wait(written + 1600 - Date.now());
    expect(await readEmails()).toEqual([]);
  }); // prettier-ignore

  it("makes each write visible on its own schedule", async () => {
    await start({ readAfterWriteLagMs: 1000 });
    const first = Date.now();
    expect((await createMobile("u1")).status).toBe(201);
    await wait(600);
    const office = await client.call("POST", "/v1.0/users/u1/authentication/phoneMethods", {
      body: { phoneNumber: "+45 33123456", phoneType: "office" },
    });
    expect(office.status).toBe(201);
    await wait(first + 1250 - Date.now());
    expect(await readPhones("u1")).toEqual(["mobile=+45 20123456"]);
    await wait(first + 1700 - Date.now());
    expect(await readPhones("u1")).toEqual(["mobile=+45 20123456", "office=+45 33123456"]);
  });

  it("lets writes see the real state: a second create of the same type is refused within the lag", async () => {
    await start({ readAfterWriteLagMs: 5000 });
    expect((await createMobile("u1")).status).toBe(201);
    expect((await createMobile("u1", "+45 20999999")).status).toBe(400);
    expect(await readPhones("u1")).toEqual([]);
  });

  it("hides the write from a read that depends on it in the same batch, and from no other user", async () => {
    await start({ readAfterWriteLagMs: 5000 });
    const r = await client.call("POST", "/v1.0/$batch", {
      body: {
        requests: [
          {
            id: "w",
            method: "POST",
            url: "/users/u1/authentication/phoneMethods",
            headers: JSON_HEADERS,
            body: { phoneNumber: "+45 20123456", phoneType: "mobile" },
          },
          {
            id: "r",
            method: "GET",
            url: "/users/u1/authentication/phoneMethods",
            dependsOn: ["w"],
          },
        ],
      },
    });
    const items = Object.fromEntries(
      (r.body.responses as { id: string; status: number; body: { value?: unknown[] } }[]).map(
        (i) => [i.id, i],
      ),
    );
    expect(items.w?.status).toBe(201);
    expect(items.r?.body.value).toEqual([]);
    expect(await readPhones("u2")).toEqual(["mobile=+1 2065550100"]);
  });

  it("scales the lag by timeScale", async () => {
    // 100 emulated seconds at timeScale 0.01 = 1 real second.
    await start({ readAfterWriteLagMs: 100_000, timeScale: 0.01 });
    const written = Date.now();
    expect((await createMobile("u1")).status).toBe(201);
    expect(await readPhones("u1")).toEqual([]);
    await wait(written + 1100 - Date.now());
    expect(await readPhones("u1")).toEqual(["mobile=+45 20123456"]);
  });

  it("is off by default: a read right after a write sees it", async () => {
    await start({});
    expect(emu?.config.readAfterWriteLagMs).toBe(0);
    expect((await createMobile("u1")).status).toBe(201);
    expect(await readPhones("u1")).toEqual(["mobile=+45 20123456"]);
  });

  it("ends at once when the lag is switched off mid-run", async () => {
    await start({ readAfterWriteLagMs: 60_000 });
    expect((await createMobile("u1")).status).toBe(201);
    expect(await readPhones("u1")).toEqual([]);
    await client.admin("POST", "/config", { readAfterWriteLagMs: 0 });
    expect(await readPhones("u1")).toEqual(["mobile=+45 20123456"]);
  });
});
