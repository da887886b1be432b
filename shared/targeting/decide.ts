/**
 * Targeting: for one user and one method, exactly one decision with one reason. Pure, so the plan
 * activity, the CLI's dry run and the tests all decide alike.
 *
 * Writing an authentication method hands the value's holder a factor of the account (or, for
 * email, its password reset), so every doubt ends in a skip: an existing method is never changed,
 * except a mobile method when the replace policy is on and its current number is known and
 * differs.
 */
import type { Method, Settings } from "../settings/index.js";
import type { UnsettledUser } from "../guards/census.js";
import { firstEntry, normalizeEmailAddress, tenantDomainOf } from "../email/index.js";
import { normalizePhoneNumber, samePhoneNumber } from "../phone/index.js";
import {
  REPORT_EMAIL_METHOD,
  REPORT_MOBILE_METHOD,
  REPORT_OFFICE_METHOD,
  type Decision,
  type DecidedValue,
  type DirectoryUser,
  type PhoneMethod,
  type RegistrationRow,
  type SkipReason,
} from "../run/index.js";

/**
 * The settings targeting depends on. `stagingGroupSet` says whether `STAGING_GROUP` is set;
 * `verifiedDomains` (lower case) are the tenant's own domains, read when the email method is on.
 */
export type TargetingSettings = Pick<
  Settings,
  "target" | "skipAdmins" | "allowLandline" | "replaceExisting" | "defaultRegion"
> & { stagingGroupSet: boolean; verifiedDomains?: ReadonlySet<string> };

/** Everything known about one user when deciding. */
export interface UserContext {
  user: DirectoryUser;
  /** The registration report row; absent for disabled users and users the report has not caught up with. */
  report?: RegistrationRow;
  /** The user's phone methods when they were read; absent when unknown. */
  existingPhoneMethods?: PhoneMethod[];
  inStagingGroup: boolean;
  inExcludedGroup: boolean;
  /** The directory's role data lists the user as holding a role, actively or eligibly. */
  holdsDirectoryRole?: boolean;
  /**
   * How many users hold the same normalised value of the method being decided (a number or an
   * address), when more than one does.
   */
  numberSharedBy?: number;
  /** Set when the user's value has not been held long enough (`NUMBER_SETTLE_DAYS`). */
  numberUnsettled?: UnsettledNumber;
}

/** Why and since when a user's value is not settled (as the census files it). */
export type UnsettledNumber = Omit<UnsettledUser, "userId">;

function skip(reason: SkipReason, detail?: string): Decision {
  return detail === undefined ? { action: "skip", reason } : { action: "skip", reason, detail };
}

function isGuest(ctx: UserContext): boolean {
  return (
    ctx.user.userType?.toLowerCase() === "guest" || ctx.report?.userType?.toLowerCase() === "guest"
  );
}

// An Authentication Administrator reads phone methods masked ("+45 XXXXXX56"); such a value cannot
// be compared and must never be taken for a different number.
function isMasked(phoneNumber: string): boolean {
  return /[xX*•]{2,}/.test(phoneNumber.replace(/x\d+$/, ""));
}

/**
 * The user's current mobile number: `undefined` when the user has no mobile method, `null` when
 * the user has one but its number is not known (only the report says so, or it is masked).
 */
function existingMobile(ctx: UserContext): string | null | undefined {
  if (ctx.existingPhoneMethods !== undefined) {
    const mobile = ctx.existingPhoneMethods.find((m) => m.phoneType === "mobile");
    if (!mobile) {
      return undefined;
    }
    // A method without a number, or with a masked one, cannot be compared.
    return !mobile.phoneNumber || isMasked(mobile.phoneNumber) ? null : mobile.phoneNumber;
  }
  return ctx.report?.methodsRegistered?.includes(REPORT_MOBILE_METHOD) ? null : undefined;
}

/** What is missing from the user's records that a decision needs, if anything. */
function missingField(ctx: UserContext, settings: TargetingSettings): string | undefined {
  if (ctx.user.accountEnabled !== true && ctx.user.accountEnabled !== false) {
    return "The directory did not say whether the account is enabled (accountEnabled).";
  }
  if (!ctx.user.userType && !ctx.report?.userType) {
    return "Neither the directory nor the registration report says whether the user is a member or a guest (userType).";
  }
  if (settings.skipAdmins && ctx.report && typeof ctx.report.isAdmin !== "boolean") {
    return "The registration report's row does not say whether the user is an admin (isAdmin).";
  }
  return undefined;
}

/** The skip that applies to who the user is and what they already have, if any. */
function skipForUser(ctx: UserContext, settings: TargetingSettings): Decision | undefined {
  if (isGuest(ctx)) {
    return skip("guest");
  }
  if (ctx.user.accountEnabled === false) {
    return skip("disabled");
  }
  const missing = missingField(ctx, settings);
  if (missing) {
    return skip("incompleteRecord", missing);
  }
  if (ctx.inExcludedGroup) {
    return skip("excludedGroup");
  }
  if (settings.stagingGroupSet && !ctx.inStagingGroup) {
    return skip("outsideStagingGroup");
  }
  if (settings.skipAdmins && (ctx.holdsDirectoryRole === true || ctx.report?.isAdmin === true)) {
    return skip("admin");
  }
  if (settings.target === "mfaUnregistered" && ctx.report?.isMfaRegistered === true) {
    return skip("alreadyMfaRegistered");
  }
  if (settings.target === "ssprUnregistered" && ctx.report?.isSsprRegistered === true) {
    return skip("alreadySsprRegistered");
  }
  return undefined;
}

