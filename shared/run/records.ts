/**
 * The directory records a run reads from Graph and keeps in its run store pages: one type per
 * kind, used alike by discovery (which stores them), planning and targeting (which read them).
 * Only the fields the run needs are kept.
 */
import { firstEntry } from "../email/index.js";

/** A user (`GET /users`, group members), as the run keeps it. */
export interface DirectoryUser {
  id: string;
  userPrincipalName: string;
  mobilePhone?: string | null;
  /** Absent when not selected; only an explicit `false` counts as disabled. */
  accountEnabled?: boolean;
  /** `Member` or `Guest`. */
  userType?: string | null;
  /** When the account was created (ISO); absent when Graph did not say. */
  createdDateTime?: string | null;
  /**
   * Office numbers (`METHODS` with `office`): only the first non-blank one is kept, the one the
   * office phone method is made from; absent when not selected.
   */
  businessPhones?: string[];
  /** Alternate email addresses (`METHODS` with `email`): only the first non-blank one is kept. */
  otherMails?: string[];
}

/** A row of `GET /reports/authenticationMethods/userRegistrationDetails`, as the run keeps it. */
export interface RegistrationRow {
  id: string;
  /** Null when the report does not say. */
  isAdmin?: boolean | null;
  isMfaRegistered: boolean;
  /** Whether the user has registered what SSPR asks for (`TARGET=ssprUnregistered`). */
  isSsprRegistered?: boolean;
  /** Report method names such as `mobilePhone`, `email`, `microsoftAuthenticatorPush`. */
  methodsRegistered: string[];
  /** `member` or `guest`. */
  userType?: string;
  /** Kept for the readiness lists (who to bring to passkeys), never a number. */
  userPrincipalName?: string;
}

/** A phone method a user has (`GET /users/{id}/authentication/phoneMethods`). */
export interface PhoneMethod {
  phoneType: "mobile" | "alternateMobile" | "office";
  phoneNumber: string;
}

/** The report's name for a mobile phone method in `methodsRegistered`. */
export const REPORT_MOBILE_METHOD = "mobilePhone";

/** The report's name for an office phone method in `methodsRegistered`. */
export const REPORT_OFFICE_METHOD = "officePhone";

/** The report's name for an email method in `methodsRegistered`. */
export const REPORT_EMAIL_METHOD = "email";

/** The first non-blank entry of a list, as a list of at most one (absent stays absent). */
function firstOnly(values: string[] | null | undefined): string[] | undefined {
  if (values === undefined) {
    return undefined;
  }
  const first = firstEntry(values);
  return first === null ? [] : [first];
}

/**
 * Keeps only what the run needs of a user.
 *
 * @param u - the user as Graph returned it.
 */
export function toDirectoryUser(u: DirectoryUser): DirectoryUser {
  return {
    id: u.id,
    userPrincipalName: u.userPrincipalName,
    mobilePhone: u.mobilePhone ?? null,
    accountEnabled: u.accountEnabled,
    userType: u.userType ?? null,
    createdDateTime: u.createdDateTime ?? null,
    ...(u.businessPhones !== undefined ? { businessPhones: firstOnly(u.businessPhones) } : {}),
    ...(u.otherMails !== undefined ? { otherMails: firstOnly(u.otherMails) } : {}),
  };
}

/**
 * Keeps only the id (exclusion lists).
 *
 * @param u - a directory object.
 */
export function toIdOnly(u: { id: string }): { id: string } {
  return { id: u.id };
}

/**
 * Keeps only what the run needs of a report row.
 *
 * @param r - the row as Graph returned it.
 */
export function toRegistrationRow(r: RegistrationRow): RegistrationRow {
  return {
    id: r.id,
    isAdmin: r.isAdmin ?? null,
    isMfaRegistered: r.isMfaRegistered === true,
    isSsprRegistered: r.isSsprRegistered === true,
    methodsRegistered: Array.isArray(r.methodsRegistered) ? r.methodsRegistered : [],
    ...(r.userType ? { userType: r.userType } : {}),
    ...(r.userPrincipalName ? { userPrincipalName: r.userPrincipalName } : {}),
  };
}
