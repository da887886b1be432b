import { describe, expect, it } from "vitest";

import {
  canonicalText,
  digitCount,
  singleNumberText,
  splitExtension,
  stripDecorations,
  toAsciiDigits,
} from "../../../shared/phone/text.js";

describe("toAsciiDigits", () => {
  it.each([
    ["full-width", "２０１２", "2012"],
    ["Arabic-Indic", "٠١٢٣٤٥٦٧٨٩", "0123456789"],
    ["Extended Arabic-Indic", "۰۱۲۳۴۵۶۷۸۹", "0123456789"],
    ["Devanagari", "०१२३४५६७८९", "0123456789"],
    ["Bengali", "০১২৩৪৫৬৭৮৯", "0123456789"],
    ["Thai", "๐๑๒๓๔๕๖๗๘๙", "0123456789"],
    ["mathematical monospace (back-to-back runs)", "\u{1D7F6}\u{1D7FF}", "09"],
  ])("maps %s digits to ASCII", (_name, input, expected) => {
    expect(toAsciiDigits(input)).toBe(expected);
  });

  it("leaves letters and punctuation alone", () => {
    expect(toAsciiDigits("Tél: ٢-٣")).toBe("Tél: 2-3");
  });
});

describe("canonicalText", () => {
  it("turns line breaks into a separator so a two-line field reads as two values", () => {
    expect(canonicalText("20123456\n30123456")).toBe("20123456;30123456");
  });

  it("folds full-width punctuation and removes invisible marks", () => {
    expect(canonicalText("\u202B（０２０）\u00AD７９４６\u202C")).toBe("(020)7946");
  });
});

describe("stripDecorations", () => {
  it.each([
    ["Mobile: +45 20123456", "+45 20123456"],
    ["Mobile phone (work): +45 20123456", "+45 20123456"],
    ["GSM 20123456", "20123456"],
    ["Tel.20123456", "20123456"],
    ["+45 20123456 (private)", "+45 20123456"],
    ["(old) +45 20123456", "+45 20123456"],
    ["tel:+1-206-555-0100;phone-context=example.com", "+1-206-555-0100"],
  ])("reduces %j to the number", (input, expected) => {
    expect(stripDecorations(input)).toBe(expected);
  });

  it("keeps a bracket that holds only digits, such as the UK (0)", () => {
    expect(stripDecorations("+44 (0)20 7946 0958")).toBe("+44 (0)20 7946 0958");
  });

  it("does not take letters that stand for digits for a label", () => {
    expect(stripDecorations("FLOWERS 356")).toBe("FLOWERS 356");
  });
});

describe("splitExtension", () => {
  it("splits a short extension", () => {
    expect(splitExtension("206-555-0100 ext. 123")).toEqual({
      main: "206-555-0100",
      extension: "123",
    });
  });

  it("flags a long run of digits after an extension marker", () => {
    expect(splitExtension("20123456 x 30123456")).toMatchObject({ extensionTooLong: true });
  });

  it("does not read a leading x as an extension", () => {
    expect(splitExtension("x123")).toEqual({ main: "x123" });
  });
});

describe("singleNumberText", () => {
  it("joins a German area code written with a slash", () => {
    expect(singleNumberText("030/12345678")).toEqual({ multiple: false, text: "030 12345678" });
  });

  it("sees two numbers around a slash", () => {
    expect(singleNumberText("20123456/30123456")).toEqual({ multiple: true });
  });

  it("drops a note without digits", () => {
    expect(singleNumberText("20123456, private")).toEqual({ multiple: false, text: "20123456" });
  });
});

describe("digitCount", () => {
  it("counts ASCII digits only", () => {
    expect(digitCount("+45 (20) 12-34")).toBe(8);
  });
});
