/**
 * Comparing phone numbers as Graph and HR spell them: Graph returns `+45 20123456`, older tools
 * wrote `+4520123456`, HR may hold `0045 2012 3456`. Equality is decided on normalised forms.
 */
import { normalizePhoneNumber } from "./normalize.js";
import { canonicalText } from "./text.js";

/**
 * A comparison key for a number: its Graph form without the space when it normalises (landlines
 * included, since existing office numbers must compare too), else its `+`, digits and `x` only.
 *
 * @param phoneNumber - a number in any spelling.
 * @param defaultRegion - region for numbers without a country code.
 */
export function phoneNumberKey(phoneNumber: string, defaultRegion?: string): string {
  const normalized = normalizePhoneNumber(phoneNumber, { defaultRegion, allowLandline: true });
  if (normalized.ok) {
    return normalized.phoneNumber.replace(" ", "");
  }
  return canonicalText(phoneNumber)
    .toLowerCase()
    .replace(/[^0-9+x]/g, "");
}

/**
 * Whether two spellings denote the same number (`+45 20123456` and `+4520123456` do).
 *
 * @param a - one number.
 * @param b - the other number.
 * @param defaultRegion - region for numbers without a country code.
 */
export function samePhoneNumber(a: string, b: string, defaultRegion?: string): boolean {
  return phoneNumberKey(a, defaultRegion) === phoneNumberKey(b, defaultRegion);
}
