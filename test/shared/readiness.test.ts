import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { countReadiness, readinessGroupOf } from "../../shared/readiness.js";
import { runKeys, type RegistrationRow } from "../../shared/run/index.js";
import { FsRunStore } from "../../shared/store/index.js";

describe("readiness groups", () => {
  it.each([
    [[], "noMethod"],
    [["mobilePhone"], "smsOrVoiceOnly"],
    [["officePhone", "alternateMobilePhone"], "smsOrVoiceOnly"],
    // Email and security questions are no second factor: they do not lift a user off SMS.
    [["mobilePhone", "email", "securityQuestion"], "smsOrVoiceOnly"],
    [["mobilePhone", "passKeyDeviceBound"], "phishingResistant"],
    [["fido2SecurityKey"], "phishingResistant"],
    [["windowsHelloForBusiness"], "phishingResistant"],
    [["mobilePhone", "microsoftAuthenticatorPush"], undefined],
    [["email"], undefined],
  ] as [string[], string | undefined][])("%j is %s", (methods, group) => {
    expect(readinessGroupOf(methods)).toBe(group);
  });
});

describe("countReadiness", () => {
  let dir: string;
  let store: FsRunStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-readiness-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("counts every report row, lists users by id and UPN, and writes every one to the CSV", async () => {
    const row = (id: string, methodsRegistered: string[]): RegistrationRow => ({
      id,
      userPrincipalName: `${id}@contoso.example`,
      isMfaRegistered: methodsRegistered.length > 0,
      methodsRegistered,
    });
    await store.putJson(runKeys.page("r1", "report", 0), [
      row("u1", ["mobilePhone"]),
      row("u2", []),
      row("u3", ["passKeyDeviceBound"]),
    ]);
    await store.putJson(runKeys.page("r1", "report", 1), [
      row("u4", ["microsoftAuthenticatorPush"]),
    ]);
    const readiness = await countReadiness(store, {
      runId: "r1",
      reportPages: 2,
      csvKey: runKeys.readinessCsv("r1"),
    });
    expect(readiness).toMatchObject({
      counted: 4,
      smsOrVoiceOnly: 1,
      noMethod: 1,
      phishingResistant: 1,
    });
    expect(readiness.users.smsOrVoiceOnly).toEqual([
      { userId: "u1", userPrincipalName: "u1@contoso.example", methods: ["mobilePhone"] },
    ]);
    const csv = await store.getText(runKeys.readinessCsv("r1"));
    expect(csv?.split("\r\n")).toEqual([
      "userPrincipalName,userId,group,methodsRegistered",
      "u1@contoso.example,u1,smsOrVoiceOnly,mobilePhone",
      "u2@contoso.example,u2,noMethod,",
      "u3@contoso.example,u3,phishingResistant,passKeyDeviceBound",
      "",
    ]);
  });
});
