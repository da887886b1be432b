/**
 * Phone-number normalisation: free text from HR or the directory in, Graph's phone-method format
 * (`+{country code} {national number}[x{extension}]`) or a reason a person understands out.
 *
 * Writing an MFA method is a security act: a wrong number hands someone else a factor of the
 * account. Every rule here therefore rejects when in doubt (several numbers in one field, letters,
 * placeholders, numbers outside the assigned ranges of the full metadata) instead of guessing.
 */
import {
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
  type CountryCode,
  type NumberType,
  type PhoneNumber,
} from "libphonenumber-js/max";

import { classifyNationalNumber, type Classification } from "./classify.js";
import {
  canonicalText,
  digitCount,
  isPlaceholderText,
  singleNumberText,
  splitExtension,
  stripDecorations,
} from "./text.js";

/** Why a raw value was not turned into a number. A closed set: callers may branch on it. */
export type NormalizeFailureCode =
  | "empty"
  | "placeholder"
  | "letters"
  | "invalidCharacters"
  | "multipleNumbers"
  | "noRegion"
  | "unknownRegion"
  | "unknownCountry"
  | "tooShort"
  | "tooLong"
  | "invalid"
  | "fixedLine"
  | "notMobile";

/**
 * The outcome of {@link normalizePhoneNumber}: the number in Graph's format with its region
 * (ISO 3166-1 alpha-2, absent for non-geographic codes such as +800) and libphonenumber type, or
 * a sentence saying why not with a stable code. The reason never repeats the input.
 */
export type NormalizeResult =
  | { ok: true; phoneNumber: string; region?: string; type?: string }
  | { ok: false; reason: string; code: NormalizeFailureCode };

/** Options of {@link normalizePhoneNumber}. */
export interface NormalizeOptions {
  /** ISO 3166-1 alpha-2 region for numbers written without a country code (`DEFAULT_REGION`). */
  defaultRegion?: string;
  /** Accept numbers that are fixed-line only (`ALLOW_LANDLINE`). */
  allowLandline?: boolean;
}

type Failure = Extract<NormalizeResult, { ok: false }>;

function fail(code: NormalizeFailureCode, reason: string): Failure {
  return { ok: false, code, reason };
}

const TYPE_NAMES: Partial<Record<NumberType & string, string>> = {
  VOIP: "an internet telephony (VoIP) number",
  PAGER: "a pager number",
  UAN: "a company switchboard number (UAN)",
  TOLL_FREE: "a toll-free number",
  PREMIUM_RATE: "a premium-rate number",
  SHARED_COST: "a shared-cost number",
  PERSONAL_NUMBER: "a personal forwarding number",
  VOICEMAIL: "a voicemail access number",
};

// Runs of one digit and straight counting sequences are what people type into a mandatory field
// when they do not know the number; some of them are valid numbers that belong to someone else.
// Runs do not wrap from 9 to 0: "90 12345678" is a Japanese mobile, not a sequence.
const ASCENDING = "01234567890";
const DESCENDING = "9876543210";

function looksFake(nationalNumber: string): boolean {
  if (nationalNumber.length < 6) {
    return false;
  }
  return (
    /^(\d)\1+$/.test(nationalNumber) ||
    ASCENDING.includes(nationalNumber) ||
    DESCENDING.includes(nationalNumber)
  );
}

function where(
  number: { country?: string; countryCallingCode?: string } | undefined,
  region?: string,
): string {
  const country = number?.country ?? region;
  const code = number?.countryCallingCode;
  if (country && code) {
    return ` for its country ('${country}', +${code})`;
  }
  if (country) {
    return ` for its country ('${country}')`;
  }
  return code ? ` for its country code (+${code})` : "";
}

function explainInvalid(
  text: string,
  parsed: PhoneNumber | undefined,
  defaultCountry: CountryCode | undefined,
): Failure {
  const lengthProblem = validatePhoneNumberLength(
    text,
    defaultCountry ? { defaultCountry } : undefined,
  );
  switch (lengthProblem) {
    case "INVALID_COUNTRY":
      return fail("unknownCountry", "The country calling code is not assigned to any country.");
    case "TOO_SHORT":
      return fail("tooShort", `The number is too short${where(parsed, defaultCountry)}.`);
    case "TOO_LONG":
      return fail("tooLong", `The number is too long${where(parsed, defaultCountry)}.`);
    case "INVALID_LENGTH":
      return fail(
        "invalid",
        `The number has a length that is not used${where(parsed, defaultCountry)}.`,
      );
    case "NOT_A_NUMBER":
      return fail("invalid", "The value cannot be read as a phone number.");
    default:
      return fail(
        "invalid",
        `The number is not valid${where(parsed, defaultCountry)}: it is not in a range that is assigned to subscribers.`,
      );
  }
}

