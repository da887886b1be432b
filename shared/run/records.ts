/**
 * The directory records a run reads from Graph and keeps in its run store pages: one type per
 * kind, used alike by discovery (which stores them), planning and targeting (which read them).
 * Only the fields the run needs are kept.
 */

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
}

/** A row of `GET /reports/authenticationMethods/userRegistrationDetails`, as the run keeps it. */
export interface RegistrationRow {
  id: string;
  /** Null when the report does not say. */
  isAdmin?: boolean | null;
  isMfaRegistered: boolean;
  /** Report method names such as `mobilePhone`, `email`, `microsoftAuthenticatorPush`. */
  methodsRegistered: string[];
  /** `member` or `guest`. */
  userType?: string;
}

/** A phone method a user has (`GET /users/{id}/authentication/phoneMethods`). */
export interface PhoneMethod {
  phoneType: "mobile" | "alternateMobile" | "office";
  phoneNumber: string;
}

/** The report's name for a mobile phone method in `methodsRegistered`. */
export const REPORT_MOBILE_METHOD = "mobilePhone";

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
    methodsRegistered: Array.isArray(r.methodsRegistered) ? r.methodsRegistered : [],
    ...(r.userType ? { userType: r.userType } : {}),
  };
}
