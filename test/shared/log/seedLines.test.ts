import { describe, expect, it } from "vitest";
import { logEvent } from "../../../shared/log/events.js";
import {
  NO_ELIGIBLE_USERS_LINE,
  numberFormatErrorLine,
  processedLine,
  provisionedLine,
  provisioningFailedLine,
  runstateLine,
  targetedUsersLine,
  usersWithoutMfaLine,
} from "../../../shared/log/seedLines.js";

describe("the runbook's log lines", () => {
  it("keep the exact templates existing Log Analytics queries parse", () => {
    expect(runstateLine("MFA Pilot")).toBe("Runstate is using staging group: MFA Pilot");
    expect(runstateLine(undefined)).toBe("Runstate is Processing all users");
    expect(usersWithoutMfaLine(42)).toBe("Stats: Number of users without MFA is: 42");
    expect(targetedUsersLine(7)).toBe(
      "Stats: Number of targeted users without MFA and a mobile number in AAD is: 7",
    );
    expect(NO_ELIGIBLE_USERS_LINE).toBe("There are no eligible users for this run. Exit Script");
    expect(processedLine(5)).toBe("Stats: 5 users have been processed successfully.");
    expect(provisioningFailedLine("a@contoso.example", "badRequest", "Invalid phone number.")).toBe(
      "Status: MFA Phonemethod provisioning failed; User: a@contoso.example; Message: badRequest: Invalid phone number.",
    );
  });

  it("mask phone numbers unless full numbers are asked for", () => {
    expect(provisionedLine("a@contoso.example", "+45 20123456", "masked")).toBe(
      "Status: MFA Phonemethod provisioned successfully; User: a@contoso.example; Message: MobilePhone +45 ******56",
    );
    expect(provisionedLine("a@contoso.example", "+45 20123456", "full")).toContain(
      "MobilePhone +45 20123456",
    );
    const formatError = numberFormatErrorLine("b@contoso.example", "+45 2012", "masked");
    expect(
      formatError.startsWith(
        "Status: Number Format error; User: b@contoso.example; Message: MobilePhone ",
      ),
    ).toBe(true);
    expect(formatError).not.toContain("2012");
  });
});

describe("structured events", () => {
  it("write one JSON object per line with the event name first", () => {
    const lines: string[] = [];
    logEvent({ info: (m: string) => lines.push(m) }, "chunkProvisioned", {
      runId: "r1",
      chunkNo: 3,
      created: 5,
    });
    expect(lines).toEqual(['{"event":"chunkProvisioned","runId":"r1","chunkNo":3,"created":5}']);
  });
});
