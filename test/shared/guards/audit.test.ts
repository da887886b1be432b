import { describe, expect, it } from "vitest";
import { auditPath, toValueChange } from "../../../shared/guards/audit.js";

describe("audit evidence", () => {
  it("asks for 'Update user' events since the start of the settle period", () => {
    expect(decodeURIComponent(auditPath("2026-11-28T02:00:00.000Z", 999))).toBe(
      "/auditLogs/directoryAudits?$filter=activityDisplayName eq 'Update user' and activityDateTime ge 2026-11-28T02:00:00.000Z&$top=999",
    );
  });

  it("keeps a mobile phone change with its target user, time and actor", () => {
    expect(
      toValueChange({
        activityDateTime: "2026-12-01T01:59:00Z",
        activityDisplayName: "Update user",
        result: "success",
        initiatedBy: { user: { userPrincipalName: "helpdesk@contoso.example" } },
        targetResources: [
          {
            id: "u1",
            type: "User",
            modifiedProperties: [
              { displayName: "MobilePhone" },
              { displayName: "Included Updated Properties" },
            ],
          },
        ],
      }),
    ).toEqual({ userId: "u1", at: "2026-12-01T01:59:00Z", by: "helpdesk@contoso.example" });
  });

  it("names an app as the actor when no user made the change (HR provisioning, Entra Connect)", () => {
    expect(
      toValueChange({
        activityDateTime: "2026-12-01T01:59:00Z",
        initiatedBy: { app: { displayName: "Workday to Entra ID provisioning" } },
        targetResources: [
          { id: "u1", type: "User", modifiedProperties: [{ displayName: "MobilePhone" }] },
        ],
      }),
    ).toMatchObject({ by: "Workday to Entra ID provisioning" });
  });

  it("drops changes of other properties and failed updates", () => {
    const target = { id: "u1", type: "User", modifiedProperties: [{ displayName: "JobTitle" }] };
    expect(
      toValueChange({ activityDateTime: "2026-12-01T01:59:00Z", targetResources: [target] }),
    ).toBeUndefined();
    expect(
      toValueChange({
        activityDateTime: "2026-12-01T01:59:00Z",
        result: "failure",
        targetResources: [{ ...target, modifiedProperties: [{ displayName: "MobilePhone" }] }],
      }),
    ).toBeUndefined();
  });
});

describe("audit evidence for the office phone and the email method", () => {
  const event = (names: string[]) => ({
    activityDateTime: "2026-12-01T01:59:00Z",
    targetResources: [
      { id: "u1", type: "User", modifiedProperties: names.map((displayName) => ({ displayName })) },
    ],
  });

  it("names the kinds an event changed, by any of the property names Entra uses", () => {
    expect(toValueChange(event(["TelephoneNumber", "OtherMail"]))).toEqual({
      userId: "u1",
      at: "2026-12-01T01:59:00Z",
      kinds: ["office", "email"],
    });
    expect(toValueChange(event(["businessPhones"]))?.kinds).toEqual(["office"]);
    expect(toValueChange(event(["otherMails", "MobilePhone"]))?.kinds).toEqual(["mobile", "email"]);
  });
});
