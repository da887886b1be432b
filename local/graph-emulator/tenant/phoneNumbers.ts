import {
  getCountryCallingCode,
  getExampleNumber,
  parsePhoneNumberFromString,
  type CountryCode,
} from "libphonenumber-js/max";
import examples from "libphonenumber-js/mobile/examples";
import { flat, mulberry32, type Prng } from "./prng.js";

/**
 * Messy phone numbers as HR types them, for synthetic tenants. Validating every generated number
 * with libphonenumber's full metadata costs about 17 µs, too much for a million users, so each
 * country's number space is probed once (per process) and numbers are then drawn from ranges that
 * probed valid.
 */

/** Countries of synthetic numbers, with their relative weight (a Danish-headquartered company). */
export const GENERATED_COUNTRIES: readonly { country: CountryCode; weight: number }[] = [
  { country: "DK", weight: 30 },
  { country: "SE", weight: 8 },
  { country: "NO", weight: 8 },
  { country: "DE", weight: 7 },
  { country: "GB", weight: 7 },
  { country: "US", weight: 7 },
  { country: "FI", weight: 3 },
  { country: "NL", weight: 3 },
  { country: "PL", weight: 3 },
  { country: "FR", weight: 2 },
  { country: "ES", weight: 2 },
  { country: "IT", weight: 2 },
  { country: "IE", weight: 2 },
  { country: "IN", weight: 2 },
  { country: "CA", weight: 2 },
  { country: "BE", weight: 1 },
  { country: "PT", weight: 1 },
  { country: "CH", weight: 1 },
  { country: "AT", weight: 1 },
  { country: "CZ", weight: 1 },
  { country: "IS", weight: 1 },
  { country: "AU", weight: 1 },
  { country: "NZ", weight: 1 },
  { country: "BR", weight: 1 },
  { country: "MX", weight: 1 },
  { country: "JP", weight: 1 },
  { country: "ZA", weight: 1 },
  { country: "SG", weight: 1 },
];

/** What a generated `mobilePhone` value is; `valid*` kinds are real mobile numbers of `country`. */
export const NumberKind = {
  /** No value at all (absent or null). */
  none: 0,
  /**
   * A valid mobile number with its country code, in one of many messy spellings; the `0045 …`
   * spelling needs a default region that dials out with 00 (most of Europe, DK included).
   */
  validInternational: 1,
  /** A valid mobile number in national form: only valid with its country as default region. */
  validNational: 2,
  /** A placeholder such as `N/A`, `-`, `0`, `TBD`. */
  placeholder: 3,
  /** Too few digits for the country. */
  tooShort: 4,
  /** Too many digits for the country. */
  tooLong: 5,
  /** Letters in or instead of the number. */
  letters: 6,
  /** Two numbers in one field. */
  twoNumbers: 7,
  /** A valid fixed-line (landline) number that is not a mobile. */
  fixedLine: 8,
} as const;

/** One of the {@link NumberKind} values. */
export type NumberKind = (typeof NumberKind)[keyof typeof NumberKind];

interface CountryPlan {
  country: CountryCode;
  callingCode: string;
  /** National (trunk) prefix used when dialling inside the country: "0" for GB, "" for DK. */
  trunk: string;
  /** Leading national digits whose continuations probed as valid mobiles. */
  mobilePrefixes: string[];
  mobileFree: number;
  /** The same for fixed-line numbers (empty when the country has no fixed-only range we know). */
  fixedPrefixes: string[];
  fixedFree: number;
}

// Known fixed-line national numbers (capitals' area codes); probed like the mobiles.
const FIXED_LINE_SAMPLES: Partial<Record<CountryCode, string>> = {
  GB: "2079460123",
  DE: "3012345678",
  FR: "123456789",
  SE: "812345678",
  NL: "201234567",
  ES: "912345678",
  IT: "0612345678",
  PL: "221234567",
  FI: "91234567",
  AT: "1234567890",
  CH: "441234567",
  BE: "21234567",
  IE: "12345678",
  AU: "212345678",
  JP: "312345678",
  ZA: "211234567",
  PT: "212345678",
  CZ: "212345678",
};

const PROBES = 16;

function hasType(text: string, wanted: "mobile" | "fixedLine"): boolean {
  const parsed = parsePhoneNumberFromString(text);
  if (parsed === undefined || !parsed.isValid()) {
    return false;
  }
  const type = parsed.getType();
  return wanted === "mobile"
    ? type === "MOBILE" || type === "FIXED_LINE_OR_MOBILE"
    : type === "FIXED_LINE";
}

const POWERS_OF_TEN: readonly number[] = Array.from({ length: 10 }, (_, i) => 10 ** i);

// One number-to-string conversion instead of a string grown digit by digit: this runs for nearly
// every user of a million-user tenant.
function randomDigits(prng: Prng, count: number): string {
  return String(prng.int(POWERS_OF_TEN[count]!)).padStart(count, "0");
}

