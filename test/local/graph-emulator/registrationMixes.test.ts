/**
 * Registration report rows for the method mixes a fixture can express (issue 14): which users
 * count as SSPR-registered (only methods SSPR accepts: phones but not the alternate mobile, email,
 * Authenticator, OATH), MFA-registered and passwordless-capable, and what methodsRegistered says.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import type { FixtureUser, TenantFixture } from "../../../local/graph-emulator/tenant/types.js";
import { GraphTestClient, TENANT_ID } from "./helpers.js";

const REPORT = "/v1.0/reports/authenticationMethods/userRegistrationDetails";

/** Each mix with the row it must give: [id, fixture methods, expected row fields]. */
const MIXES: [string, Partial<FixtureUser>, Record<string, unknown>][] = [
  ["sms-only", { phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 20000001" }] },
    { isSsprRegistered: true, isMfaRegistered: true, isPasswordlessCapable: false, methodsRegistered: ["mobilePhone"], systemPreferredAuthenticationMethods: ["sms"] }],
  ["voice-only", { phoneMethods: [{ phoneType: "office", phoneNumber: "+45 33000001x12" }] },
    { isSsprRegistered: true, isMfaRegistered: true, methodsRegistered: ["officePhone"], systemPreferredAuthenticationMethods: ["voiceOffice"] }],
  ["passkey-only", { otherMethods: ["passKeyDeviceBound"] },
    { isSsprRegistered: false, isMfaRegistered: true, isPasswordlessCapable: true, methodsRegistered: ["passKeyDeviceBound"] }],
  ["fido2-only", { otherMethods: ["fido2SecurityKey"] },
    { isSsprRegistered: false, isMfaRegistered: true, isPasswordlessCapable: true, methodsRegistered: ["fido2SecurityKey"] }],
  ["hello-only", { otherMethods: ["windowsHelloForBusiness"] },
    { isSsprRegistered: false, isMfaRegistered: true, isPasswordlessCapable: true }],
  ["email-only", { otherMethods: ["email"] },
    { isSsprRegistered: true, isMfaRegistered: false, methodsRegistered: ["email"] }],
  ["tap-only", { otherMethods: ["temporaryAccessPass"] },
    { isSsprRegistered: false, isMfaRegistered: false, methodsRegistered: ["temporaryAccessPass"] }],
  ["push-only", { otherMethods: ["microsoftAuthenticatorPush"] },
    { isSsprRegistered: true, isMfaRegistered: true, systemPreferredAuthenticationMethods: ["push"] }],
  ["oath-only", { otherMethods: ["hardwareOneTimePasscode"] },
    { isSsprRegistered: true, isMfaRegistered: true }],
  ["none", {},
    { isSsprRegistered: false, isSsprCapable: false, isMfaRegistered: false, methodsRegistered: [], systemPreferredAuthenticationMethods: ["none"] }],
  ["sms-and-email", { phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 20000002" }], otherMethods: ["email"] },
    { isSsprRegistered: true, methodsRegistered: ["mobilePhone", "email"] }],
  ["sms-and-alternate", { phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 20000003" }, { phoneType: "alternateMobile", phoneNumber: "+45 20000004" }] },
    { isSsprRegistered: true, methodsRegistered: ["mobilePhone", "alternateMobilePhone"] }],
]; // prettier-ignore

function mixesTenant(): TenantFixture {
  return {
    tenant: { id: TENANT_ID, domain: "contoso.example" },
    users: MIXES.map(([id, methods]) => ({
      id,
      userPrincipalName: `${id}@contoso.example`,
      ...methods,
    })),
  };
}

describe("registration report rows per method mix", () => {
  let emu: EmulatorHandle;
  let client: GraphTestClient;
  const rows = async (): Promise<Map<string, Record<string, unknown>>> => {
    const r = await client.call("GET", REPORT);
    return new Map(r.body.value.map((row: { id: string }) => [row.id, row]));
  };

  beforeAll(async () => {
    // A generous reports quota: each case reads the report.
    emu = await startEmulator({ tenant: mixesTenant(), config: { reportsQuota: 1000 } });
    client = new GraphTestClient(emu);
  });
  afterAll(async () => {
    await client.close();
    await emu.close();
  });

  it.each(MIXES)("%s", async (id, _methods, expected) => {
    expect((await rows()).get(id)).toMatchObject(expected);
  });

  it("asks for two methods when the tenant's SSPR setting says two", async () => {
    emu.setConfig({ ssprMethodsRequired: 2 });
    const byId = await rows();
    const registered = MIXES.map(([id]) => id).filter((id) => byId.get(id)?.isSsprRegistered);
    // An alternate mobile is not an SSPR method: sms-and-alternate has one SSPR method only.
    expect(registered).toEqual(["sms-and-email"]);
    emu.setConfig({ ssprMethodsRequired: 1 });
  });

  it("filters on isSsprRegistered, as a readiness query would", async () => {
    const r = await client.call("GET", `${REPORT}?$filter=isSsprRegistered eq false&$select=id`);
    expect(r.body.value.map((row: { id: string }) => row.id)).toEqual(
      MIXES.filter(([, , e]) => e.isSsprRegistered === false).map(([id]) => id),
    );
  });
});
