import { describe, expect, it } from "vitest";

import { normalizePhoneNumber, type NormalizeOptions } from "../../../shared/phone/normalize.js";

/**
 * One row: input, options, and either the Graph-format number expected or `!code` for a rejection.
 * Expectations come from the numbering plans (ITU/Ofcom/NANP and national regulators as encoded
 * in libphonenumber's full metadata), not from this function's output.
 */
type Row = [
  label: string,
  input: string | null | undefined,
  options: NormalizeOptions,
  expected: string,
];

const DK = { defaultRegion: "DK" };
const GB = { defaultRegion: "GB" };
const US = { defaultRegion: "US" };
const DE = { defaultRegion: "DE" };
const FR = { defaultRegion: "FR" };
const AU = { defaultRegion: "AU" };
const SE = { defaultRegion: "SE" };
const NONE: NormalizeOptions = {};
const LANDLINE = { allowLandline: true };

const accepted: Row[] = [
  // Denmark: 8-digit closed plan, no trunk prefix, IDD 00; mobile and fixed share ranges.
  ["DK international", "+45 20123456", NONE, "+45 20123456"],
  ["DK without space", "+4520123456", NONE, "+45 20123456"],
  ["DK grouped in pairs", "+45 20 12 34 56", NONE, "+45 20123456"],
  ["DK national with default region", "20123456", DK, "+45 20123456"],
  ["DK 00 prefix with default region", "0045 20123456", DK, "+45 20123456"],
  ["DK 00 prefix without default region (ITU prefix)", "0045 20123456", NONE, "+45 20123456"],
  ["DK country code without plus", "4520123456", DK, "+45 20123456"],
  ["DK dashes", "+45 20-12-34-56", NONE, "+45 20123456"],
  ["DK dots", "+45 20.12.34.56", NONE, "+45 20123456"],
  ["DK label Mobile:", "Mobile: +45 20 12 34 56", NONE, "+45 20123456"],
  ["DK label Cell -", "Cell - 20123456", DK, "+45 20123456"],
  ["DK label M:", "M: 20123456", DK, "+45 20123456"],
  ["DK label Mob.", "Mob. 20123456", DK, "+45 20123456"],
  ["DK trailing note", "+45 20123456 (private)", NONE, "+45 20123456"],
  ["DK trailing note in square brackets", "+45 20123456 [old]", NONE, "+45 20123456"],
  ["DK note after comma", "+45 20123456, private", NONE, "+45 20123456"],
  ["DK non-breaking spaces", "+45\u00A020\u00A012\u00A034\u00A056", NONE, "+45 20123456"],
  ["DK narrow no-break space", "+45\u202F20123456", NONE, "+45 20123456"],
  ["DK bidi marks", "\u200E+45 20123456\u200F", NONE, "+45 20123456"],
  ["DK bidi embedding and isolate", "\u202A+45 20123456\u202C\u2066\u2069", NONE, "+45 20123456"],
  ["DK zero-width space and BOM", "\uFEFF+45\u200B20123456", NONE, "+45 20123456"],
  ["DK full-width digits and plus", "＋４５ ２０１２３４５６", NONE, "+45 20123456"],
  ["DK Arabic-Indic digits", "+٤٥ ٢٠١٢٣٤٥٦", NONE, "+45 20123456"],
  ["DK Eastern Arabic-Indic digits", "+۴۵ ۲۰۱۲۳۴۵۶", NONE, "+45 20123456"],
  ["DK Devanagari digits", "२०१२३४५६", DK, "+45 20123456"],
  [
    "DK mathematical bold digits",
    "+\u{1D7D2}\u{1D7D3} \u{1D7D0}\u{1D7CE}\u{1D7CF}\u{1D7D0}\u{1D7D1}\u{1D7D2}\u{1D7D3}\u{1D7D4}",
    NONE,
    "+45 20123456",
  ],
  ["DK en dash and minus sign", "+45 20\u201312\u221234\u201156", NONE, "+45 20123456"],
  ["DK tel: URI", "tel:+45-20-12-34-56", NONE, "+45 20123456"],
  ["DK surrounding whitespace and tab", " \t+45 20123456  ", NONE, "+45 20123456"],
  ["DK trailing hash", "+45 20123456#", NONE, "+45 20123456"],
  ["DK trailing separator", "+45 20123456;", NONE, "+45 20123456"],
  ["DK country code in parentheses", "(+45) 20 12 34 56", NONE, "+45 20123456"],
  ["DK plus outside parentheses", "+(45) 20123456", NONE, "+45 20123456"],
  ["DK doubled plus", "++45 20123456", NONE, "+45 20123456"],
  ["DK Excel leading apostrophe", "'+45 20123456", NONE, "+45 20123456"],
  ["DK Excel text formula", '="+4520123456"', NONE, "+45 20123456"],
  ["DK CSV quotes", '"+45 20123456"', NONE, "+45 20123456"],
  ["DK (0) habit copied from the UK", "+45 (0) 20123456", NONE, "+45 20123456"],
  // United Kingdom: trunk 0, mobile 07xxx (10-digit NSN), "(0)" convention in international form.
  ["GB mobile international", "+44 7400 123456", NONE, "+44 7400123456"],
  ["GB mobile national", "07400 123456", GB, "+44 7400123456"],
  ["GB (0) convention", "+44 (0)7400 123456", NONE, "+44 7400123456"],
  ["GB (0) convention with spaces", "+44 (0) 7400 123 456", NONE, "+44 7400123456"],
  ["GB 00 prefix", "00447400123456", GB, "+44 7400123456"],
  ["GB country code without plus", "447400123456", GB, "+44 7400123456"],
  [
    "GB landline allowed",
    "020 7946 0958",
    { defaultRegion: "GB", allowLandline: true },
    "+44 2079460958",
  ],
  ["GB mobile in another tenant's region", "+44 7400 123456", DK, "+44 7400123456"],
  // NANP: FIXED_LINE_OR_MOBILE everywhere, trunk 1, IDD 011.
  ["US Graph example", "+1 2065550100", NONE, "+1 2065550100"],
  ["US parentheses", "(206) 555-0100", US, "+1 2065550100"],
  ["US international parentheses", "+1 (206) 555-0100", NONE, "+1 2065550100"],
  ["US dots", "206.555.0100", US, "+1 2065550100"],
  ["US trunk 1", "1-206-555-0100", US, "+1 2065550100"],
  ["US ext.", "+1 206 555 0100 ext. 123", NONE, "+1 2065550100x123"],
  ["US ext without dot", "(206) 555-0100 ext 4567", US, "+1 2065550100x4567"],
  ["US extension word", "206-555-0100 extension 12", US, "+1 2065550100x12"],
  ["US x", "(206) 555-0100 x123", US, "+1 2065550100x123"],
  ["US x without space", "+1 206 555 0100x123", NONE, "+1 2065550100x123"],
  ["US hash", "206-555-0100#123", US, "+1 2065550100x123"],
  ["US extension written as a note", "(206) 555-0100 (ext. 123)", US, "+1 2065550100x123"],
  ["US tel: URI with ext", "tel:+1-206-555-0100;ext=42", NONE, "+1 2065550100x42"],
  ["US number in a DK tenant without plus", "12065550100", DK, "+1 2065550100"],
  ["US 011 prefix to the UK", "011 44 7400 123456", US, "+44 7400123456"],
  ["US region with the ITU 00 prefix", "0045 20123456", US, "+45 20123456"],
  ["CA Toronto", "+1 416 555 0199", NONE, "+1 4165550199"],
  ["CA Vancouver national", "604-555-0100", { defaultRegion: "CA" }, "+1 6045550100"],
  // Rest of the world: mobile ranges of each plan.
  ["DE mobile", "+49 176 12345678", NONE, "+49 17612345678"],
  ["DE mobile national with slash", "0171/1234567", DE, "+49 1711234567"],
  ["DE mobile 00 prefix", "0049 1511 2345678", DE, "+49 15112345678"],
  [
    "DE landline with slash allowed",
    "089/1234567",
    { defaultRegion: "DE", allowLandline: true },
    "+49 891234567",
  ],
  ["FR mobile 06", "06 12 34 56 78", FR, "+33 612345678"],
  ["FR mobile 07 international", "+33 7 81 23 45 67", NONE, "+33 781234567"],
  ["IT mobile", "+39 347 123 4567", NONE, "+39 3471234567"],
  ["IT landline keeps its leading 0", "+39 02 1234 5678", LANDLINE, "+39 0212345678"],
  ["IT (0) that belongs to the number is kept", "+39 (0)6 1234 5678", LANDLINE, "+39 0612345678"],
  ["ES mobile", "+34 612 34 56 78", NONE, "+34 612345678"],
  ["ES mobile 7xx", "612 34 56 78", { defaultRegion: "ES" }, "+34 612345678"],
  ["NL mobile", "06-12345678", { defaultRegion: "NL" }, "+31 612345678"],
  ["SE mobile", "070-123 45 67", SE, "+46 701234567"],
  ["SE mobile international", "+46 73 123 45 67", NONE, "+46 731234567"],
  ["NO mobile", "+47 412 34 567", NONE, "+47 41234567"],
  ["NO mobile national", "48 12 34 56", { defaultRegion: "NO" }, "+47 48123456"],
  ["FI mobile", "040 1234567", { defaultRegion: "FI" }, "+358 401234567"],
  ["PL mobile", "+48 601 234 567", NONE, "+48 601234567"],
  ["AU mobile", "0412 345 678", AU, "+61 412345678"],
  ["AU 0011 prefix", "0011 44 7400 123456", AU, "+44 7400123456"],
  ["AU trunk 0 kept after +61", "+61 0412 345 678", NONE, "+61 412345678"],
  ["NZ mobile", "+64 21 123 4567", NONE, "+64 211234567"],
  ["JP mobile", "090-1234-5678", { defaultRegion: "JP" }, "+81 9012345678"],
  ["BR mobile with ninth digit", "+55 11 91234-5678", NONE, "+55 11912345678"],
  ["MX mobile after 2019 plan", "+52 55 1234 5678", NONE, "+52 5512345678"],
  ["ZA mobile", "082 123 4567", { defaultRegion: "ZA" }, "+27 821234567"],
  ["CH mobile", "+41 78 123 45 67", NONE, "+41 781234567"],
  ["AT mobile", "0664 1234567", { defaultRegion: "AT" }, "+43 6641234567"],
  ["BE mobile", "+32 470 12 34 56", NONE, "+32 470123456"],
  ["IE mobile", "087 123 4567", { defaultRegion: "IE" }, "+353 871234567"],
  ["PT mobile", "+351 912 345 678", NONE, "+351 912345678"],
  ["SG mobile", "+65 8123 4567", NONE, "+65 81234567"],
  ["CN mobile", "+86 138 0013 8000", NONE, "+86 13800138000"],
  ["RU mobile with trunk 8", "8 (912) 345-67-89", { defaultRegion: "RU" }, "+7 9123456789"],
  ["AE mobile", "+971 50 123 4567", NONE, "+971 501234567"],
  ["KR mobile", "010-1234-5678", { defaultRegion: "KR" }, "+82 1012345678"],
  ["TR mobile", "+90 532 123 45 67", NONE, "+90 5321234567"],
  ["EG mobile", "+20 10 1234 5678", NONE, "+20 1012345678"],
  ["NG mobile", "+234 802 123 4567", NONE, "+234 8021234567"],
  ["IS mobile", "+354 771 2345", NONE, "+354 7712345"],
  ["FO mobile", "+298 51 12 34", NONE, "+298 511234"],
  ["IM mobile under +44", "+44 7624 123456", NONE, "+44 7624123456"],
  ["HU mobile", "+36 20 123 4567", NONE, "+36 201234567"],
  ["GR mobile", "+30 691 234 5678", NONE, "+30 6912345678"],
  ["lowercase default region", "20123456", { defaultRegion: "dk" }, "+45 20123456"],
];

