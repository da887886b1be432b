import { addContacts, setNumberHashes, type NumberHashes, type SharedNumber } from "./contacts.js";
import { GroupMembership } from "./membership.js";
import { isMfaRegistered } from "./methods.js";
import { NumberFactory, NumberKind, type DrawnNumber } from "./phoneNumbers.js";
import { flat, mulberry32, seededGuid, type Prng } from "./prng.js";
import type {
  FixtureGroup,
  FixturePhoneMethod,
  FixtureUser,
  OtherMethod,
  TenantFixture,
} from "./types.js";

/**
 * The proportions of a synthetic tenant. Shares are fractions of all users (0.03 = 3 %), drawn
 * independently per user, so a generated tenant matches them within sampling noise. Defaults are
 * in {@link DEFAULT_TENANT_MIX}.
 */
export interface TenantMix {
  /** B2B guests (`#EXT#` UPNs, userType Guest). */
  guests: number;
  /** Disabled accounts. */
  disabled: number;
  /** Administrators (`isAdmin`). */
  admins: number;
  /** Users whose `mobilePhone` is absent or null. */
  noMobilePhone: number;
  /**
   * Users whose `mobilePhone` is not a usable mobile: placeholders (`N/A`, `-`, `0`), too short,
   * too long, letters, two numbers in one field, or a landline.
   */
  invalidNumber: number;
  /** Of the users with a valid number, the share written in national form without country code. */
  nationalFormat: number;
  /** MFA-registered by an app, OTP token, FIDO2 key, passkey or Windows Hello; no phone method. */
  registeredByApp: number;
  /** Holding a mobile method whose number equals their `mobilePhone`. */
  mobileMethodSame: number;
  /** Holding a mobile method with another number (a fifth of them also an alternateMobile). */
  mobileMethodDifferent: number;
  /** Holding only an office phone method. */
  officeMethodOnly: number;
  /** Holding only email and/or Temporary Access Pass methods: not MFA-registered. */
  emailOrTapOnly: number;
  /**
   * SMS sign-in clash pairs per user (0.0005 = one pair per 2,000 users): one user holds, for SMS
   * sign-in, the number that the other's `mobilePhone` also has, so creating the other's method
   * answers 409 phoneNumberNotUnique. At least one pair in any tenant of 4 users or more.
   */
  smsSignInClashPairs: number;
  /** Transitive members of the staging group "MFA Pilot" (half direct, half in nested groups). */
  staging: number;
  /** Members of the exclusion group "Break Glass Accounts" (an absolute count; all admins). */
  breakGlassAccounts: number;
  /**
   * Of the plain users (enabled members, not admins, no methods, a valid number of their own in
   * international form), the share whose `mobilePhone` holds the company switchboard
   * (`+45 70 10 20 30`). At least two in any tenant with room for them.
   */
  switchboard: number;
  /**
   * Pairs of plain users sharing one mobile number, per plain user; at least one pair in any
   * tenant with room for it.
   */
  sharedMobilePairs: number;
  /**
   * Users with `otherMails`: one to three messy addresses (personal, inside the tenant's own
   * domain, shared by several users, in odd spellings, or malformed).
   */
  otherMails: number;
  /**
   * Users with one `businessPhones` entry: a landline with an extension, the switchboard, a
   * mobile, or not a number at all.
   */
  businessPhones: number;
}

/** The default mix, roughly what a large tenant looks like before prepopulation. */
export const DEFAULT_TENANT_MIX: Readonly<TenantMix> = Object.freeze({
  guests: 0.03,
  disabled: 0.04,
  admins: 0.01,
  noMobilePhone: 0.08,
  invalidNumber: 0.04,
  nationalFormat: 0.15,
  registeredByApp: 0.1,
  mobileMethodSame: 0.025,
  mobileMethodDifferent: 0.015,
  officeMethodOnly: 0.01,
  emailOrTapOnly: 0.03,
  smsSignInClashPairs: 0.0005,
  staging: 0.1,
  breakGlassAccounts: 2,
  switchboard: 0.005,
  sharedMobilePairs: 0.0005,
  otherMails: 0.3,
  businessPhones: 0.25,
});

