/**
 * Graph paths and OData literals this product uses, built in one place so identifiers are always
 * encoded and quotes always escaped.
 */

/** Fixed ids of the three phone methods (the same in every tenant). */
export const PHONE_METHOD_IDS = {
  mobile: "3179e48a-750b-4051-897c-87b9720928f7",
  alternateMobile: "b6332ec1-7057-4abe-9331-3d72feddfe41",
  office: "e37fc753-ff3b-4958-9484-eaa9425c82bc",
} as const;

/** Fixed id of the email authentication method (the same in every tenant, one per user). */
export const EMAIL_METHOD_ID = "3ddfcfc8-9383-446f-83cc-3ab9be4be18f";

/**
 * An OData string literal: single quotes doubled, wrapped in quotes.
 *
 * @param value - the raw string, e.g. `Rock 'n' Roll`.
 */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * The path of one user, by object id or UPN (encoded: UPNs hold `#`, `'` and non-ASCII letters).
 *
 * @param idOrUpn - object id or user principal name.
 */
export function userPath(idOrUpn: string): string {
  return `/users/${encodeURIComponent(idOrUpn)}`;
}

/**
 * The phone methods collection of one user.
 *
 * @param idOrUpn - object id or user principal name.
 */
export function phoneMethodsPath(idOrUpn: string): string {
  return `${userPath(idOrUpn)}/authentication/phoneMethods`;
}

/**
 * The email methods collection of one user.
 *
 * @param idOrUpn - object id or user principal name.
 */
export function emailMethodsPath(idOrUpn: string): string {
  return `${userPath(idOrUpn)}/authentication/emailMethods`;
}

/**
 * A query string from parameters, each value encoded (`$filter` values hold spaces and quotes).
 *
 * @param params - parameter name to value; undefined values are left out.
 */
export function query(params: Record<string, string | number | boolean | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length === 0 ? "" : `?${parts.join("&")}`;
}
