import { afterAll, beforeEach, describe, expect, it } from "vitest";
import {
  PHONE_METHOD_IDS,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const MOBILE = PHONE_METHOD_IDS.mobile;
const ALT = PHONE_METHOD_IDS.alternateMobile;

describe("phone methods", () => {
  let emu: EmulatorHandle | undefined;
  let client: GraphTestClient;

  async function fresh(config = {}, tenant = smallTenant()) {
    if (emu) {
      await client.close();
      await emu.close();
    }
    emu = await startEmulator({ tenant, config });
    client = new GraphTestClient(emu);
    return emu;
  }
  beforeEach(async () => {
    await fresh();
  });
  afterAll(async () => {
    await client.close();
    await emu?.close();
  });

  const post = (user: string, body: unknown) =>
    client.call("POST", `/v1.0/users/${user}/authentication/phoneMethods`, { body });

  it("creates a mobile with the fixed id, 201, and counts it as a write", async () => {
    const r = await post("u1", { phoneNumber: "+45 20123456", phoneType: "mobile" });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      id: MOBILE,
      phoneNumber: "+45 20123456",
      phoneType: "mobile",
      smsSignInState: "ready",
    });
    const list = await client.call(
      "GET",
      "/v1.0/users/alice%40contoso.example/authentication/phoneMethods",
    );
    expect(list.body.value).toEqual([
      {
        "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
        id: MOBILE,
        phoneNumber: "+45 20123456",
        phoneType: "mobile",
        smsSignInState: "ready",
      },
    ]);
    expect(list.body["@odata.context"]).toContain("/authentication/phoneMethods");
    expect(emu?.metrics().writes).toBe(1);
    expect(emu?.state().users[0]?.phoneMethods).toEqual([
      { phoneType: "mobile", phoneNumber: "+45 20123456" },
    ]);
  });

  it("answers 200 on create when createStatus is configured so", async () => {
    await fresh({ createStatus: 200 });
    expect((await post("u1", { phoneNumber: "+45 20123456", phoneType: "mobile" })).status).toBe(
      200,
    );
  });

  it("refuses a second method of the same type with the configured error and does not count a write", async () => {
    const r = await post("u2", { phoneNumber: "+1 2065550999", phoneType: "mobile" });
    expectEnvelope(r, 400, "badRequest");
    expect(emu?.metrics().writes).toBe(0);
    await fresh({ duplicatePhoneTypeError: { status: 409, code: "conflict", message: "Exists." } });
    expectEnvelope(
      await post("u2", { phoneNumber: "+1 2065550999", phoneType: "mobile" }),
      409,
      "conflict",
    );
  });

  it("refuses alternateMobile before mobile", async () => {
    expectEnvelope(
      await post("u1", { phoneNumber: "+45 20123457", phoneType: "alternateMobile" }),
      400,
      "badRequest",
    );
    expect(
      (await post("u2", { phoneNumber: "+1 2065550101", phoneType: "alternateMobile" })).status,
    ).toBe(201);
  });

  it("rejects numbers that do not match the format rule, and honours a configured pattern", async () => {
    for (const phoneNumber of [
      "+4520123456",
      "20123456",
      "+45 2012 3456",
      "+1234 5555",
      "+1 555x",
    ]) {
      expectEnvelope(await post("u1", { phoneNumber, phoneType: "mobile" }), 400, "badRequest");
    }
    expect(
      (await post("u1", { phoneNumber: "+1 5555551234x123", phoneType: "mobile" })).status,
    ).toBe(201);
    await fresh({ phoneNumberPattern: "^\\+\\d+$" });
    expect((await post("u1", { phoneNumber: "+4520123456", phoneType: "mobile" })).status).toBe(
      201,
    );
  });

  it("rejects bodies without phoneNumber or phoneType, with smsSignInState, unknown fields, or bad JSON", async () => {
    expectEnvelope(await post("u1", { phoneType: "mobile" }), 400, "badRequest");
    expectEnvelope(await post("u1", { phoneNumber: "+45 20123456" }), 400, "badRequest");
    expectEnvelope(
      await post("u1", { phoneNumber: "+45 20123456", phoneType: "pager" }),
      400,
      "badRequest",
    );
    expectEnvelope(
      await post("u1", {
        phoneNumber: "+45 20123456",
        phoneType: "mobile",
        smsSignInState: "ready",
      }),
      400,
      "badRequest",
    );
    expectEnvelope(
      await post("u1", { phoneNumber: "+45 20123456", phoneType: "mobile", colour: "red" }),
      400,
      "badRequest",
    );
    expectEnvelope(await post("u1", [1, 2]), 400, "badRequest");
    expectEnvelope(await post("u1", "{not json"), 400, "BadRequest");
    expectEnvelope(
      await client.call("POST", "/v1.0/users/u1/authentication/phoneMethods"),
      400,
      "BadRequest",
    );
    expect(emu?.state().users[0]?.phoneMethods).toEqual([]);
  });

  it("answers 409 phoneNumberNotUnique for an SMS sign-in clash but still creates the method", async () => {
    const r = await post("u1", { phoneNumber: "+1 2065550100", phoneType: "mobile" });
    expect(r.status).toBe(409);
    expect(r.body.error.code).toBe("phoneNumberNotUnique");
    const got = await client.call("GET", `/v1.0/users/u1/authentication/phoneMethods/${MOBILE}`);
    expect(got.body).toMatchObject({
      phoneNumber: "+1 2065550100",
      smsSignInState: "phoneNumberNotUnique",
    });
    expect(emu?.metrics().writes).toBe(1);
  });

  it("does not clash on SMS sign-in when the tenant has it disabled", async () => {
    await fresh({}, smallTenant({ smsSignInEnabled: false }));
    const r = await post("u1", { phoneNumber: "+1 2065550100", phoneType: "mobile" });
    expect(r.status).toBe(201);
    expect(r.body.smsSignInState).toBe("notAllowedByPolicy");
  });

  it("gives office and alternateMobile methods smsSignInState notSupported", async () => {
    const r = await post("u1", { phoneNumber: "+45 33123456", phoneType: "office" });
    expect(r.body).toMatchObject({ id: PHONE_METHOD_IDS.office, smsSignInState: "notSupported" });
  });

  it("updates with PATCH answering 204 and an empty body, and refuses a type change", async () => {
    const r = await client.call("PATCH", `/v1.0/users/u2/authentication/phoneMethods/${MOBILE}`, {
      body: { phoneNumber: "+1 2065550155", phoneType: "mobile" },
    });
    expect(r.status).toBe(204);
    expect(r.body).toBeUndefined();
    expect(emu?.state().users[1]?.phoneMethods).toEqual([
      { phoneType: "mobile", phoneNumber: "+1 2065550155" },
    ]);
    const change = await client.call(
      "PATCH",
      `/v1.0/users/u2/authentication/phoneMethods/${MOBILE}`,
      {
        body: { phoneNumber: "+1 2065550155", phoneType: "office" },
      },
    );
    expectEnvelope(change, 400, "badRequest");
    const missing = await client.call(
      "PATCH",
      `/v1.0/users/u1/authentication/phoneMethods/${MOBILE}`,
      {
        body: { phoneNumber: "+1 2065550155" },
      },
    );
    expectEnvelope(missing, 404, "itemNotFound");
    expect(emu?.metrics().writes).toBe(1);
  });

  it("deletes with 204 but refuses to delete the default mobile while an alternate exists", async () => {
    expectEnvelope(
      await client.call("DELETE", `/v1.0/users/u6/authentication/phoneMethods/${MOBILE}`),
      400,
      "badRequest",
    );
    expect(
      (await client.call("DELETE", `/v1.0/users/u6/authentication/phoneMethods/${ALT}`)).status,
    ).toBe(204);
    expect(
      (await client.call("DELETE", `/v1.0/users/u6/authentication/phoneMethods/${MOBILE}`)).status,
    ).toBe(204);
    expect(emu?.state().users[5]?.phoneMethods).toEqual([]);
    expectEnvelope(
      await client.call("DELETE", `/v1.0/users/u6/authentication/phoneMethods/${MOBILE}`),
      404,
      "itemNotFound",
    );
  });

  it("allows deleting the default mobile when forbidDeleteDefault is off", async () => {
    await fresh({ forbidDeleteDefault: false });
    expect(
      (await client.call("DELETE", `/v1.0/users/u6/authentication/phoneMethods/${MOBILE}`)).status,
    ).toBe(204);
  });

  it("frees the SMS sign-in number when its mobile is deleted", async () => {
    expect(
      (await client.call("DELETE", `/v1.0/users/u2/authentication/phoneMethods/${MOBILE}`)).status,
    ).toBe(204);
    expect((await post("u1", { phoneNumber: "+1 2065550100", phoneType: "mobile" })).status).toBe(
      201,
    );
  });

  it("answers 404 for an unknown user, an unknown method id, and a method the user lacks", async () => {
    expectEnvelope(
      await client.call("GET", "/v1.0/users/ghost/authentication/phoneMethods"),
      404,
      "Request_ResourceNotFound",
    );
    expectEnvelope(
      await client.call("GET", "/v1.0/users/u1/authentication/phoneMethods/not-an-id"),
      404,
      "itemNotFound",
    );
    expectEnvelope(
      await client.call("GET", `/v1.0/users/u1/authentication/phoneMethods/${MOBILE}`),
      404,
      "itemNotFound",
    );
  });

  it("answers 405 for PUT on a phone method and for DELETE on the collection", async () => {
    expectEnvelope(
      await client.call("PUT", `/v1.0/users/u2/authentication/phoneMethods/${MOBILE}`, {
        body: {},
      }),
      405,
      "Request_BadRequest",
    );
    expectEnvelope(
      await client.call("DELETE", "/v1.0/users/u2/authentication/phoneMethods"),
      405,
      "Request_BadRequest",
    );
  });

  it("lists all methods polymorphically with the password method first", async () => {
    const r = await client.call("GET", "/v1.0/users/u5/authentication/methods");
    expect(r.body.value.map((m: { "@odata.type": string }) => m["@odata.type"])).toEqual([
      "#microsoft.graph.passwordAuthenticationMethod",
      "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod",
    ]);
    expect(r.body.value[0].id).toBe("28c10230-6103-485e-b985-444c60001490");
    const bob = await client.call("GET", "/v1.0/users/u2/authentication/methods");
    expect(bob.body.value[1]).toMatchObject({ id: MOBILE, phoneType: "mobile" });
  });
});