function classify(parsed: PhoneNumber | undefined): Classification {
  return parsed
    ? classifyNationalNumber(
        parsed.nationalNumber as string,
        parsed.country,
        parsed.countryCallingCode as string,
      )
    : { valid: false };
}

const MULTIPLE_NUMBERS = "The field holds more than one phone number; keep one number per field.";

/**
 * Whether text that failed as one number is two valid numbers separated by a space
 * ("20123456 30123456"): only asked once a number has failed, so it costs nothing on good data.
 */
function looksLikeTwoNumbers(core: string, defaultCountry: CountryCode | undefined): boolean {
  const tokens = core.split(" ");
  for (let i = 1; i < tokens.length; i += 1) {
    const left = tokens.slice(0, i).join(" ");
    const right = tokens.slice(i).join(" ");
    const first = parse(left, defaultCountry);
    // The second number may lean on the first one's country ("+45 20123456 30123456").
    const secondCountry = defaultCountry ?? first?.country;
    if (classify(first).valid && classify(parse(right, secondCountry)).valid) {
      return true;
    }
  }
  return false;
}

/**
 * Parses text already reduced to digits, spaces and phone punctuation. It is handed to the library
 * as `+` and digits only, without its number-in-text extraction: the clean-up has already done
 * that, and punctuation such as `(0)` makes the library's parse several times slower while
 * carrying nothing the digits do not (the library strips a trunk prefix after the country code
 * from the digits alike).
 */
function parse(text: string, defaultCountry?: CountryCode): PhoneNumber | undefined {
  const compact = (text.trimStart().startsWith("+") ? "+" : "") + text.replace(/\D/g, "");
  return parsePhoneNumberFromString(
    compact,
    defaultCountry ? { defaultCountry, extract: false } : { extract: false },
  );
}

/** The field reduced to the text of one number, with the extension split off. */
interface NumberText {
  ok: true;
  /** Digits, spaces and phone punctuation, with at most a leading `+`. */
  core: string;
  digits: number;
  extension?: string;
}

/**
 * Stage 1, text: reduces the field to the text of one number, or rejects it for what it holds
 * besides (nothing, a placeholder, a label only, a second number, letters, other characters).
 */
function readNumberText(raw: string | null | undefined): NumberText | Failure {
  if (raw === null || raw === undefined || typeof raw !== "string") {
    return fail("empty", "The field is empty.");
  }
  const text = canonicalText(raw);
  if (text === "") {
    return fail("empty", "The field is empty.");
  }
  if (isPlaceholderText(text)) {
    return fail(
      "placeholder",
      "The field holds a placeholder such as 'N/A' or '-', not a phone number.",
    );
  }
  const undecorated = stripDecorations(text);
  if (undecorated === "" || isPlaceholderText(undecorated)) {
    return fail("placeholder", "The field holds a label or note but no phone number.");
  }
  const split = splitExtension(undecorated);
  if (split.extensionTooLong) {
    return fail(
      "multipleNumbers",
      "The field holds more than one phone number (a second number follows an extension marker); keep one number per field.",
    );
  }
  const single = singleNumberText(split.main);
  if (single.multiple) {
    return fail("multipleNumbers", MULTIPLE_NUMBERS);
  }
  const core = single.text;
  const digits = digitCount(core);
  return checkCharacters(core, digits) ?? { ok: true, core, digits, extension: split.extension };
}

/** Rejects number text that has no digits, letters, foreign characters or only zeros. */
function checkCharacters(core: string, digits: number): Failure | undefined {
  if (digits === 0) {
    return /\p{L}/u.test(core)
      ? fail("placeholder", "The field holds words but no phone number.")
      : fail("placeholder", "The field holds no digits.");
  }
  if (/\p{L}/u.test(core)) {
    return fail(
      "letters",
      "The number contains letters; write letters that stand for digits (as in 1-800-FLOWERS) and notes outside the number field.",
    );
  }
  if (!/^\+?[\d\s\-.()]+$/.test(core)) {
    return fail(
      "invalidCharacters",
      "The number contains characters that do not belong in a phone number.",
    );
  }
  if (/^[^1-9]*$/.test(core)) {
    return fail(
      "placeholder",
      "The field holds only zeros, a placeholder rather than a phone number.",
    );
  }
  return undefined;
}

