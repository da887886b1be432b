/**
 * Users in restricted management administrative units: writes of their authentication methods
 * answer 403 for them alone, reads still work, and the fixture flag is optional.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  EMAIL_METHOD_ID,
  PHONE_METHOD_IDS,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../../local/graph-emulator/config.js";
import { validateTenant } from "../../../local/graph-emulator/tenant/fixture.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const JSON_HEADERS = { "Content-Type": "application/json" };

/** The small tenant plus Erin, who sits in a restricted management unit and has a mobile. */
function tenantWithRestrictedUser(): TenantFixture {
  const t = smallTenant();
  t.users.push({
    id: "u7",
    userPrincipalName: "erin@contoso.example",
    mobilePhone: "+45 20999999",
    restrictedManagement: true,
    phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 20999999" }],
  });
  return t;
}

let emu: EmulatorHandle | undefined;
let client: GraphTestClient;

async function start(config: Partial<EmulatorConfig> = {}, tenant = tenantWithRestrictedUser()) {
  emu = await startEmulator({ tenant, config });
  client = new GraphTestClient(emu);
}

afterEach(async () => {
  if (emu) {
    await client.close();
    await emu.close();
  }
  emu = undefined;
});

const phonesOf = (id: string) => emu?.state().users.find((u) => u.id === id)?.phoneMethods;
const emailsOf = (id: string) => emu?.state().users.find((u) => u.id === id)?.emailMethods;

describe("a user in a restricted management administrative unit", () => {
  it("refuses create, update and delete of the user's phone methods with 403, changing nothing", async () => {
    await start();
    const before = phonesOf("u7");
    const base = "/v1.0/users/u7/authentication/phoneMethods";
    expectEnvelope(
      await client.call("POST", base, {
        body: { phoneNumber: "+45 33123456", phoneType: "office" },
      }),
      403,
      "accessDenied",
    );
    expectEnvelope(
      await client.call("PATCH", `${base}/${PHONE_METHOD_IDS.mobile}`, {
        body: { phoneNumber: "+45 20888888" },
      }),
      403,
      "accessDenied",
    );
    expectEnvelope(
      await client.call("DELETE", `${base}/${PHONE_METHOD_IDS.mobile}`),
      403,
      "accessDenied",
    );
    // By UPN too: the path names the same user.
    expectEnvelope(
      await client.call("POST", "/v1.0/users/erin@contoso.example/authentication/phoneMethods", {
        body: { phoneNumber: "+45 33123456", phoneType: "office" },
      }),
      403,
      "accessDenied",
    );
    expect(phonesOf("u7")).toEqual(before);
    expect(emu?.metrics().writes).toBe(0);
  });

  it("refuses writes of the user's email method too, and still answers its reads", async () => {
    const t = tenantWithRestrictedUser();
    const erin = t.users[6] as (typeof t.users)[number];
    erin.otherMails = ["erin.private@example.org"];
    erin.otherMethods = ["email"];
    await start({}, t);
    const before = emailsOf("u7");
    expect(before).toEqual([{ id: EMAIL_METHOD_ID, emailAddress: "erin.private@example.org" }]);
    const base = "/v1.0/users/u7/authentication/emailMethods";
    expectEnvelope(
      await client.call("PATCH", `${base}/${EMAIL_METHOD_ID}`, {
        body: { emailAddress: "erin@example.net" },
      }),
      403,
      "accessDenied",
    );
    expectEnvelope(await client.call("DELETE", `${base}/${EMAIL_METHOD_ID}`), 403, "accessDenied");
    expect(emailsOf("u7")).toEqual(before);
    const list = await client.call("GET", base);
    expect(list.status).toBe(200);
    expect(list.body.value).toHaveLength(1);
    expect((await client.call("GET", `${base}/${EMAIL_METHOD_ID}`)).status).toBe(200);
    // A user outside the unit gets an email method created; Erin's first one would be refused too.
    const create = (user: string) =>
      client.call("POST", `/v1.0/users/${user}/authentication/emailMethods`, {
        body: { emailAddress: "someone@example.net" },
      });
    expect((await create("u1")).status).toBe(201);
    await client.admin("POST", "/users", { ...erin, otherMethods: [] });
    expectEnvelope(await create("u7"), 403, "accessDenied");
    expect(emailsOf("u7")).toEqual([]);
  });

  it("still answers reads of the user's methods", async () => {
    await start();
    const list = await client.call("GET", "/v1.0/users/u7/authentication/phoneMethods");
    expect(list.status).toBe(200);
    expect(list.body.value.map((m: { phoneNumber: string }) => m.phoneNumber)).toEqual([
      "+45 20999999",
    ]);
    const one = await client.call(
      "GET",
      `/v1.0/users/u7/authentication/phoneMethods/${PHONE_METHOD_IDS.mobile}`,
    );
    expect(one.status).toBe(200);
    expect((await client.call("GET", "/v1.0/users/u7/authentication/methods")).status).toBe(200);
    expect((await client.call("GET", "/v1.0/users/u7")).status).toBe(200);
  });

  it("fails alone inside a batch: the other users' writes go through", async () => {
    await start();
    const write = (id: string, user: string) => ({
      id,
      method: "POST",
      url: `/users/${user}/authentication/phoneMethods`,
      headers: JSON_HEADERS,
      body: { phoneNumber: "+45 33123456", phoneType: "office" },
    });
    const r = await client.call("POST", "/v1.0/$batch", {
      body: { requests: [write("1", "u1"), write("2", "u7"), write("3", "u2")] },
    });
    expect(r.status).toBe(200);
    const status = Object.fromEntries(
      (r.body.responses as { id: string; status: number }[]).map((i) => [i.id, i.status]),
    );
    expect(status).toEqual({ "1": 201, "2": 403, "3": 201 });
    const refused = (r.body.responses as { id: string; body: { error: { code: string } } }[]).find(
      (i) => i.id === "2",
    );
    expect(refused?.body.error.code).toBe("accessDenied");
  });

  it("answers with the configured error", async () => {
    await start({
      restrictedManagementError: {
        status: 403,
        code: "Authorization_RequestDenied",
        message: "No.",
      },
    });
    expectEnvelope(
      await client.call("POST", "/v1.0/users/u7/authentication/phoneMethods", {
        body: { phoneNumber: "+45 33123456", phoneType: "office" },
      }),
      403,
      "Authorization_RequestDenied",
    );
  });

  it("follows the flag when the admin API changes it", async () => {
    await start();
    const erin = tenantWithRestrictedUser().users.find((u) => u.id === "u7");
    await client.admin("POST", "/users", { ...erin, restrictedManagement: false });
    const r = await client.call("POST", "/v1.0/users/u7/authentication/phoneMethods", {
      body: { phoneNumber: "+45 33123456", phoneType: "office" },
    });
    expect(r.status).toBe(201);
  });
});

describe("the restrictedManagement fixture field", () => {
  it("is optional: a fixture without it describes users whose methods can be written", async () => {
    const t = tenantWithRestrictedUser();
    delete t.users[6]?.restrictedManagement;
    await start({}, t);
    const r = await client.call("POST", "/v1.0/users/u7/authentication/phoneMethods", {
      body: { phoneNumber: "+45 33123456", phoneType: "office" },
    });
    expect(r.status).toBe(201);
  });

  it("must be a boolean", () => {
    const t = tenantWithRestrictedUser() as unknown as { users: Record<string, unknown>[] };
    (t.users[6] as Record<string, unknown>).restrictedManagement = "yes";
    expect(() => validateTenant(t)).toThrow(/users\/6\/restrictedManagement/);
  });
});