/** Options of {@link generateTenant}. */
export interface GenerateTenantOptions {
  /** How many users (0 to 2^31). */
  users: number;
  /** Seed of the tenant: the same seed and options give the same tenant. Default 1. */
  seed?: number;
  /** Initial domain. Default `contoso.example`. */
  domain?: string;
  /** Tenant id. Default a GUID derived from the seed. */
  tenantId?: string;
  /** Overrides of {@link DEFAULT_TENANT_MIX}. */
  mix?: Partial<TenantMix>;
}

/** Display names of the generated groups, for tests and demos that look them up. */
export const GENERATED_GROUP_NAMES = Object.freeze({
  staging: "MFA Pilot",
  stagingEngineering: "MFA Pilot - Engineering",
  stagingSales: "Sales - Rock 'n' Roll",
  stagingSalesNordics: "Sales - Nordics",
  exclusion: "Break Glass Accounts",
  duplicate: "Duplicate Name",
});

/** What the generator put in, per user, beside the fixture itself. */
export interface GeneratedTenantTruth {
  /** Per user (same order as `tenant.users`): the {@link NumberKind} of its `mobilePhone`. */
  numberKinds: Uint8Array;
  /**
   * Per user: index into `GENERATED_COUNTRIES` of the number's country for valid numbers, 255
   * otherwise.
   */
  numberCountries: Uint8Array;
  /** The SMS sign-in clash pairs: `holderId` holds for SMS sign-in the number of `claimantId`. */
  clashPairs: { holderId: string; claimantId: string }[];
  /** The switchboard number (E.164) copied onto users' `mobilePhone`. */
  switchboardNumber: string;
  /**
   * Every number (E.164) more than one user's `mobilePhone` spells: the switchboard, the shared
   * pairs, the SMS sign-in clash pairs and any two equal draws, in order of the first holder. A
   * holder of kind `validNational` spells it so only under its country as default region.
   */
  sharedNumbers: SharedNumber[];
}

/** A generated tenant and what went into it. */
export interface GeneratedTenant {
  tenant: TenantFixture;
  truth: GeneratedTenantTruth;
}

const FIRST_NAMES: readonly string[] = [
  "Anna", "Mads", "Søren", "Åsa", "Jürgen", "Zoë", "José", "Bjørn", "Ørjan", "François",
  "Łukasz", "Siobhán", "Mette", "Lars", "Emma", "Noah", "Sofie", "Oliver", "Ida", "William",
  "Freja", "Lucas", "Priya", "Wei", "Aiko", "Chloé", "Mateo", "Ingrid", "Henrik", "Kirsten",
]; // prettier-ignore
const LAST_NAMES: readonly string[] = [
  "Jensen", "Nielsen", "Hansen", "Pedersen", "Andersen", "O'Brien", "D'Angelo", "O'Neill",
  "Müller", "Østergaard", "Søndergaard", "Smith", "García", "Kowalski", "Johansson",
  "Lindqvist", "Dubois", "Rossi", "Nakamura", "Patel", "van der Berg", "Ó Súilleabháin",
]; // prettier-ignore
const GUEST_DOMAINS: readonly string[] = ["fabrikam.example", "adatum.example", "partner.example"];
const APP_METHODS: readonly OtherMethod[][] = [
  ["microsoftAuthenticatorPush"],
  ["microsoftAuthenticatorPush", "softwareOneTimePasscode"],
  ["softwareOneTimePasscode"],
  ["fido2SecurityKey"],
  ["passKeyDeviceBound", "microsoftAuthenticatorPush"],
  ["windowsHelloForBusiness", "microsoftAuthenticatorPush"],
  ["hardwareOneTimePasscode"],
  ["microsoftAuthenticatorPush", "email"],
];
const EMAIL_OR_TAP_METHODS: readonly OtherMethod[][] = [
  ["email"],
  ["temporaryAccessPass"],
  ["email", "temporaryAccessPass"],
];
const GARBAGE_KINDS: readonly NumberKind[] = [
  NumberKind.placeholder, NumberKind.placeholder, NumberKind.placeholder, NumberKind.placeholder,
  NumberKind.tooShort, NumberKind.tooShort, NumberKind.tooLong, NumberKind.letters,
  NumberKind.letters, NumberKind.twoNumbers, NumberKind.fixedLine, NumberKind.fixedLine,
]; // prettier-ignore

