import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PHONE_METHOD_IDS,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const REPORT = "/v1.0/reports/authenticationMethods/userRegistrationDetails";

describe("registration report", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    // A generous reports quota so only the quota test meets it.
    emu = await startEmulator({ tenant: smallTenant(), config: { reportsQuota: 1000 } });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  const ids = (body: { value: { id: string }[] }) => body.value.map((r) => r.id);

  it("derives rows from the tenant and leaves disabled users out", async () => {
    const r = await client.call("GET", REPORT);
    expect(r.status).toBe(200);
    expect(ids(r.body)).toEqual(["u1", "u2", "u4", "u5", "u6"]);
    const bob = r.body.value[1];
    expect(bob).toMatchObject({
      userPrincipalName: "bob@contoso.example",
      userType: "member",
      isAdmin: false,
      isMfaRegistered: true,
      methodsRegistered: ["mobilePhone"],
    });
    expect(typeof bob.lastUpdatedDateTime).toBe("string");
    const obrien = r.body.value[2];
    expect(obrien).toMatchObject({
      userType: "guest",
      isMfaRegistered: false,
      methodsRegistered: ["email"],
    });
    expect(r.body.value[3]).toMatchObject({ isAdmin: true, isMfaRegistered: true });
    expect(r.body.value[4].methodsRegistered).toEqual(["mobilePhone", "alternateMobilePhone"]);
  });

  it("filters on isMfaRegistered, isAdmin, userType, methodsRegistered and their and-combinations", async () => {
    const q = (f: string) => client.call("GET", `${REPORT}?$filter=${encodeURIComponent(f)}`);
    expect(ids((await q("isMfaRegistered eq false")).body)).toEqual(["u1", "u4"]);
    expect(ids((await q("isAdmin eq true")).body)).toEqual(["u5"]);
    expect(ids((await q("userType eq 'guest'")).body)).toEqual(["u4"]);
    expect(ids((await q("methodsRegistered/any(m:m eq 'mobilePhone')")).body)).toEqual([
      "u2",
      "u6",
    ]);
    expect(
      ids((await q("isMfaRegistered eq true and isAdmin eq false and userType eq 'member'")).body),
    ).toEqual(["u2", "u6"]);
  });

  it("rejects $skip, an over-large $top and bad filters with 400", async () => {
    expectEnvelope(await client.call("GET", `${REPORT}?$skip=1`), 400, "BadRequest");
    expectEnvelope(await client.call("GET", `${REPORT}?$top=1000`), 400, "BadRequest");
    expectEnvelope(await client.call("GET", `${REPORT}?$top=0`), 400, "BadRequest");
    expectEnvelope(
      await client.call("GET", `${REPORT}?$filter=${encodeURIComponent("isAdmin eq 'yes'")}`),
      400,
      "BadRequest",
    );
    expectEnvelope(
      await client.call("GET", `${REPORT}?$filter=${encodeURIComponent("shoeSize eq 4")}`),
      400,
      "BadRequest",
    );
  });

  it("pages with $top and an opaque nextLink", async () => {
    const first = await client.call("GET", `${REPORT}?$top=2&$select=id`);
    expect(first.body.value).toEqual([{ id: "u1" }, { id: "u2" }]);
    const second = await client.call(
      "GET",
      first.body["@odata.nextLink"].slice(emu.graphBaseUrl.length),
    );
    expect(ids(second.body)).toEqual(["u4", "u5"]);
    const third = await client.call(
      "GET",
      second.body["@odata.nextLink"].slice(emu.graphBaseUrl.length),
    );
    expect(ids(third.body)).toEqual(["u6"]);
    expect(third.body["@odata.nextLink"]).toBeUndefined();
  });

  it("gets one row by user id and answers 404 for a disabled user", async () => {
    expect((await client.call("GET", `${REPORT}/u2`)).body).toMatchObject({
      id: "u2",
      isMfaRegistered: true,
    });
    expectEnvelope(await client.call("GET", `${REPORT}/u3`), 404, "Request_ResourceNotFound");
  });

  it("shows a new phone method only after the configured report lag", async () => {
    emu.setConfig({ reportLagSeconds: 0.6 });
    const created = await client.call("POST", "/v1.0/users/u1/authentication/phoneMethods", {
      body: { phoneNumber: "+45 20123456", phoneType: "mobile" },
    });
    expect(created.status).toBe(201);
    expect((await client.call("GET", `${REPORT}/u1`)).body.isMfaRegistered).toBe(false);
    await new Promise((r) => setTimeout(r, 700));
    const after = await client.call("GET", `${REPORT}/u1`);
    expect(after.body).toMatchObject({ isMfaRegistered: true, methodsRegistered: ["mobilePhone"] });
    await client.call(
      "DELETE",
      `/v1.0/users/u1/authentication/phoneMethods/${PHONE_METHOD_IDS.mobile}`,
    );
    emu.setConfig({ reportLagSeconds: 0 });
    expect((await client.call("GET", `${REPORT}/u1`)).body.isMfaRegistered).toBe(false);
  });

  it("answers 429 once the reports quota of the app is used up", async () => {
    emu.setConfig({ reportsQuota: 5, reportsQuotaWindowSeconds: 10 });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await client.call("GET", `${REPORT}?$top=1`)).status);
    }
    emu.setConfig({ reportsQuota: 1000 });
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses[0]).toBe(200);
  });
});

describe("registration report without a premium licence", () => {
  it("answers 403 Authentication_RequestFromNonPremiumTenantOrB2CTenant", async () => {
    const emu = await startEmulator({ tenant: smallTenant({ premium: false }) });
    const client = new GraphTestClient(emu);
    expectEnvelope(
      await client.call("GET", REPORT),
      403,
      "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    );
    await client.close();
    await emu.close();
  });
});