/** The words and reasons the value guards use for a number and for an address. */
const GUARD_WORDS = {
  phone: {
    value: "number",
    own: "a number",
    shared: "sharedNumber",
    unsettled: "numberNotSettled",
  },
  email: {
    value: "address",
    own: "an address",
    shared: "sharedAddress",
    unsettled: "addressNotSettled",
  },
} as const;

/** The skip that applies to a valid value held by others or not held long enough, if any. */
function skipForValueGuards(ctx: UserContext, value: DecidedValue): Decision | undefined {
  const words = value.emailAddress !== undefined ? GUARD_WORDS.email : GUARD_WORDS.phone;
  if (ctx.numberSharedBy !== undefined && ctx.numberSharedBy > 1) {
    return {
      action: "skip",
      reason: words.shared,
      detail: `The ${words.value} is held by ${ctx.numberSharedBy} users; it is registered for none of them until each has ${words.own} of their own.`,
      ...value,
    };
  }
  const u = ctx.numberUnsettled;
  if (u) {
    const what =
      u.why === "createdRecently"
        ? `The account was created ${u.since}`
        : u.why === "noEvidence"
          ? `The ${words.value} history does not know this ${words.value} yet and the audit log could not be read`
          : `The ${words.value} changed ${u.since}${u.by ? ` by ${u.by}` : ""}`;
    return {
      action: "skip",
      reason: words.unsettled,
      detail: `${what}; it is registered from ${u.until} if it stays.`,
      ...value,
    };
  }
  return undefined;
}

/** Whether the user already has a method the report (or a read of the methods) names. */
function hasMethod(
  ctx: UserContext,
  reportName: string,
  phoneType?: PhoneMethod["phoneType"],
): boolean {
  if (phoneType && ctx.existingPhoneMethods?.some((m) => m.phoneType === phoneType)) {
    return true;
  }
  return ctx.report?.methodsRegistered?.includes(reportName) === true;
}

/** The skip of an unusable number, from the normaliser's failure. */
function skipForNumber(normalized: { code: string; reason: string }): Decision {
  if (normalized.code === "empty") {
    return skip("noNumber");
  }
  if (normalized.code === "placeholder") {
    return skip("noNumber", normalized.reason);
  }
  return skip("invalidNumber", normalized.reason);
}

/**
 * The office phone: the first `businessPhones` number, normalised like a mobile but accepted
 * when it is a landline (office numbers mostly are), extension kept. An existing office method is
 * never changed.
 */
function decideOffice(ctx: UserContext, settings: TargetingSettings): Decision {
  if (hasMethod(ctx, REPORT_OFFICE_METHOD, "office")) {
    return skip("hasOfficeMethod");
  }
  const normalized = normalizePhoneNumber(firstEntry(ctx.user.businessPhones), {
    defaultRegion: settings.defaultRegion,
    allowLandline: true,
  });
  if (!normalized.ok) {
    return skipForNumber(normalized);
  }
  return (
    skipForValueGuards(ctx, { phoneNumber: normalized.phoneNumber }) ?? {
      action: "create",
      phoneNumber: normalized.phoneNumber,
    }
  );
}

/**
 * The email method (SSPR only): the first `otherMails` address. An address in one of the
 * tenant's verified domains is refused (a user locked out of the account cannot read that
 * mailbox, and whoever can is not the user); with the domains unknown, every address is. An
 * existing email method is never changed, whatever `REPLACE_EXISTING` says: it may be the user's
 * own address, registered by the user.
 */
function decideEmail(ctx: UserContext, settings: TargetingSettings): Decision {
  if (hasMethod(ctx, REPORT_EMAIL_METHOD)) {
    return skip("hasEmailMethod");
  }
  const address = normalizeEmailAddress(firstEntry(ctx.user.otherMails));
  if (!address.ok) {
    return address.code === "empty"
      ? skip("noAddress")
      : address.code === "placeholder"
        ? skip("noAddress", address.reason)
        : skip("invalidAddress", address.reason);
  }
  const { emailAddress } = address;
  if (settings.verifiedDomains === undefined) {
    return {
      action: "skip",
      reason: "internalDomain",
      detail:
        "The tenant's verified domains were not read, so no address can be told to lie outside them.",
      emailAddress,
    };
  }
  const domain = tenantDomainOf(emailAddress, settings.verifiedDomains);
  if (domain !== undefined) {
    return {
      action: "skip",
      reason: "internalDomain",
      detail: `The address is in the tenant's own domain '${domain}': a user locked out of the account cannot read that mailbox.`,
      emailAddress,
    };
  }
  return skipForValueGuards(ctx, { emailAddress }) ?? { action: "create", emailAddress };
}