const NO_COUNTRY = 255;
const USER_IDS = 0;
const GROUP_IDS = 1;
const TENANT_IDS = 2;

const enum MethodState {
  None,
  App,
  MobileSame,
  MobileDifferent,
  OfficeOnly,
  EmailOrTap,
}

function checkUserCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 0x7fffffff) {
    throw new RangeError(
      `GraphEmulator: the number of users must be a whole number from 0 to 2147483647, not '${count}'.`,
    );
  }
}

function checkMix(mix: TenantMix): void {
  for (const [name, value] of Object.entries(mix)) {
    const limit = name === "breakGlassAccounts" ? Number.MAX_SAFE_INTEGER : 1;
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > limit) {
      throw new RangeError(
        `GraphEmulator: the tenant mix share '${name}' must be a number from 0 to ${limit === 1 ? "1" : "any count"}.`,
      );
    }
  }
  const methodShares =
    mix.registeredByApp +
    mix.mobileMethodSame +
    mix.mobileMethodDifferent +
    mix.officeMethodOnly +
    mix.emailOrTapOnly;
  if (methodShares > 1 || mix.noMobilePhone + mix.invalidNumber > 1) {
    throw new RangeError(
      "GraphEmulator: the tenant mix shares of one kind (methods, or missing and invalid numbers) add up to more than 1.",
    );
  }
}

// Lower-cased name parts for UPNs: spaces dropped, apostrophes and letters like 'ø' kept.
const FIRST_LOCAL = FIRST_NAMES.map((name) => name.toLowerCase().replace(/ /g, ""));
const LAST_LOCAL = LAST_NAMES.map((name) => name.toLowerCase().replace(/ /g, ""));
// Every display name once, shared by all users who have it.
const DISPLAY_NAMES = FIRST_NAMES.flatMap((first) =>
  LAST_NAMES.map((last) => flat(`${first} ${last}`)),
);

/**
 * Upper bounds of the single draws that pick a user's number (missing, invalid, else valid) and
 * method state (app, same mobile, other mobile, office, email or TAP, else none), from the mix.
 */
interface DrawThresholds {
  none: number;
  invalid: number;
  app: number;
  same: number;
  different: number;
  office: number;
  email: number;
}

function drawThresholds(mix: TenantMix): DrawThresholds {
  const app = mix.registeredByApp;
  const same = app + mix.mobileMethodSame;
  const different = same + mix.mobileMethodDifferent;
  const office = different + mix.officeMethodOnly;
  return {
    none: mix.noMobilePhone,
    invalid: mix.noMobilePhone + mix.invalidNumber,
    app,
    same,
    different,
    office,
    email: office + mix.emailOrTapOnly,
  };
}

/**
 * What the user draws share: one PRNG stream (and the number factory drawing from it), consumed in
 * one fixed order per user, which is what keeps a seed's tenant the same.
 */
interface UserDraws {
  prng: Prng;
  numbers: NumberFactory;
  seed: number;
  domain: string;
  mix: TenantMix;
  thresholds: DrawThresholds;
}

/** What the generator records per user while drawing, beside the users themselves. */
interface DrawnTruth {
  numberKinds: Uint8Array;
  numberCountries: Uint8Array;
  /** Two hashes of each valid drawn number, to find shared numbers without a map of them all. */
  hashes: NumberHashes;
  clashPairs: { holderId: string; claimantId: string }[];
}

/**
 * Generates a synthetic tenant (see {@link generateTenantWithTruth}).
 *
 * @param options - size, seed, domain and mix.
 * @returns a fixture valid against the contract schema.
 */
export function generateTenant(options: GenerateTenantOptions): TenantFixture {
  return generateTenantWithTruth(options).tenant;
}

/**
 * Generates a synthetic tenant, deterministic for a seed: users with messy `mobilePhone` values
 * from 28 countries, guests, disabled accounts, administrators, users already registered for MFA
 * by app or phone, email/TAP-only users, SMS sign-in clash pairs, a switchboard number and pairs
 * of users sharing a mobile, messy `otherMails` and `businessPhones`, and the groups "MFA Pilot"
 * (staging, with two levels of nested groups, one named with an apostrophe), "Break Glass Accounts"
 * (exclusion) and two groups both named "Duplicate Name". UPNs look like `søren.o'brien42@domain`
 * (guests `name42_fabrikam.example#EXT#@domain`); ids are GUID-shaped and derived from the seed.
 *
 * Optional user properties are set only when they differ from the schema default, which keeps a
 * million users compact.
 *
 * @param options - size, seed, domain and mix.
 * @returns the fixture and, per user, what kind of number it was given.
 * @throws RangeError when `users` is not a non-negative integer or the mix is out of range.
 */
