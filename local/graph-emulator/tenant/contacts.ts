import { parsePhoneNumberFromString } from "libphonenumber-js/max";
import {
  GENERATED_COUNTRIES,
  NumberFactory,
  NumberKind,
  type DrawnNumber,
} from "./phoneNumbers.js";
import { flat, mix32, mulberry32, type Prng } from "./prng.js";
import type { FixtureUser } from "./types.js";

/**
 * The contact details a generated tenant gets after its users are drawn: a switchboard number and
 * pairs of users sharing a mobile (the one-number-one-user guard's cases), messy `otherMails` and
 * `businessPhones`, and the truth about every number more than one user's `mobilePhone` holds.
 * Everything here is drawn from a second random stream of the seed, so adding it left the users
 * of every seed as they were.
 */

/** The shares this part of the generator draws (see `TenantMix`). */
export interface ContactMix {
  switchboard: number;
  sharedMobilePairs: number;
  otherMails: number;
  businessPhones: number;
}

/** A number shared by more than one user's `mobilePhone`. */
export interface SharedNumber {
  /** E.164, e.g. `+4570102030`. */
  number: string;
  /** The users holding it, in user order. */
  holderIds: string[];
}

/** What the contact pass adds to the generator's truth. */
export interface ContactTruth {
  switchboardNumber: string;
  sharedNumbers: SharedNumber[];
}

const DK = GENERATED_COUNTRIES.findIndex((c) => c.country === "DK");

/**
 * The company switchboard copied onto users' `mobilePhone` (HR fills the field with it). Danish
 * numbers do not tell mobiles from landlines, so it passes as a mobile: only its many holders give
 * it away.
 */
export const SWITCHBOARD: Readonly<DrawnNumber> = Object.freeze({
  countryIndex: DK,
  callingCode: "45",
  nationalNumber: "70102030",
});

const PERSONAL_DOMAINS: readonly string[] = ["gmail.example", "outlook.example", "privat.example"];
const SHARED_MAILS: readonly string[] = [
  "it-support@partner.example",
  "reception@partner.example",
  "family.mail@privat.example",
];
const EXTENSIONS: readonly string[] = [" x", " ext. ", " ext ", "-"];
const OFFICE_GARBAGE: readonly string[] = ["ext. 4411", "see reception", "n/a", "-"];

// A 32-bit hash of a drawn number's digits (FNV-1a), never 0 (0 means "no valid number"); a
// second salt gives a second, independent hash.
function numberHash(n: DrawnNumber, salt = 0): number {
  let h = (0x811c9dc5 ^ salt) >>> 0;
  const digits = `${n.callingCode}|${n.nationalNumber}`;
  for (let i = 0; i < digits.length; i++) {
    h = Math.imul(h ^ digits.charCodeAt(i), 0x01000193);
  }
  return (h >>> 0) | 1;
}

/** Per user, the two hashes of the drawn number its `mobilePhone` spells (0 = none). */
export interface NumberHashes {
  a: Uint32Array;
  b: Uint32Array;
}

/**
 * Records the two hashes of the drawn number user `i`'s `mobilePhone` spells.
 *
 * @param hashes - the per-user hashes
 * @param i - the user's index
 * @param n - the number
 */
export function setNumberHashes(hashes: NumberHashes, i: number, n: DrawnNumber): void {
  hashes.a[i] = numberHash(n);
  hashes.b[i] = numberHash(n, 0x9e3779b9);
}

/** What the contact pass reads and updates of a generated tenant. */
export interface ContactInput {
  users: FixtureUser[];
  numberKinds: Uint8Array;
  numberCountries: Uint8Array;
  hashes: NumberHashes;
  /** Users of SMS sign-in clash pairs, who keep their numbers. */
  pairedIds: ReadonlySet<string>;
  domain: string;
  seed: number;
  mix: ContactMix;
}

/**
 * Adds the switchboard, shared-mobile pairs, `otherMails` and `businessPhones`, and finds every
 * shared number.
 *
 * @param input - the tenant so far; `users`, `numberCountries` and `hashes` are updated in place
 * @returns the truth about shared numbers
 */
export function addContacts(input: ContactInput): ContactTruth {
  const prng = mulberry32(mix32(input.seed ^ 0x51ab1e5));
  const numbers = new NumberFactory(prng);
  shareNumbers(input, prng, numbers);
  for (const user of input.users) {
    if (prng.next() < input.mix.otherMails) {
      user.otherMails = otherMailsOf(user, input.domain, prng);
    }
    if (prng.next() < input.mix.businessPhones) {
      user.businessPhones = [officeNumber(prng, numbers)];
    }
  }
  return {
    switchboardNumber: `+${SWITCHBOARD.callingCode}${SWITCHBOARD.nationalNumber}`,
    sharedNumbers: findSharedNumbers(input),
  };
}

/**
 * A plain, enabled, unregistered member with a number of its own in international form: a user
 * the run would write, so its share of a number decides the outcome alone.
 */
function eligible(input: ContactInput, i: number): boolean {
  const u = input.users[i]!;
  return (
    input.numberKinds[i] === NumberKind.validInternational &&
    u.phoneMethods === undefined &&
    u.otherMethods === undefined &&
    u.accountEnabled !== false &&
    u.userType !== "Guest" &&
    u.isAdmin !== true &&
    !input.pairedIds.has(u.id)
  );
}

function setNumber(input: ContactInput, i: number, n: DrawnNumber, numbers: NumberFactory): void {
  input.users[i]!.mobilePhone = flat(numbers.international(n));
  input.numberCountries[i] = n.countryIndex;
  setNumberHashes(input.hashes, i, n);
}