// Finds the prefixes of `sample` under which `free` random trailing digits always probed valid,
// trying fewer free digits when the range is narrow. Varying the digit just before the free block
// widens the space, so a million users rarely share a number.
function probeRanges(
  prng: Prng,
  callingCode: string,
  sample: string,
  wanted: "mobile" | "fixedLine",
): { prefixes: string[]; free: number } {
  for (let free = Math.min(6, sample.length - 3); free >= 2; free--) {
    const stem = sample.slice(0, sample.length - free - 1);
    const prefixes: string[] = [];
    for (let d = 0; d <= 9; d++) {
      const prefix = stem + String(d);
      let ok = true;
      for (let p = 0; p < PROBES && ok; p++) {
        ok = hasType(`+${callingCode}${prefix}${randomDigits(prng, free)}`, wanted);
      }
      if (ok) {
        prefixes.push(prefix);
      }
    }
    if (prefixes.length > 0) {
      return { prefixes, free };
    }
  }
  return { prefixes: [], free: 0 };
}

function trunkOf(country: CountryCode, nationalNumber: string): string {
  const parsed = parsePhoneNumberFromString(`+${getCountryCallingCode(country)}${nationalNumber}`);
  const national = parsed?.formatNational().replace(/\D/g, "") ?? nationalNumber;
  return national.endsWith(nationalNumber)
    ? national.slice(0, national.length - nationalNumber.length)
    : "";
}

let plans: CountryPlan[] | undefined;

/**
 * The probed number ranges of every generated country, built on first use (some thousands of
 * libphonenumber validations, under a second) with a fixed seed, so they do not depend on the
 * tenant seed.
 *
 * @returns one plan per entry of {@link GENERATED_COUNTRIES}, in the same order.
 */
function countryPlans(): CountryPlan[] {
  if (plans === undefined) {
    const prng = mulberry32(0x5eed);
    plans = GENERATED_COUNTRIES.map(({ country }) => {
      const example = getExampleNumber(country, examples);
      if (example === undefined) {
        throw new Error(`GraphEmulator: libphonenumber-js has no example mobile for '${country}'.`);
      }
      const callingCode = String(example.countryCallingCode);
      const mobile = probeRanges(prng, callingCode, String(example.nationalNumber), "mobile");
      if (mobile.prefixes.length === 0) {
        throw new Error(`GraphEmulator: no valid mobile range found for '${country}'.`);
      }
      const fixedSample = FIXED_LINE_SAMPLES[country];
      const fixed =
        fixedSample === undefined
          ? { prefixes: [], free: 0 }
          : probeRanges(prng, callingCode, fixedSample, "fixedLine");
      return {
        country,
        callingCode,
        trunk: trunkOf(country, String(example.nationalNumber)),
        mobilePrefixes: mobile.prefixes,
        mobileFree: mobile.free,
        fixedPrefixes: fixed.prefixes,
        fixedFree: fixed.free,
      };
    });
  }
  return plans;
}

/** A drawn number: its country and national significant digits. */
export interface DrawnNumber {
  /** Index into {@link GENERATED_COUNTRIES}. */
  countryIndex: number;
  callingCode: string;
  nationalNumber: string;
}

/** Draws numbers and spells them the way people type them. */
export class NumberFactory {
  private readonly plans = countryPlans();
  private readonly cumulative: number[];
  private readonly total: number;
  private readonly fixedCountries: number[];

  /** @param prng - the tenant's random source. */
  public constructor(private readonly prng: Prng) {
    let sum = 0;
    this.cumulative = GENERATED_COUNTRIES.map(({ weight }) => (sum += weight));
    this.total = sum;
    this.fixedCountries = this.plans.flatMap((plan, i) =>
      plan.fixedPrefixes.length > 0 ? [i] : [],
    );
  }

  /** @returns a weighted random country index. */
  public country(): number {
    const r = this.prng.next() * this.total;
    let i = 0;
    while (this.cumulative[i]! <= r) {
      i++;
    }
    return i;
  }

  /**
   * @param countryIndex - where the number is from; a weighted random country when omitted.
   * @returns a valid mobile number.
   */
  public mobile(countryIndex = this.country()): DrawnNumber {
    const plan = this.plans[countryIndex]!;
    return {
      countryIndex,
      callingCode: plan.callingCode,
      nationalNumber:
        this.prng.pick(plan.mobilePrefixes) + randomDigits(this.prng, plan.mobileFree),
    };
  }

  /** @returns a valid fixed-line number that is not a mobile. */
  public fixedLine(): DrawnNumber {
    const countryIndex = this.prng.pick(this.fixedCountries);
    const plan = this.plans[countryIndex]!;
    return {
      countryIndex,
      callingCode: plan.callingCode,
      nationalNumber: this.prng.pick(plan.fixedPrefixes) + randomDigits(this.prng, plan.fixedFree),
    };
  }

  /**
   * @param n - a number.
   * @returns the number in Graph's format, `+{country code} {national number}`, as Graph stores
   *   phone methods.
   */
  public static graphFormat(n: DrawnNumber): string {
    return flat(`+${n.callingCode} ${n.nationalNumber}`);
  }