export function generateTenantWithTruth(options: GenerateTenantOptions): GeneratedTenant {
  const count = options.users;
  checkUserCount(count);
  const mix: TenantMix = { ...DEFAULT_TENANT_MIX, ...options.mix };
  checkMix(mix);
  const seed = (options.seed ?? 1) >>> 0;
  const domain = options.domain ?? "contoso.example";
  const prng = mulberry32(seed);
  const draws: UserDraws = {
    prng,
    numbers: new NumberFactory(prng),
    seed,
    domain,
    mix,
    thresholds: drawThresholds(mix),
  };
  const truth: DrawnTruth = {
    numberKinds: new Uint8Array(count),
    numberCountries: new Uint8Array(count).fill(NO_COUNTRY),
    hashes: { a: new Uint32Array(count), b: new Uint32Array(count) },
    clashPairs: [],
  };
  const users = drawUsers(draws, truth, count);
  const { numberKinds, numberCountries, hashes, clashPairs } = truth;
  const groups = generateGroups(prng, seed, users, mix, clashPairs);
  const contacts = addContacts({
    users,
    numberKinds,
    numberCountries,
    hashes,
    pairedIds: new Set(clashPairs.flatMap((pair) => [pair.holderId, pair.claimantId])),
    domain,
    seed,
    mix,
  });
  return {
    tenant: {
      tenant: {
        id: options.tenantId ?? seededGuid(seed, TENANT_IDS, 0),
        domain,
        premium: true,
        smsSignInEnabled: true,
      },
      groups,
      users,
    },
    truth: { numberKinds, numberCountries, clashPairs, ...contacts },
  };
}

// Every user in order: now and then an SMS sign-in clash pair of two consecutive users, else one
// user of its own draws.
function drawUsers(draws: UserDraws, truth: DrawnTruth, count: number): FixtureUser[] {
  const users: FixtureUser[] = new Array<FixtureUser>(count);
  const clashShare = draws.mix.smsSignInClashPairs;
  for (let i = 0; i < count; i++) {
    // A clash pair takes two consecutive users; the last chance forces one so no tenant of 4 or
    // more users lacks the case.
    const forcePair = truth.clashPairs.length === 0 && i === count - 2 && count >= 4;
    if (i + 1 < count && (forcePair || draws.prng.next() < clashShare)) {
      const pair = clashPair(draws.prng, draws.numbers, draws.seed, draws.domain, i);
      users[i] = pair.holder;
      users[i + 1] = pair.claimant;
      recordValidNumber(truth, i, pair.shared, NumberKind.validInternational);
      recordValidNumber(truth, i + 1, pair.shared, NumberKind.validInternational);
      truth.clashPairs.push({ holderId: pair.holder.id, claimantId: pair.claimant.id });
      i++;
      continue;
    }
    users[i] = drawUser(draws, truth, i);
  }
  return users;
}

function recordValidNumber(
  truth: DrawnTruth,
  index: number,
  number: DrawnNumber,
  kind: NumberKind,
): void {
  truth.numberKinds[index] = kind;
  truth.numberCountries[index] = number.countryIndex;
  setNumberHashes(truth.hashes, index, number);
}