/** The number text and the country its national digits belong to, when it has no `+`. */
interface Dialling {
  ok: true;
  core: string;
  /** Absent when the number is international (written with `+`, or `00` read as `+`). */
  defaultCountry?: CountryCode;
}

/**
 * Stage 2, country: decides whether the number is international or national to the default
 * region, or rejects it when neither can be known.
 */
function resolveDialling(
  numberText: string,
  defaultRegion: string | undefined,
): Dialling | Failure {
  let core = numberText;
  const region = defaultRegion?.trim().toUpperCase() || undefined;
  let international = core.startsWith("+");
  if (!international && region === undefined && core.startsWith("00")) {
    // "00" is the ITU-recommended international prefix and used by most of the world; without a
    // default region it is the only prefix that can be read without guessing.
    core = `+${core.slice(2)}`;
    international = true;
  }
  if (!international && region === undefined) {
    return fail(
      "noRegion",
      "The number has no country code and no default region is set; write it as +{country code} {number} or set DEFAULT_REGION.",
    );
  }
  if (international) {
    return { ok: true, core };
  }
  if (region === undefined || !isSupportedCountry(region)) {
    return fail("unknownRegion", `The default region '${region ?? ""}' is not a known region.`);
  }
  return { ok: true, core, defaultCountry: region };
}

/** A parse the full metadata holds valid, with its type. */
interface ValidNumber {
  ok: true;
  parsed: PhoneNumber;
  type: Classification["type"];
}

/** Parses `text` without a default country and keeps it only when it is a valid number. */
function validReading(text: string): ValidNumber | undefined {
  const parsed = parse(text);
  const verdict = classify(parsed);
  return parsed && verdict.valid ? { ok: true, parsed, type: verdict.type } : undefined;
}

/**
 * The readings tried, in this order, when the number is not valid as written. Each is taken only
 * when it is valid, so a failure is still explained from the number as written.
 */
function alternativeReading(
  core: string,
  digits: number,
  defaultCountry: CountryCode | undefined,
): ValidNumber | undefined {
  // A country code typed without its "+": only when the digits are too long for the default
  // region, so a mistyped national number is never reinterpreted as another country's number.
  // A leading group in parentheses is an area code ("(201) 555-0124"), never a country code.
  if (
    defaultCountry !== undefined &&
    !core.startsWith("0") &&
    !core.trimStart().startsWith("(") &&
    digits >= 8 &&
    validatePhoneNumberLength(core, { defaultCountry }) === "TOO_LONG"
  ) {
    const withPlus = validReading(`+${core.replace(/\D/g, "")}`);
    if (withPlus) {
      return withPlus;
    }
  }
  if (defaultCountry !== undefined && core.startsWith("00")) {
    // "00" is the international prefix of most of the world; in a region that dials out with
    // another prefix (011 in NANP, 0011 in Australia) no national number starts with it, so a
    // number that is valid only when read as "+..." is an international number.
    const international00 = validReading(`+${core.slice(2)}`);
    if (international00) {
      return international00;
    }
  }
  if (/^\+\d{1,3}\s*\(0\)/.test(core)) {
    // "+45 (0)20..." copies the UK habit to plans without a trunk 0; where the 0 does belong to
    // the number (Italy) the first reading was already valid.
    return validReading(core.replace("(0)", ""));
  }
  return undefined;
}

/**
 * Stage 3, parse: the number as written, else the first valid alternative reading, else the
 * reason it is not a number (two numbers in one field, a wrong length, an unassigned range).
 */
function parseValidNumber(
  core: string,
  digits: number,
  defaultCountry: CountryCode | undefined,
): ValidNumber | Failure {
  const parsed = parse(core, defaultCountry);
  const verdict = classify(parsed);
  if (parsed && verdict.valid) {
    return { ok: true, parsed, type: verdict.type };
  }
  const alternative = alternativeReading(core, digits, defaultCountry);
  if (alternative) {
    return alternative;
  }
  if (digits >= 12 && looksLikeTwoNumbers(core, defaultCountry)) {
    return fail("multipleNumbers", MULTIPLE_NUMBERS);
  }
  return explainInvalid(core, parsed, defaultCountry);
}

/**
 * Stage 4, policy: rejects placeholders that happen to be valid and every type that is not a
 * personal phone able to take the sign-in (landlines only with `allowLandline`).
 */