const rejected: Row[] = [
  // A US number written nationally is not a country code without "+": "(201)" is an area code,
  // so it must not become the Egyptian landline +20 15550124 in a Danish tenant.
  [
    "US national form in a DK tenant, landlines allowed",
    "(201) 555-0124",
    { defaultRegion: "DK", allowLandline: true },
    "!tooLong",
  ],
  ["null", null, DK, "!empty"],
  ["undefined", undefined, DK, "!empty"],
  ["empty string", "", DK, "!empty"],
  ["only spaces", "   ", DK, "!empty"],
  ["only non-breaking space and bidi mark", "\u00A0\u200E", DK, "!empty"],
  ["N/A", "N/A", DK, "!placeholder"],
  ["n/a", "n/a", DK, "!placeholder"],
  ["dash", "-", DK, "!placeholder"],
  ["zero", "0", DK, "!placeholder"],
  ["none", "none", DK, "!placeholder"],
  ["Unknown", "Unknown", DK, "!placeholder"],
  ["TBD", "TBD", DK, "!placeholder"],
  ["dot", ".", DK, "!placeholder"],
  ["all zeros", "00000000", DK, "!placeholder"],
  ["all zeros US style", "000-000-0000", US, "!placeholder"],
  ["plus and zeros", "+00 000000", NONE, "!placeholder"],
  ["label without number", "Mobile:", DK, "!placeholder"],
  ["label with placeholder", "Mobile: n/a", DK, "!placeholder"],
  ["words only", "ask reception", DK, "!placeholder"],
  ["repeated digit valid in DK", "99999999", DK, "!placeholder"],
  ["counting sequence IN", "+91 98765 43210", NONE, "!placeholder"],
  ["vanity number", "1-800-FLOWERS", US, "!letters"],
  ["letter O for zero", "+45 2O123456", NONE, "!letters"],
  ["word inside the number", "+45 2012 call 3456", NONE, "!letters"],
  ["stray symbols", "+45 2012*3456", NONE, "!invalidCharacters"],
  ["plus in the middle", "2012+3456", DK, "!invalidCharacters"],
  ["two numbers with comma", "20123456, 30123456", DK, "!multipleNumbers"],
  ["two numbers with slash and spaces", "20123456 / 30123456", DK, "!multipleNumbers"],
  ["two numbers with slash", "20123456/30123456", DK, "!multipleNumbers"],
  ["two international numbers with or", "+45 20123456 or +45 30123456", NONE, "!multipleNumbers"],
  ["two numbers with or", "20123456 or 30123456", DK, "!multipleNumbers"],
  ["two numbers with Danish eller", "20123456 eller 30123456", DK, "!multipleNumbers"],
  ["two numbers with semicolon", "+45 20123456; +45 30123456", NONE, "!multipleNumbers"],
  ["two numbers with pipe", "+45 20123456 | 30123456", NONE, "!multipleNumbers"],
  ["two numbers with ampersand", "20123456 & 30123456", DK, "!multipleNumbers"],
  ["two numbers on two lines", "+45 20123456\r\n+45 30123456", NONE, "!multipleNumbers"],
  ["two numbers separated by a space only", "+45 20123456 +45 30123456", NONE, "!multipleNumbers"],
  [
    "second number after slash with plus",
    "+49 171 1234567/+49 172 7654321",
    NONE,
    "!multipleNumbers",
  ],
  [
    "second number after comma must not be an extension",
    "+45 20123456, 30123456",
    NONE,
    "!multipleNumbers",
  ],
  ["second number after x", "+45 20123456 x 30123456", NONE, "!multipleNumbers"],
  [
    "second number inside a trailing note",
    "+45 20123456 (home 30123456)",
    NONE,
    "!multipleNumbers",
  ],
  ["second number inside a leading note", "(mobile 30123456) 20123456", DK, "!multipleNumbers"],
  ["two national numbers separated by a space", "20123456 30123456", DK, "!multipleNumbers"],
  [
    "second number leaning on the first one's country",
    "+45 20123456 30123456",
    NONE,
    "!multipleNumbers",
  ],
  ["no country code and no region", "20123456", NONE, "!noRegion"],
  ["US national without region", "(206) 555-0100", NONE, "!noRegion"],
  ["011 prefix without region is not guessed", "011 44 7400 123456", NONE, "!noRegion"],
  ["unsupported default region", "20123456", { defaultRegion: "XX" }, "!unknownRegion"],
  ["unassigned country code 999", "+999 12345678", NONE, "!unknownCountry"],
  ["unassigned country code via 00", "00999 12345678", DK, "!unknownCountry"],
  ["DK too short", "+45 2012345", NONE, "!tooShort"],
  ["DK national too short", "2012345", DK, "!tooShort"],
  ["DK too long", "+45 201234567", NONE, "!tooLong"],
  ["GB too short", "+44 7400 12", NONE, "!tooShort"],
  [
    "GB mobile missing a digit (9 digits exist in GB, not as mobiles)",
    "+44 7400 12345",
    NONE,
    "!invalid",
  ],
  ["GB too long", "+44 7400 1234567", NONE, "!tooLong"],
  ["MX mobile with the retired 1", "+52 1 55 1234 5678", NONE, "!tooLong"],
  ["GB drama range 07700 900xxx", "07700 900123", GB, "!invalid"],
  ["GB drama range international", "+44 7700 900999", NONE, "!invalid"],
  ["NANP 555 fictional range", "+1 555 555 1234", NONE, "!invalid"],
  ["DK unassigned range", "+45 11111112", NONE, "!invalid"],
  ["DE unassigned 032", "+49 32 12345678", NONE, "!invalid"],
  ["US national length in US region is not reinterpreted as +45", "4520123456", US, "!invalid"],
  ["GB landline", "020 7946 0958", GB, "!fixedLine"],
  ["GB landline international", "+44 161 496 0000", NONE, "!fixedLine"],
  ["DE landline", "089/1234567", DE, "!fixedLine"],
  ["FR landline", "+33 1 23 45 67 80", NONE, "!fixedLine"],
  ["IT landline", "+39 02 1234 5678", NONE, "!fixedLine"],
  ["SE landline", "08-123 456 78", SE, "!fixedLine"],
  ["NO landline", "+47 22 12 34 56", NONE, "!fixedLine"],
  ["AU landline", "(02) 9876 5432", AU, "!fixedLine"],
  ["FO landline", "+298 201234", NONE, "!fixedLine"],
  ["JP landline", "+81 3-1234-5678", NONE, "!fixedLine"],
  ["US toll-free", "+1 800 555 0100", NONE, "!notMobile"],
  [
    "US toll-free even with landlines allowed",
    "1-888-555-0100",
    { defaultRegion: "US", allowLandline: true },
    "!notMobile",
  ],
  ["US premium rate", "+1 900 555 0100", NONE, "!notMobile"],
  ["GB toll-free", "0800 123 4567", GB, "!notMobile"],
  ["GB premium rate", "+44 843 123 4567", NONE, "!notMobile"],
  ["GB UAN 03", "0300 123 4567", GB, "!notMobile"],
  ["GB VoIP 056", "+44 56 1234 5678", NONE, "!notMobile"],
  ["GB personal number 070", "+44 70 1234 5678", NONE, "!notMobile"],
  ["GB pager 076", "+44 76 2345 6789", NONE, "!notMobile"],
  ["FR VoIP 09", "09 12 34 56 78", FR, "!notMobile"],
  ["DK toll-free 80", "+45 80123456", NONE, "!notMobile"],
  ["DK premium rate 90", "+45 90123456", NONE, "!notMobile"],
  ["AU shared cost 1300", "1300 123 456", AU, "!notMobile"],
  ["DE premium rate 0900", "+49 900 1234567", NONE, "!notMobile"],
];