// One user: name, guest or member, mobilePhone, account state, then authentication methods.
function drawUser(draws: UserDraws, truth: DrawnTruth, i: number): FixtureUser {
  const { prng, mix, domain } = draws;
  const first = prng.int(FIRST_NAMES.length);
  const last = prng.int(LAST_NAMES.length);
  const guest = prng.next() < mix.guests;
  const { phone, drawn } = drawMobilePhone(draws, truth, i);

  const id = seededGuid(draws.seed, USER_IDS, i);
  const upn = flat(
    guest
      ? `${FIRST_LOCAL[first]}.${LAST_LOCAL[last]}${i}_${prng.pick(GUEST_DOMAINS)}#EXT#@${domain}`
      : `${FIRST_LOCAL[first]}.${LAST_LOCAL[last]}${i}@${domain}`,
  );
  const displayName = DISPLAY_NAMES[first * LAST_NAMES.length + last];
  // One literal with every common property: V8 then keeps them inside the object instead of in
  // a separately allocated property store, which matters at a million users.
  const user: FixtureUser =
    phone === undefined
      ? { id, userPrincipalName: upn, displayName }
      : { id, userPrincipalName: upn, displayName, mobilePhone: phone };

  if (prng.next() < mix.disabled) {
    user.accountEnabled = false;
  }
  if (guest) {
    user.userType = "Guest";
  } else if (prng.next() < mix.admins) {
    user.isAdmin = true;
  }
  drawMethods(draws, user, drawn);
  return user;
}

// A user's mobilePhone: absent or null, garbage, or a valid number in national or international
// form; the valid number drawn is returned too, for a method holding the same number.
function drawMobilePhone(
  draws: UserDraws,
  truth: DrawnTruth,
  i: number,
): { phone: string | null | undefined; drawn: DrawnNumber | undefined } {
  const { prng, numbers, thresholds } = draws;
  const numberDraw = prng.next();
  if (numberDraw < thresholds.none) {
    // Graph shows a missing attribute as null; some fixtures omit it altogether.
    return { phone: prng.next() < 0.3 ? null : undefined, drawn: undefined };
  }
  if (numberDraw < thresholds.invalid) {
    const kind = prng.pick(GARBAGE_KINDS);
    truth.numberKinds[i] = kind;
    return { phone: flat(numbers.garbage(kind)), drawn: undefined };
  }
  const drawn = numbers.mobile();
  if (prng.next() < draws.mix.nationalFormat) {
    recordValidNumber(truth, i, drawn, NumberKind.validNational);
    return { phone: flat(numbers.national(drawn)), drawn };
  }
  recordValidNumber(truth, i, drawn, NumberKind.validInternational);
  return { phone: flat(numbers.international(drawn)), drawn };
}

function methodStateOf(draw: number, t: DrawThresholds): MethodState {
  return draw < t.app
    ? MethodState.App
    : draw < t.same
      ? MethodState.MobileSame
      : draw < t.different
        ? MethodState.MobileDifferent
        : draw < t.office
          ? MethodState.OfficeOnly
          : draw < t.email
            ? MethodState.EmailOrTap
            : MethodState.None;
}

// The authentication methods a user already holds; `drawn` is its own valid number, if any.
function drawMethods(draws: UserDraws, user: FixtureUser, drawn: DrawnNumber | undefined): void {
  const { prng, numbers } = draws;
  const state = methodStateOf(prng.next(), draws.thresholds);
  switch (state) {
    case MethodState.App:
      user.otherMethods = [...prng.pick(APP_METHODS)];
      break;
    case MethodState.MobileSame:
    case MethodState.MobileDifferent: {
      // Without a valid number of its own, the user's method simply holds some other number.
      const number =
        state === MethodState.MobileSame && drawn !== undefined ? drawn : numbers.mobile();
      const methods: FixturePhoneMethod[] = [
        { phoneType: "mobile", phoneNumber: NumberFactory.graphFormat(number) },
      ];
      if (state === MethodState.MobileDifferent && prng.next() < 0.2) {
        methods.push({
          phoneType: "alternateMobile",
          phoneNumber: NumberFactory.graphFormat(numbers.mobile()),
        });
      }
      user.phoneMethods = methods;
      break;
    }
    case MethodState.OfficeOnly:
      user.phoneMethods = [
        { phoneType: "office", phoneNumber: NumberFactory.graphFormat(numbers.fixedLine()) },
      ];
      break;
    case MethodState.EmailOrTap:
      user.otherMethods = [...prng.pick(EMAIL_OR_TAP_METHODS)];
      break;
    case MethodState.None:
      break;
  }
}