/** The drawn number an eligible user's `mobilePhone` spells, read back. */
function drawnOf(input: ContactInput, i: number): DrawnNumber | undefined {
  const parsed = parsePhoneNumberFromString(input.users[i]!.mobilePhone ?? "", "DK");
  if (parsed === undefined) {
    return undefined;
  }
  return {
    countryIndex: input.numberCountries[i]!,
    callingCode: parsed.countryCallingCode,
    nationalNumber: parsed.nationalNumber,
  };
}

// Copies the switchboard onto some eligible users and makes some eligible pairs share a mobile;
// a tenant with room for them gets at least two switchboard holders and one pair.
function shareNumbers(input: ContactInput, prng: Prng, numbers: NumberFactory): void {
  const { switchboard, sharedMobilePairs } = input.mix;
  const free: number[] = [];
  let holders = 0;
  let pairs = 0;
  let pending: number | undefined;
  for (let i = 0; i < input.users.length; i++) {
    if (!eligible(input, i)) {
      continue;
    }
    if (pending !== undefined) {
      const drawn = drawnOf(input, pending);
      if (drawn !== undefined) {
        setNumber(input, i, drawn, numbers);
        pairs++;
      }
      pending = undefined;
      continue;
    }
    const r = prng.next();
    if (r < switchboard) {
      setNumber(input, i, SWITCHBOARD, numbers);
      holders++;
    } else if (r < switchboard + sharedMobilePairs) {
      pending = i;
    } else {
      free.push(i);
    }
  }
  if (switchboard > 0) {
    for (; holders < 2 && free.length > 0; holders++) {
      setNumber(input, free.shift()!, SWITCHBOARD, numbers);
    }
  }
  if (sharedMobilePairs > 0 && pairs === 0 && free.length >= 2) {
    const [a, b] = [free.shift()!, free.shift()!];
    const drawn = drawnOf(input, a);
    if (drawn !== undefined) {
      setNumber(input, b, drawn, numbers);
    }
  }
}

function otherMailsOf(user: FixtureUser, domain: string, prng: Prng): string[] {
  const local = user.userPrincipalName.split(/#EXT#|@/)[0]!;
  const count = 1 + (prng.next() < 0.3 ? 1 + prng.int(2) : 0);
  const mails: string[] = [];
  for (let k = 0; k < count; k++) {
    const personal = `${local}@${prng.pick(PERSONAL_DOMAINS)}`;
    const kind = prng.int(20);
    let mail: string;
    if (kind < 8) {
      mail = personal;
    } else if (kind < 11) {
      // Inside the tenant's own domain: useless for resetting that tenant's password.
      mail = prng.int(2) === 0 ? user.userPrincipalName : `${local}.alias@${domain}`;
    } else if (kind < 14) {
      mail = prng.pick(SHARED_MAILS);
    } else if (kind < 17) {
      mail = [` ${personal} `, personal.toUpperCase(), `mailto:${personal}`][prng.int(3)]!;
    } else {
      mail = ["n/a", `${local}@`, `${local}@@gmail.example`, `${local} at gmail.example`][
        prng.int(4)
      ]!;
    }
    mails.push(flat(mail));
  }
  return mails;
}

function officeNumber(prng: Prng, numbers: NumberFactory): string {
  const kind = prng.int(10);
  if (kind < 5) {
    const n = numbers.fixedLine();
    return flat(
      `+${n.callingCode} ${n.nationalNumber}${prng.pick(EXTENSIONS)}${100 + prng.int(900)}`,
    );
  }
  if (kind < 8) {
    return flat(numbers.international(SWITCHBOARD));
  }
  if (kind < 9) {
    return flat(numbers.international(numbers.mobile()));
  }
  return prng.pick(OFFICE_GARBAGE);
}

// Every number more than one user's mobilePhone holds: users are bucketed by a hash of their
// drawn number in a bit set (a million users need no map of a million strings), and only users
// whose bucket is taken twice are compared on both hashes.
function findSharedNumbers(input: ContactInput): SharedNumber[] {
  const { a, b } = input.hashes;
  let bits = 1 << 16;
  while (bits < a.length * 16) {
    bits *= 2;
  }
  const mask = bits - 1;
  const seen = new Uint32Array(bits / 32);
  const twice = new Uint32Array(bits / 32);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== 0) {
      const bucket = a[i]! & mask;
      const word = bucket >>> 5;
      const bit = 1 << (bucket & 31);
      twice[word]! |= seen[word]! & bit;
      seen[word]! |= bit;
    }
  }
  const groups = new Map<string, number[]>();
  for (let i = 0; i < a.length; i++) {
    const bucket = a[i]! & mask;
    if (a[i] !== 0 && (twice[bucket >>> 5]! & (1 << (bucket & 31))) !== 0) {
      const key = `${a[i]}:${b[i]}`;
      const list = groups.get(key);
      if (list === undefined) {
        groups.set(key, [i]);
      } else {
        list.push(i);
      }
    }
  }
  const shared: SharedNumber[] = [];
  for (const holders of groups.values()) {
    if (holders.length < 2) {
      continue;
    }
    const first = holders[0]!;
    const region =
      input.numberKinds[first] === NumberKind.validNational
        ? GENERATED_COUNTRIES[input.numberCountries[first]!]!.country
        : "DK";
    const parsed = parsePhoneNumberFromString(input.users[first]!.mobilePhone ?? "", region);
    shared.push({
      number: parsed?.number ?? "",
      holderIds: holders.map((i) => input.users[i]!.id),
    });
  }
  // Groups were created at their first holder, so they are already in user order.
  return shared;
}