function checkPolicy(
  nationalNumber: string,
  type: Classification["type"],
  allowLandline: boolean | undefined,
): Failure | undefined {
  if (looksFake(nationalNumber)) {
    return fail(
      "placeholder",
      "The number is one digit repeated or a counting sequence, a placeholder rather than a real number.",
    );
  }
  if (type === "FIXED_LINE" || type === undefined) {
    if (!allowLandline) {
      return fail(
        "fixedLine",
        type === "FIXED_LINE"
          ? "The number is a landline, which cannot receive text messages; set ALLOW_LANDLINE to accept landlines."
          : "The number cannot be confirmed as a mobile number; set ALLOW_LANDLINE to accept numbers that may be landlines.",
      );
    }
  } else if (type !== "MOBILE" && type !== "FIXED_LINE_OR_MOBILE") {
    const name = TYPE_NAMES[type] ?? "not a mobile number";
    return fail(
      "notMobile",
      `The number is ${name}, which cannot serve as a personal sign-in phone.`,
    );
  }
  return undefined;
}

/** Stage 5, format: Graph's `+{country code} {national number}[x{extension}]` with region and type. */
function formatNumber(
  parsed: PhoneNumber,
  type: Classification["type"],
  extension: string | undefined,
): NormalizeResult {
  const ext = extension ?? parsed.ext;
  const phoneNumber = `+${parsed.countryCallingCode} ${parsed.nationalNumber}${ext ? `x${ext}` : ""}`;
  const result: NormalizeResult = { ok: true, phoneNumber };
  if (parsed.country) {
    result.region = parsed.country;
  }
  if (type) {
    result.type = type;
  }
  return result;
}

/**
 * Turns a free-text phone field into Graph's phone-method format, or says why it cannot.
 *
 * Accepted spellings: spaces, dashes, dots, parentheses, non-breaking and other Unicode spaces,
 * bidi and zero-width marks, full-width and other Unicode decimal digits, a `tel:` URI, a label
 * (`Mobile:`, `Cell -`, `M:`), a note in brackets (`(private)`), the international prefix of the
 * default region (`00`, `011`, `0011`; without a default region `00`, the ITU prefix, is read as
 * `+`; with a default region that dials out otherwise, `00` is still tried when the number is
 * valid only that way), a national trunk prefix (`020 ...`), `+44 (0)7400 ...` (and the same
 * habit in plans without a trunk 0), a country code written without `+` when the digits are too
 * long for the default region (`12065550100` in DK), spreadsheet quoting (`'+45...`,
 * `="+45..."`), and extensions (`ext.`, `ext`, `x`, `#`, up to six digits).
 *
 * Rejected: empty and placeholder values (`N/A`, `-`, `0`, all zeros, one digit repeated, a
 * counting sequence), letters (`1-800-FLOWERS`), more than one number in the field, no country
 * code and no default region, unknown country codes, and numbers the full metadata does not hold
 * valid (too short, too long, unassigned ranges such as the UK's 07700 900xxx drama numbers).
 *
 * Number types: `MOBILE` and `FIXED_LINE_OR_MOBILE` (the US, Canada and others cannot tell the two
 * apart) are accepted; `FIXED_LINE` only with `allowLandline`, because an SMS code cannot reach a
 * landline (voice calls can, which is what the setting is for). Every other type is rejected even
 * with `allowLandline`: VoIP, pager, UAN, toll-free, premium-rate, shared-cost, personal and
 * voicemail numbers are either not reachable by SMS, shared by many people, or cost the caller
 * money, so none of them is a personal second factor. A valid number of unknown type is treated
 * like a landline, since nothing shows that it can receive SMS.
 *
 * @param raw - the field as stored; `null` and `undefined` count as empty.
 * @param options - default region and landline policy.
 * @returns the number in Graph's format, or a reason with a code. Never throws.
 */
export function normalizePhoneNumber(
  raw: string | null | undefined,
  options: NormalizeOptions = {},
): NormalizeResult {
  const text = readNumberText(raw);
  if (!text.ok) {
    return text;
  }
  const dialling = resolveDialling(text.core, options.defaultRegion);
  if (!dialling.ok) {
    return dialling;
  }
  const number = parseValidNumber(dialling.core, text.digits, dialling.defaultCountry);
  if (!number.ok) {
    return number;
  }
  const { parsed, type } = number;
  return (
    checkPolicy(parsed.nationalNumber as string, type, options.allowLandline) ??
    formatNumber(parsed, type, text.extension)
  );
}