function clashPair(
  prng: Prng,
  numbers: NumberFactory,
  seed: number,
  domain: string,
  index: number,
): { holder: FixtureUser; claimant: FixtureUser; shared: DrawnNumber } {
  const shared = numbers.mobile();
  const graphNumber = NumberFactory.graphFormat(shared);
  const holderLast = prng.int(LAST_NAMES.length);
  const claimantLast = prng.int(LAST_NAMES.length);
  // The holder already has the number as an SMS sign-in mobile method (a shared team phone); the
  // claimant is an ordinary unregistered member whose attribute carries the same number.
  const holder: FixtureUser = {
    id: seededGuid(seed, USER_IDS, index),
    userPrincipalName: `team.phone${index}@${domain}`,
    displayName: `Team Phone ${LAST_NAMES[holderLast]}`,
    mobilePhone: flat(numbers.international(shared)),
    phoneMethods: [{ phoneType: "mobile", phoneNumber: graphNumber, smsSignInNumber: true }],
  };
  const first = prng.int(FIRST_NAMES.length);
  const claimant: FixtureUser = {
    id: seededGuid(seed, USER_IDS, index + 1),
    userPrincipalName: `${FIRST_LOCAL[first]}.${LAST_LOCAL[claimantLast]}${index + 1}@${domain}`,
    displayName: `${FIRST_NAMES[first]} ${LAST_NAMES[claimantLast]}`,
    mobilePhone: flat(numbers.international(shared)),
  };
  return { holder, claimant, shared };
}

function generateGroups(
  prng: Prng,
  seed: number,
  users: FixtureUser[],
  mix: TenantMix,
  clashPairs: readonly { holderId: string; claimantId: string }[],
): FixtureGroup[] {
  const group = (n: number, displayName: string): FixtureGroup => ({
    id: seededGuid(seed, GROUP_IDS, n),
    displayName,
    members: [],
  });
  const pilot = group(0, GENERATED_GROUP_NAMES.staging);
  const engineering = group(1, GENERATED_GROUP_NAMES.stagingEngineering);
  const sales = group(2, GENERATED_GROUP_NAMES.stagingSales);
  const nordics = group(3, GENERATED_GROUP_NAMES.stagingSalesNordics);
  const breakGlass = group(4, GENERATED_GROUP_NAMES.exclusion);
  const duplicateA = group(5, GENERATED_GROUP_NAMES.duplicate);
  const duplicateB = group(6, GENERATED_GROUP_NAMES.duplicate);
  // Two levels of nesting: MFA Pilot > Sales - Rock 'n' Roll > Sales - Nordics.
  pilot.members.push(engineering.id, sales.id);
  sales.members.push(nordics.id);

  const staged = [pilot, pilot, engineering, sales, nordics];
  for (const user of users) {
    if (prng.next() < mix.staging) {
      staged[prng.int(staged.length)]!.members.push(user.id);
    }
  }
  const count = users.length;
  // Break-glass accounts are member administrators; guests and the clash pairs are passed over.
  const paired = new Set(clashPairs.flatMap((pair) => [pair.holderId, pair.claimantId]));
  const breakGlassCount = Math.min(mix.breakGlassAccounts, count - paired.size);
  const stride = count / Math.max(1, breakGlassCount);
  for (let k = 0, i = 0; k < breakGlassCount; k++) {
    i = Math.max(i, Math.floor(k * stride));
    while (i < count && (paired.has(users[i]!.id) || users[i]!.userType === "Guest")) {
      i++;
    }
    const user = users[i++];
    if (user === undefined) {
      break;
    }
    user.isAdmin = true;
    breakGlass.members.push(user.id);
  }
  for (const duplicate of [duplicateA, duplicateB]) {
    for (let k = 0; k < Math.min(5, count); k++) {
      const id = users[prng.int(count)]!.id;
      if (!duplicate.members.includes(id)) {
        duplicate.members.push(id);
      }
    }
  }
  return [pilot, engineering, sales, nordics, breakGlass, duplicateA, duplicateB];
}

/** Counts per category of a tenant, derived from the fixture alone. */
export interface TenantDescription {
  users: number;
  members: number;
  guests: number;
  disabled: number;
  admins: number;
  withMobilePhone: number;
  withoutMobilePhone: number;
  /** Any phone method, or an MFA-capable other method (the registration report's rule). */
  mfaRegistered: number;
  registeredByPhone: number;
  /** MFA-registered without any phone method. */
  registeredByOtherMethod: number;
  /** Only email and/or Temporary Access Pass: not MFA-registered. */
  emailOrTapOnly: number;
  withMobileMethod: number;
  withAlternateMobileMethod: number;
  withOfficeMethodOnly: number;
  /** Phone methods held for SMS sign-in. */
  smsSignInNumbers: number;
  /**
   * Users whose `mobilePhone`, written with its country code, has the digits of a number another
   * user holds for SMS sign-in.
   */
  smsSignInClaimants: number;
  groups: { id: string; displayName: string; directMembers: number; transitiveUsers: number }[];
}

