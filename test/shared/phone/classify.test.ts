import { describe, expect, it } from "vitest";
import {
  getCountries,
  getCountryCallingCode,
  getExampleNumber,
  parsePhoneNumberFromString,
} from "libphonenumber-js/max";
import examples from "libphonenumber-js/examples.mobile.json";

import { classifyNationalNumber } from "../../../shared/phone/classify.js";

// A small deterministic generator so a failure can be reproduced.
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("classifyNationalNumber", () => {
  it("agrees with the library's isValid() and getType() over every country", () => {
    // Arrange: each country's example mobile, then random digits around each plan's lengths.
    const random = generator(20260101);
    const numbers: string[] = [];
    for (const country of getCountries()) {
      const example = getExampleNumber(country, examples);
      if (example) {
        numbers.push(example.number);
      }
      const prefix = example ? example.nationalNumber.slice(0, 2) : "";
      for (let i = 0; i < 12; i += 1) {
        const length = 6 + Math.floor(random() * 6);
        let digits = i % 2 === 0 ? prefix : "";
        while (digits.length < length) {
          digits += String(Math.floor(random() * 10));
        }
        numbers.push(`+${getCountryCallingCode(country)}${digits}`);
      }
    }
    numbers.push("+80012345670", "+8822123456", "+44 7700 900123");

    // Act and assert.
    let compared = 0;
    let valid = 0;
    for (const number of numbers) {
      const parsed = parsePhoneNumberFromString(number);
      if (!parsed) {
        continue;
      }
      const ours = classifyNationalNumber(
        parsed.nationalNumber,
        parsed.country,
        parsed.countryCallingCode,
      );
      expect({ number, valid: ours.valid }).toEqual({ number, valid: parsed.isValid() });
      if (ours.valid) {
        valid += 1;
        expect({ number, type: ours.type }).toEqual({ number, type: parsed.getType() });
      }
      compared += 1;
    }
    // Enough valid numbers that the type comparison is not vacuous.
    expect(compared).toBeGreaterThan(2_500);
    expect(valid).toBeGreaterThan(300);
  });

  it("reports a number outside every range as invalid", () => {
    expect(classifyNationalNumber("7700900123", undefined, "44")).toEqual({
      valid: false,
      type: undefined,
    });
  });

  it("reports an unknown plan as invalid instead of throwing", () => {
    expect(classifyNationalNumber("12345678", undefined, "999")).toEqual({ valid: false });
  });
});
