import type { FixtureUser, OtherMethod } from "./types.js";

/**
 * Methods that do not make a user MFA-registered, as the contract says: email (SSPR only) and the
 * Temporary Access Pass. Every other method, and any phone method, does.
 */
export const NOT_MFA_METHODS: ReadonlySet<OtherMethod> = new Set<OtherMethod>([
  "email",
  "temporaryAccessPass",
]);

/**
 * The registration report's `isMfaRegistered` for a fixture user (ignoring report lag).
 *
 * @param user - a fixture user.
 * @returns true when the user has any phone method or any MFA-capable other method.
 */
export function isMfaRegistered(user: FixtureUser): boolean {
  return (
    (user.phoneMethods ?? []).length > 0 ||
    (user.otherMethods ?? []).some((method) => !NOT_MFA_METHODS.has(method))
  );
}