function check([, input, options, expected]: Row): void {
  const result = normalizePhoneNumber(input, options);
  if (expected.startsWith("!")) {
    expect(result).toMatchObject({ ok: false, code: expected.slice(1) });
  } else {
    expect(result).toMatchObject({ ok: true, phoneNumber: expected });
  }
}

describe("normalizePhoneNumber", () => {
  it("has a table of at least 100 cases over at least 20 countries", () => {
    const countries = new Set(
      [...accepted, ...rejected]
        .map(([label]) => label.split(" ")[0])
        .filter((w) => /^[A-Z]{2}$/.test(w ?? "")),
    );
    expect(accepted.length + rejected.length).toBeGreaterThanOrEqual(100);
    expect(countries.size).toBeGreaterThanOrEqual(20);
  });

  describe("accepts and formats as Graph expects", () => {
    it.each(accepted)("%s: %j", (...row) => check(row));
  });

  describe("rejects with a code", () => {
    it.each(rejected)("%s: %j", (...row) => check(row));
  });

  it("returns the region and type of an accepted number", () => {
    expect(normalizePhoneNumber("07400 123456", GB)).toEqual({
      ok: true,
      phoneNumber: "+44 7400123456",
      region: "GB",
      type: "MOBILE",
    });
  });

  it("rejects international freephone numbers (+800), which belong to no region", () => {
    const result = normalizePhoneNumber("+800 1234 5670", LANDLINE);
    expect(result).toMatchObject({ ok: false, code: "notMobile" });
  });

  it("gives reasons that are full sentences and never repeat the number", () => {
    const inputs = [
      "+45 2012345",
      "20123456, 30123456",
      "1-800-FLOWERS",
      "020 7946 0958",
      "+44 7700 900123",
    ];
    for (const input of inputs) {
      const result = normalizePhoneNumber(input, GB);
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.reason).toMatch(/^[A-Z].*\.$/);
        expect(result.reason).not.toContain(input.replace(/\D/g, "").slice(-6));
      }
    }
  });

  it("names the setting to change in the landline and region reasons", () => {
    expect(normalizePhoneNumber("020 7946 0958", GB)).toMatchObject({
      reason: expect.stringContaining("ALLOW_LANDLINE"),
    });
    expect(normalizePhoneNumber("20123456", NONE)).toMatchObject({
      reason: expect.stringContaining("DEFAULT_REGION"),
    });
  });

  it("does not throw on values a loose caller may pass", () => {
    const loose = [42, {}, [], true] as unknown as string[];
    for (const value of loose) {
      expect(normalizePhoneNumber(value, DK)).toMatchObject({ ok: false, code: "empty" });
    }
  });
});
