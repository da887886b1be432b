/**
 * Validity and number type by the full metadata, with the metadata's regular expressions compiled
 * once. `PhoneNumber.isValid()` and `getType()` of libphonenumber-js compile each pattern anew on
 * every call (`helpers/matchesEntirely.js`), which made them most of the cost of normalising a
 * number; this module applies the same rules (`helpers/getNumberType.js`, `isValid.js`) over
 * cached expressions. A test checks that both agree over every country.
 */
// The core build's Metadata over the max metadata: the max entry point exports no Metadata class
// in its CommonJS build, the core one does in both.
import { Metadata } from "libphonenumber-js/core";
import type { CountryCode, PhoneNumberType } from "libphonenumber-js/max";
import maxMetadata from "libphonenumber-js/metadata.max.json";

// The runtime shape of the library's numbering plan. It is not in the published typings, so it
// is declared here; the agreement test fails loudly if a library update changes it.
interface PlanType {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface NumberingPlan {
  nationalNumberPattern(): string;
  hasTypes(): boolean;
  type(type: string): PlanType | undefined;
}

interface CompiledType {
  type: PhoneNumberType;
  pattern: RegExp;
  lengths?: number[];
}

interface CompiledPlan {
  general: RegExp;
  hasTypes: boolean;
  fixedLine?: CompiledType;
  /** The mobile pattern was removed as a duplicate of the fixed-line one, or never given. */
  mobileSameAsFixed: boolean;
  mobile?: CompiledType;
  others: CompiledType[];
}

// The order the library tries types in after fixed-line.
const NON_FIXED_LINE_TYPES: PhoneNumberType[] = [
  "MOBILE",
  "PREMIUM_RATE",
  "TOLL_FREE",
  "SHARED_COST",
  "VOIP",
  "PERSONAL_NUMBER",
  "PAGER",
  "UAN",
  "VOICEMAIL",
];

const metadata = new Metadata(maxMetadata) as unknown as {
  selectNumberingPlan(countryOrCallingCode: string): void;
  numberingPlan?: NumberingPlan;
};
const plans = new Map<string, CompiledPlan>();

function whole(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

function compileType(plan: NumberingPlan, type: PhoneNumberType): CompiledType | undefined {
  const definition = plan.type(type);
  const pattern = definition?.pattern();
  if (!definition || !pattern) {
    return undefined;
  }
  return { type, pattern: whole(pattern), lengths: definition.possibleLengths() };
}

function compiledPlan(countryOrCallingCode: string): CompiledPlan {
  const cached = plans.get(countryOrCallingCode);
  if (cached) {
    return cached;
  }
  metadata.selectNumberingPlan(countryOrCallingCode);
  const plan = metadata.numberingPlan as NumberingPlan;
  const mobileDefinition = plan.type("MOBILE");
  const compiled: CompiledPlan = {
    general: whole(plan.nationalNumberPattern()),
    hasTypes: plan.hasTypes(),
    fixedLine: compileType(plan, "FIXED_LINE"),
    mobileSameAsFixed: !mobileDefinition || mobileDefinition.pattern() === "",
    mobile: compileType(plan, "MOBILE"),
    others: NON_FIXED_LINE_TYPES.map((t) => compileType(plan, t)).filter(
      (t): t is CompiledType => t !== undefined,
    ),
  };
  plans.set(countryOrCallingCode, compiled);
  return compiled;
}

function matches(nationalNumber: string, type: CompiledType | undefined): boolean {
  if (!type) {
    return false;
  }
  if (type.lengths && !type.lengths.includes(nationalNumber.length)) {
    return false;
  }
  return type.pattern.test(nationalNumber);
}

/** What the metadata says about a national number. */
export interface Classification {
  valid: boolean;
  type?: PhoneNumberType;
}

/**
 * Validity and type of a national significant number, as `PhoneNumber.isValid()` and
 * `getType()` decide them.
 *
 * @param nationalNumber - the national significant number (digits only).
 * @param country - the region the number was attributed to, if any.
 * @param callingCode - its country calling code; selects the plan when `country` is absent.
 */
export function classifyNationalNumber(
  nationalNumber: string,
  country: CountryCode | undefined,
  callingCode: string,
): Classification {
  let plan: CompiledPlan;
  try {
    plan = compiledPlan(country ?? callingCode);
  } catch {
    return { valid: false };
  }
  if (!plan.general.test(nationalNumber)) {
    return { valid: false };
  }
  let type: PhoneNumberType | undefined;
  if (matches(nationalNumber, plan.fixedLine)) {
    type =
      plan.mobileSameAsFixed || matches(nationalNumber, plan.mobile)
        ? "FIXED_LINE_OR_MOBILE"
        : "FIXED_LINE";
  } else {
    type = plan.others.find((t) => matches(nationalNumber, t))?.type;
  }
  // Plans without type patterns fall back to the general pattern, as the library does.
  return { valid: plan.hasTypes ? type !== undefined : true, type };
}