  /**
   * Spells a number with its country code, one of many ways HR types it: spaces, `00` prefix,
   * `(0)`, dots, dashes, `tel:`, labels, extensions, full-width digits, non-breaking spaces.
   *
   * @param n - the number.
   * @returns a messy string that libphonenumber still parses to `n`.
   */
  public international(n: DrawnNumber): string {
    const cc = n.callingCode;
    const nn = n.nationalNumber;
    const trunk = this.plans[n.countryIndex]!.trunk;
    switch (this.prng.int(14)) {
      case 0:
      case 1:
      case 2:
        return `+${cc} ${group(nn, " ")}`;
      case 3:
        return `+${cc}${nn}`;
      case 4:
        return `00${cc} ${nn}`;
      case 5:
        return trunk === "0" ? `+${cc} (0)${group(nn, " ")}` : `+${cc} ${nn}`;
      case 6:
        return `+${cc}.${group(nn, ".")}`;
      case 7:
        return `+${cc}-${group(nn, "-")}`;
      case 8:
        return `tel:+${cc}-${group(nn, "-")}`;
      case 9:
        return `${this.prng.pick(LABELS)}+${cc} ${group(nn, " ")}`;
      case 10:
        return `+${cc} ${group(nn, " ")}${this.prng.pick(EXTENSIONS)}${100 + this.prng.int(900)}`;
      case 11:
        return toFullWidth(`+${cc} ${nn}`);
      case 12:
        return `+${cc}\u00a0${group(nn, "\u00a0")}`;
      default:
        return ` +${cc} ${nn} `;
    }
  }

  /**
   * Spells a number without its country code, as written inside its own country: `07400 123456`
   * (GB), `(206) 555-0100` (US, CA), `20 12 34 56` (DK).
   *
   * @param n - the number.
   * @returns a national spelling, valid only with the number's country as default region.
   */
  public national(n: DrawnNumber): string {
    const nn = n.nationalNumber;
    if (n.callingCode === "1") {
      return this.prng.int(2) === 0
        ? `(${nn.slice(0, 3)}) ${nn.slice(3, 6)}-${nn.slice(6)}`
        : `${nn.slice(0, 3)}-${nn.slice(3, 6)}-${nn.slice(6)}`;
    }
    const trunk = this.plans[n.countryIndex]!.trunk;
    return this.prng.int(2) === 0
      ? `${trunk}${nn.slice(0, 4)} ${nn.slice(4)}`
      : `${trunk}${group(nn, " ")}`;
  }

  /**
   * A value that is not a usable mobile number, of the given kind.
   *
   * @param kind - which sort of garbage.
   * @returns the value.
   */
  public garbage(kind: NumberKind): string {
    switch (kind) {
      case NumberKind.placeholder:
        return this.prng.pick(PLACEHOLDERS);
      case NumberKind.tooShort: {
        const n = this.mobile();
        return `+${n.callingCode} ${n.nationalNumber.slice(0, 3)}`;
      }
      case NumberKind.tooLong: {
        const n = this.mobile();
        return `+${n.callingCode} ${n.nationalNumber}${randomDigits(this.prng, 6)}`;
      }
      case NumberKind.letters: {
        if (this.prng.int(2) === 0) {
          return this.prng.pick(WORDS);
        }
        const n = this.mobile();
        const nn = n.nationalNumber;
        return `+${n.callingCode} ${nn.slice(0, 2)} ${nn.slice(2, 4)} AB ${nn.slice(6)}`;
      }
      case NumberKind.twoNumbers: {
        const a = this.mobile();
        const b = this.mobile(a.countryIndex);
        return `+${a.callingCode} ${a.nationalNumber}${this.prng.pick(SEPARATORS)}+${b.callingCode} ${b.nationalNumber}`;
      }
      case NumberKind.fixedLine:
        return this.international(this.fixedLine()).replace(/^(Mobile|Mob\.|Cell|Phone): ?/, "");
      default:
        throw new RangeError(`GraphEmulator: '${kind}' is not a garbage number kind.`);
    }
  }
}

const LABELS: readonly string[] = ["Mobile: ", "Mob. ", "Cell ", "Phone: "];
const EXTENSIONS: readonly string[] = [" x", " ext. ", " ext "];
const SEPARATORS: readonly string[] = [" / ", ", ", "; ", " or "];
const PLACEHOLDERS: readonly string[] = [
  "N/A",
  "n/a",
  "-",
  "0",
  "none",
  "TBD",
  "unknown",
  ".",
  "+",
];
const WORDS: readonly string[] = [
  "ask reception",
  "see Teams",
  "private",
  "call the office",
  "mobile number pending",
  "no phone",
];

// Groups digits in twos from the start, with a leading three when the count is odd.
function group(digits: string, separator: string): string {
  let at = digits.length % 2 === 1 ? 3 : 2;
  let out = digits.slice(0, at);
  for (; at < digits.length; at += 2) {
    out += separator + digits.slice(at, at + 2);
  }
  return out;
}

function toFullWidth(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    // libphonenumber-js reads full-width digits but not a full-width plus sign, so "+" stays ASCII.
    out += code >= 48 && code <= 57 ? String.fromCharCode(0xff10 + code - 48) : ch;
  }
  return out;
}
