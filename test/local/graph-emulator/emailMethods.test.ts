/**
 * The email authentication method (issue 14): one per user under its fixed id, the address
 * checked, the configurable answer to a second one, permissions, metrics, the admin state and the
 * registration report; and office phone numbers with an extension.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  EMAIL_METHOD_ID,
  PHONE_METHOD_IDS,
  startEmulator,
  type EmulatorHandle,
} from "../../../local/graph-emulator/index.js";
import { GraphTestClient, expectEnvelope, smallTenant } from "./helpers.js";

const EMAILS = (user: string) => `/v1.0/users/${user}/authentication/emailMethods`;

describe("email methods", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;

  beforeAll(async () => {
    const tenant = smallTenant();
    // A user whose fixture names an email method and alternate addresses, the first unusable.
    tenant.users.push({
      id: "u7",
      userPrincipalName: "erin@contoso.example",
      otherMails: ["n/a", "erin.home@example.net"],
      otherMethods: ["email"],
    });
    emu = await startEmulator({ tenant });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it("creates one email method under the fixed id, lists and gets it, and counts the write", async () => {
    emu.resetMetrics();
    expect((await client.call("GET", EMAILS("u1"))).body.value).toEqual([]);
    const created = await client.call("POST", EMAILS("u1"), {
      body: { emailAddress: "alice.private@example.net" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: EMAIL_METHOD_ID, emailAddress: "alice.private@example.net" });
    expect(created.headers.get("location")).toBe(`${emu.graphBaseUrl}${EMAILS("u1")}/${EMAIL_METHOD_ID}`);
    const listed = await client.call("GET", EMAILS("u1"));
    expect(listed.body.value).toEqual([
      {
        "@odata.type": "#microsoft.graph.emailAuthenticationMethod",
        id: EMAIL_METHOD_ID,
        emailAddress: "alice.private@example.net",
      },
    ]);
    const one = await client.call("GET", `${EMAILS("alice@contoso.example")}/${EMAIL_METHOD_ID}`);
    expect(one.body.emailAddress).toBe("alice.private@example.net");
    expect(emu.state().users[0]!.emailMethods).toEqual([
      { id: EMAIL_METHOD_ID, emailAddress: "alice.private@example.net" },
    ]);
    const m = emu.metrics();
    expect(m.writes).toBe(1);
    expect(m.byRoute["emailMethods.create"]).toMatchObject({ requests: 1, writes: 1 });
  }); // prettier-ignore

  it("answers a second email method with the configured error, and keeps the first", async () => {
    const again = await client.call("POST", EMAILS("u1"), { body: { emailAddress: "other@example.net" } });
    expectEnvelope(again, 400, "badRequest");
    emu.setConfig({ duplicateEmailMethodError: { status: 409, code: "conflict", message: "One only." } });
    expectEnvelope(await client.call("POST", EMAILS("u1"), { body: { emailAddress: "other@example.net" } }), 409, "conflict");
    expect((await client.call("GET", EMAILS("u1"))).body.value[0].emailAddress).toBe("alice.private@example.net");
  }); // prettier-ignore

  it("refuses malformed addresses, a missing address and unknown properties with 400", async () => {
    for (const emailAddress of ["not-an-address", "bob@", " bob@example.net", "mailto:bob@example.net", "bob@@example.net"]) {
      expectEnvelope(await client.call("POST", EMAILS("u2"), { body: { emailAddress } }), 400, "badRequest");
    }
    expectEnvelope(await client.call("POST", EMAILS("u2"), { body: {} }), 400, "badRequest");
    expectEnvelope(await client.call("POST", EMAILS("u2"), { body: { emailAddress: "b@example.net", isDefault: true } }), 400, "badRequest");
    expectEnvelope(await client.call("POST", EMAILS("u2"), { body: "{oops" }), 400, "BadRequest");
    expect((await client.call("GET", EMAILS("u2"))).body.value).toEqual([]);
  }); // prettier-ignore

  it("updates and deletes it, and answers 404 for a wrong id or a missing method", async () => {
    const path = `${EMAILS("u1")}/${EMAIL_METHOD_ID}`;
    expect((await client.call("PATCH", path, { body: { emailAddress: "alice.new@example.net" } })).status).toBe(204);
    expect((await client.call("GET", path)).body.emailAddress).toBe("alice.new@example.net");
    expectEnvelope(await client.call("GET", `${EMAILS("u1")}/${PHONE_METHOD_IDS.mobile}`), 404, "itemNotFound");
    expect((await client.call("DELETE", path)).status).toBe(204);
    expectEnvelope(await client.call("GET", path), 404, "itemNotFound");
    expectEnvelope(await client.call("DELETE", path), 404, "itemNotFound");
    expectEnvelope(await client.call("PATCH", path, { body: { emailAddress: "a@example.net" } }), 404, "itemNotFound");
    expectEnvelope(await client.call("GET", EMAILS("nobody")), 404, "Request_ResourceNotFound");
  }); // prettier-ignore

  it("gives a fixture's email method the first usable otherMails address, or a personal one", async () => {
    expect((await client.call("GET", EMAILS("u7"))).body.value[0].emailAddress).toBe("erin.home@example.net");
    expect((await client.call("GET", EMAILS("u4"))).body.value[0].emailAddress).toBe("o'brien@personal.example");
    const all = await client.call("GET", "/v1.0/users/u7/authentication/methods");
    expect(all.body.value[1]).toEqual({
      "@odata.type": "#microsoft.graph.emailAuthenticationMethod",
      id: EMAIL_METHOD_ID,
      emailAddress: "erin.home@example.net",
    });
  }); // prettier-ignore

  it("needs UserAuthenticationMethod roles: the phone-only roles do not reach email methods", async () => {
    const as = (roles: string[]) => emu.issueToken({ roles });
    const phoneOnly = as(["UserAuthMethod-Phone.ReadWrite.All", "UserAuthMethod-Phone.Read.All"]);
    expectEnvelope(await client.call("GET", EMAILS("u2"), { token: phoneOnly }), 403, "accessDenied");
    expectEnvelope(await client.call("POST", EMAILS("u2"), { token: phoneOnly, body: { emailAddress: "b@example.net" } }), 403, "accessDenied");
    const reader = as(["UserAuthenticationMethod.Read.All"]);
    expect((await client.call("GET", EMAILS("u2"), { token: reader })).status).toBe(200);
    expectEnvelope(await client.call("POST", EMAILS("u2"), { token: reader, body: { emailAddress: "b@example.net" } }), 403, "accessDenied");
  }); // prettier-ignore

  it("shows a new email method in the registration report", async () => {
    const row = (id: string) =>
      client.call("GET", `/v1.0/reports/authenticationMethods/userRegistrationDetails/${id}`);
    expect((await row("u2")).body.methodsRegistered).not.toContain("email");
    await client.call("POST", EMAILS("u2"), { body: { emailAddress: "bob.home@example.net" } });
    const after = (await row("u2")).body;
    expect(after.methodsRegistered).toContain("email");
    expect(after.isSsprRegistered).toBe(true);
  });

  it("accepts an office number with an extension", async () => {
    const r = await client.call("POST", "/v1.0/users/u1/authentication/phoneMethods", {
      body: { phoneType: "office", phoneNumber: "+45 33123456x120" },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ id: PHONE_METHOD_IDS.office, phoneNumber: "+45 33123456x120" });
  });
});