/**
 * Decides what to do for one user's mobile phone. Rules, in `SKIP_PRECEDENCE` order
 * (`shared/run/decisions.ts`):
 *
 * - guests (directory `userType` or report `userType`) and disabled accounts (`accountEnabled`
 *   explicitly `false`) are skipped; so is a user whose records leave a deciding fact unknown
 *   (`incompleteRecord`: no `accountEnabled`, no `userType` anywhere, or with `skipAdmins` a
 *   report row without `isAdmin`): unknown is never taken for permission;
 * - members of an exclusion group, users outside the staging group when one is set, and with
 *   `skipAdmins` every holder of a directory role (from the directory's role data, whatever the
 *   report says or omits) or a user the report marks `isAdmin` are skipped;
 * - in `mfaUnregistered` mode a user whose report row says `isMfaRegistered` is skipped
 *   (`alreadyMfaRegistered`), in `ssprUnregistered` mode one whose row says `isSsprRegistered`
 *   (`alreadySsprRegistered`); a user without a report row counts as not registered (the report
 *   omits disabled users and lags up to a day; the writer reconciles an existing method);
 * - a user who already has a mobile method (from `existingPhoneMethods` when known, else the
 *   report's `methodsRegistered` containing `mobilePhone`; in `mfaUnregistered` mode only the
 *   former, since the report already said the user is not registered) is skipped
 *   (`hasMobileMethod`), unless `replaceExisting` is on and the current number is known (with it
 *   on but the number unknown, masked or missing, the skip carries a `detail`);
 * - an empty or placeholder `mobilePhone` is `noNumber` (a placeholder with the normaliser's
 *   reason as `detail`), one the normaliser rejects is `invalidNumber` with its reason as
 *   `detail`; with `replaceExisting` this also applies to users who have a mobile method, since
 *   there is nothing valid to replace it with;
 * - a valid number that more than one user holds is `sharedNumber`, one the user has not held
 *   for the settle period is `numberNotSettled` (both with a `detail`);
 * - a user with a known current mobile number and `replaceExisting` gets `alreadyPresent` when it
 *   equals the normalised directory number (compared in normalised form) and `replace` otherwise;
 * - everyone else gets `create`, with the number in Graph's format.
 *
 * @param ctx - the user, report row, known phone methods, group membership, role and guards.
 * @param settings - the targeting settings of the run.
 * @returns exactly one decision.
 */
export function decideUser(ctx: UserContext, settings: TargetingSettings): Decision {
  const userSkip = skipForUser(ctx, settings);
  if (userSkip) {
    return userSkip;
  }
  const current =
    settings.target === "mfaUnregistered" && ctx.existingPhoneMethods === undefined
      ? undefined
      : existingMobile(ctx);
  if (current !== undefined && !settings.replaceExisting) {
    return skip("hasMobileMethod");
  }
  if (current === null) {
    return skip(
      "hasMobileMethod",
      "The user has a mobile phone method whose number is not known here, so it cannot be compared and is left unchanged.",
    );
  }

  const normalized = normalizePhoneNumber(ctx.user.mobilePhone, {
    defaultRegion: settings.defaultRegion,
    allowLandline: settings.allowLandline,
  });
  if (!normalized.ok) {
    return skipForNumber(normalized);
  }
  const guarded = skipForValueGuards(ctx, { phoneNumber: normalized.phoneNumber });
  if (guarded) {
    return guarded;
  }
  if (current === undefined) {
    return { action: "create", phoneNumber: normalized.phoneNumber };
  }
  return samePhoneNumber(current, normalized.phoneNumber, settings.defaultRegion)
    ? { action: "alreadyPresent", phoneNumber: normalized.phoneNumber }
    : { action: "replace", phoneNumber: normalized.phoneNumber };
}

/**
 * Decides what to do for one user and one method. Who the user is, which users the run may touch
 * and the target mode decide alike for every method ({@link decideUser}'s first rules); then each
 * method has its own:
 *
 * - `mobile`: {@link decideUser};
 * - `office`: an existing office method is kept (`hasOfficeMethod`); the first `businessPhones`
 *   number is normalised as a mobile is, landlines accepted, and meets the same value guards
 *   (`noNumber`, `invalidNumber`, `sharedNumber`, `numberNotSettled`);
 * - `email`: an existing email method is kept (`hasEmailMethod`); the first `otherMails` address
 *   must be there (`noAddress`), well formed (`invalidAddress`), outside the tenant's verified
 *   domains (`internalDomain`), held by this user alone (`sharedAddress`) and settled
 *   (`addressNotSettled`).
 *
 * @param method - the method to decide.
 * @param ctx - the user, with the value guards' findings for this method.
 * @param settings - the targeting settings of the run.
 * @returns exactly one decision.
 */
export function decideMethod(
  method: Method,
  ctx: UserContext,
  settings: TargetingSettings,
): Decision {
  if (method === "mobile") {
    return decideUser(ctx, settings);
  }
  return (
    skipForUser(ctx, settings) ??
    (method === "office" ? decideOffice(ctx, settings) : decideEmail(ctx, settings))
  );
}
