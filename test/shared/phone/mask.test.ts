import { describe, expect, it } from "vitest";

import { formatForLog, maskPhoneNumber } from "../../../shared/phone/mask.js";

describe("maskPhoneNumber", () => {
  it.each([
    ["+45 20123456", "+45 ******56"],
    ["+4520123456", "+45 ******56"],
    ["+44 7400123456", "+44 ********56"],
    ["+447400123456", "+44 ********56"],
    ["+1 2065550100", "+1 ********00"],
    ["+1 2065550100x123", "+1 ********00"],
    ["+358 401234567", "+358 *******67"],
    ["+999 12345678", "+999 ******78"],
  ])("keeps the country code and the last two digits of %j", (input, expected) => {
    expect(maskPhoneNumber(input)).toBe(expected);
  });

  it.each([
    ["20123456", "******56"],
    ["(206) 555-0100", "(***) ***-**00"],
    ["Mobile: 2012 3456", "Mobile: **** **56"],
  ])("masks every digit but the last two of unparseable input %j", (input, expected) => {
    expect(maskPhoneNumber(input)).toBe(expected);
  });

  it("shows no digit of a one- or two-digit value", () => {
    expect(maskPhoneNumber("7")).toBe("*");
    expect(maskPhoneNumber("42")).toBe("*2");
  });

  it("masks Unicode digits too", () => {
    expect(maskPhoneNumber("+٤٥ ٢٠١٢٣٤٥٦")).toBe("+45 ******56");
  });

  it("never throws, whatever it is given", () => {
    for (const value of [null, undefined, 42, {}, ""] as unknown as string[]) {
      expect(() => maskPhoneNumber(value)).not.toThrow();
    }
    expect(maskPhoneNumber("")).toBe("");
  });
});

describe("formatForLog", () => {
  it("masks in masked mode", () => {
    expect(formatForLog("+45 20123456", "masked")).toBe("+45 ******56");
  });

  it("shows the value unchanged in full mode", () => {
    expect(formatForLog("+45 20123456", "full")).toBe("+45 20123456");
  });

  it("gives an empty string for a missing value", () => {
    expect(formatForLog(null, "masked")).toBe("");
    expect(formatForLog(undefined, "full")).toBe("");
  });
});
