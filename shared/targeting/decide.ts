/**
 * Targeting: for one user, exactly one decision with one reason. Pure, so the plan activity, the
 * CLI's dry run and the tests all decide alike.
 *
 * Writing an MFA method hands the number's holder a factor of the account, so every doubt ends in
 * a skip: an existing mobile method is never changed unless the replace policy is on and its
 * current number is known and differs.
 */
import type { Settings } from "../config.js";
import { normalizePhoneNumber, samePhoneNumber } from "../phone/index.js";

/** A user as read from `GET /users` (the fields targeting needs). */
export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  mobilePhone?: string | null;
  /** Absent when not selected; only an explicit `false` counts as disabled. */
  accountEnabled?: boolean;
  /** `Member` or `Guest`. */
  userType?: string | null;
}

/** A row of `GET /reports/authenticationMethods/userRegistrationDetails`. */
export interface RegistrationRow {
  id: string;
  isAdmin?: boolean | null;
  isMfaRegistered: boolean;
  /** Report method names such as `mobilePhone`, `email`, `microsoftAuthenticatorPush`. */
  methodsRegistered: string[];
  /** `member` or `guest`. */
  userType?: string;
}

/** A phone method the user already has (`GET /users/{id}/authentication/phoneMethods`). */
export interface ExistingPhoneMethod {
  phoneType: "mobile" | "alternateMobile" | "office";
  phoneNumber: string;
}

/** The settings targeting depends on. `stagingGroupSet` says whether `STAGING_GROUP` is set. */
export type TargetingSettings = Pick<
  Settings,
  "target" | "skipAdmins" | "allowLandline" | "replaceExisting" | "defaultRegion"
> & { stagingGroupSet: boolean };

/** Everything known about one user when deciding. */
export interface UserContext {
  user: DirectoryUser;
  /** The registration report row; absent for disabled users and users the report has not caught up with. */
  report?: RegistrationRow;
  /** The user's phone methods when they were read; absent when unknown. */
  existingPhoneMethods?: ExistingPhoneMethod[];
  inStagingGroup: boolean;
  inExcludedGroup: boolean;
}

/** Why a user is left alone. */
export type SkipReason =
  | "guest"
  | "disabled"
  | "excludedGroup"
  | "outsideStagingGroup"
  | "admin"
  | "alreadyMfaRegistered"
  | "hasMobileMethod"
  | "noNumber"
  | "invalidNumber"
  | "deferred";

/**
 * The skip reasons in the order they are checked; the first that applies is the one reported.
 * Who the user is (guest, disabled) comes first, then which users the run may touch at all
 * (groups, admins), then what they already have (registration, a mobile method), and only then
 * their number; `deferred` is applied last, by `planUserPages`, to writes past the cap.
 */
export const SKIP_PRECEDENCE: readonly SkipReason[] = [
  "guest",
  "disabled",
  "excludedGroup",
  "outsideStagingGroup",
  "admin",
  "alreadyMfaRegistered",
  "hasMobileMethod",
  "noNumber",
  "invalidNumber",
  "deferred",
];

/** The one decision for a user. `detail` explains some skips in a sentence. */
export type Decision =
  | { action: "create"; phoneNumber: string }
  | { action: "replace"; phoneNumber: string }
  | { action: "alreadyPresent"; phoneNumber: string }
  | { action: "skip"; reason: SkipReason; detail?: string };

/** The report's name for a mobile phone method in `methodsRegistered`. */
export const REPORT_MOBILE_METHOD = "mobilePhone";

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
    return isMasked(mobile.phoneNumber) ? null : mobile.phoneNumber;
  }
  return ctx.report?.methodsRegistered?.includes(REPORT_MOBILE_METHOD) ? null : undefined;
}

/**
 * Decides what to do for one user. Rules, in {@link SKIP_PRECEDENCE} order:
 *
 * - guests (directory `userType` or report `userType`), disabled accounts (`accountEnabled`
 *   explicitly `false`), members of an exclusion group, users outside the staging group when one
 *   is set, and with `skipAdmins` users the report marks `isAdmin` are always skipped;
 * - in `mfaUnregistered` mode a user whose report row says `isMfaRegistered` is skipped
 *   (`alreadyMfaRegistered`); a user without a report row counts as not registered (the report
 *   omits disabled users and lags up to a day; the writer reconciles an existing method);
 * - a user who already has a mobile method (from `existingPhoneMethods` when known, else the
 *   report's `methodsRegistered` containing `mobilePhone`; in `mfaUnregistered` mode only the
 *   former, since the report already said the user is not registered) is skipped
 *   (`hasMobileMethod`), unless `replaceExisting` is on and the current number is known (with it
 *   on but the number unknown or masked, the skip carries a `detail`);
 * - an empty or placeholder `mobilePhone` is `noNumber` (a placeholder with the normaliser's
 *   reason as `detail`), one the normaliser rejects is `invalidNumber` with its reason as
 *   `detail`; with `replaceExisting` this also applies to users who have a mobile method, since
 *   there is nothing valid to replace it with;
 * - a user with a known current mobile number and `replaceExisting` gets `alreadyPresent` when it
 *   equals the normalised directory number (compared in normalised form) and `replace` otherwise;
 * - everyone else gets `create`, with the number in Graph's format.
 *
 * @param ctx - the user, report row, known phone methods and group membership.
 * @param settings - the targeting settings of the run.
 * @returns exactly one decision.
 */
export function decideUser(ctx: UserContext, settings: TargetingSettings): Decision {
  if (isGuest(ctx)) {
    return skip("guest");
  }
  if (ctx.user.accountEnabled === false) {
    return skip("disabled");
  }
  if (ctx.inExcludedGroup) {
    return skip("excludedGroup");
  }
  if (settings.stagingGroupSet && !ctx.inStagingGroup) {
    return skip("outsideStagingGroup");
  }
  if (settings.skipAdmins && ctx.report?.isAdmin === true) {
    return skip("admin");
  }
  if (settings.target === "mfaUnregistered" && ctx.report?.isMfaRegistered === true) {
    return skip("alreadyMfaRegistered");
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
    if (normalized.code === "empty") {
      return skip("noNumber");
    }
    if (normalized.code === "placeholder") {
      return skip("noNumber", normalized.reason);
    }
    return skip("invalidNumber", normalized.reason);
  }
  if (current === undefined) {
    return { action: "create", phoneNumber: normalized.phoneNumber };
  }
  return samePhoneNumber(current, normalized.phoneNumber, settings.defaultRegion)
    ? { action: "alreadyPresent", phoneNumber: normalized.phoneNumber }
    : { action: "replace", phoneNumber: normalized.phoneNumber };
}