// Digits of an internationally written number: full-width digits folded, "(0)" dropped, letters
// after the digits (an extension) ending it, a leading 00 read as "+". Empty when the value is
// not written with a country code. A character loop: this runs once per user of a big tenant.
function internationalDigits(value: string): string {
  let digits = "";
  let plus = false;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const digit =
      code >= 48 && code <= 57 ? code - 48 : code >= 0xff10 && code <= 0xff19 ? code - 0xff10 : -1;
    if (digit >= 0) {
      digits += String.fromCharCode(48 + digit);
    } else if (code === 40 && value.charCodeAt(i + 1) === 48 && value.charCodeAt(i + 2) === 41) {
      i += 2;
    } else if ((code === 43 || code === 0xff0b) && digits === "") {
      plus = true;
    } else if (digits !== "" && ((code >= 65 && code <= 90) || (code >= 97 && code <= 122))) {
      break;
    }
  }
  if (plus) {
    return digits;
  }
  return digits.startsWith("00") ? digits.slice(2) : "";
}

/**
 * Counts a tenant's users per category and its groups' sizes, for tests and the demo.
 *
 * @param tenant - any valid fixture, generated or hand-written.
 * @returns the counts.
 */
export function describeTenant(tenant: TenantFixture): TenantDescription {
  const d: TenantDescription = {
    users: tenant.users.length,
    members: 0,
    guests: 0,
    disabled: 0,
    admins: 0,
    withMobilePhone: 0,
    withoutMobilePhone: 0,
    mfaRegistered: 0,
    registeredByPhone: 0,
    registeredByOtherMethod: 0,
    emailOrTapOnly: 0,
    withMobileMethod: 0,
    withAlternateMobileMethod: 0,
    withOfficeMethodOnly: 0,
    smsSignInNumbers: 0,
    smsSignInClaimants: 0,
    groups: [],
  };
  const smsHolders = new Map<string, string>();
  for (const user of tenant.users) {
    for (const method of user.phoneMethods ?? []) {
      if (method.smsSignInNumber === true) {
        smsHolders.set(method.phoneNumber.replace(/\D/g, ""), user.id);
      }
    }
  }
  d.smsSignInNumbers = smsHolders.size;
  for (const user of tenant.users) {
    if (user.userType === "Guest") {
      d.guests++;
    } else {
      d.members++;
    }
    d.disabled += user.accountEnabled === false ? 1 : 0;
    d.admins += user.isAdmin === true ? 1 : 0;
    const phone = user.mobilePhone;
    if (phone === undefined || phone === null || phone.trim() === "") {
      d.withoutMobilePhone++;
    } else {
      d.withMobilePhone++;
      if (smsHolders.size > 0) {
        const holder = smsHolders.get(internationalDigits(phone));
        d.smsSignInClaimants += holder !== undefined && holder !== user.id ? 1 : 0;
      }
    }
    const methods = user.phoneMethods ?? [];
    if (isMfaRegistered(user)) {
      d.mfaRegistered++;
      d.registeredByPhone += methods.length > 0 ? 1 : 0;
      d.registeredByOtherMethod += methods.length > 0 ? 0 : 1;
    } else if ((user.otherMethods ?? []).length > 0) {
      d.emailOrTapOnly++;
    }
    const types = new Set(methods.map((method) => method.phoneType));
    d.withMobileMethod += types.has("mobile") ? 1 : 0;
    d.withAlternateMobileMethod += types.has("alternateMobile") ? 1 : 0;
    d.withOfficeMethodOnly += types.size === 1 && types.has("office") ? 1 : 0;
  }
  const membership = new GroupMembership(tenant);
  d.groups = (tenant.groups ?? []).map((group) => ({
    id: group.id,
    displayName: group.displayName,
    directMembers: group.members.length,
    transitiveUsers: membership.transitiveUserIds(group.id).size,
  }));
  return d;
}
