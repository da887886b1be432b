import { describe, expect, it } from "vitest";

import { phoneNumberKey, samePhoneNumber } from "../../../shared/phone/compare.js";

describe("samePhoneNumber", () => {
  it("treats Graph's spelling and E.164 without a space as the same number", () => {
    expect(samePhoneNumber("+45 20123456", "+4520123456")).toBe(true);
  });

  it("treats a national spelling as the same number under its default region", () => {
    expect(samePhoneNumber("+45 20123456", "20 12 34 56", "DK")).toBe(true);
  });

  it("compares landlines too, so an existing office number can be matched", () => {
    expect(samePhoneNumber("+44 2079460958", "020 7946 0958", "GB")).toBe(true);
  });

  it("tells different numbers apart", () => {
    expect(samePhoneNumber("+45 20123456", "+45 30123456")).toBe(false);
  });

  it("tells the same number with a different extension apart", () => {
    expect(samePhoneNumber("+1 2065550100x1", "+1 2065550100x2")).toBe(false);
  });

  it("falls back to digits, plus and extension for values the metadata rejects", () => {
    expect(phoneNumberKey("+1 555 555 1234")).toBe("+15555551234");
    expect(samePhoneNumber("+1 555 555 1234", "+1 (555) 555-1234")).toBe(true);
  });
});
