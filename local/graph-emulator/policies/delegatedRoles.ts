/**
 * Which built-in Microsoft Entra roles Graph asks of a signed-in user for each API family when the
 * call is delegated (checked against the `wids` of the user's token). The role table itself is
 * tenant/roles.ts.
 */
import type { RouteFamily } from "../routes.js";
import { BUILT_IN_ROLES } from "../tenant/roles.js";

const ids = (...names: string[]): string[] => names.map((n) => BUILT_IN_ROLES[n] as string);

/**
 * The roles, any one of which a signed-in user needs for a delegated call (Graph's permission
 * pages): none for directory reads; for authentication methods, Authentication Administrator
 * (non-admin users only) or Privileged Authentication Administrator to write and Global Reader
 * too to read; a reports reader role for the reports family (the registration report and the
 * directory audit log). Global Administrator passes.
 *
 * @param family - the route's family
 * @param isWrite - whether the call changes state
 * @param targetIsAdmin - whether the user whose methods are written holds an admin role
 * @returns template ids, or undefined when no role is needed
 */
export function delegatedRolesNeeded(
  family: RouteFamily,
  isWrite: boolean,
  targetIsAdmin: boolean,
): string[] | undefined {
  if (family === "phone") {
    if (isWrite) {
      return targetIsAdmin
        ? ids("Global Administrator", "Privileged Authentication Administrator")
        : ids(
            "Global Administrator",
            "Privileged Authentication Administrator",
            "Authentication Administrator",
          );
    }
    return ids(
      "Global Administrator",
      "Global Reader",
      "Authentication Administrator",
      "Privileged Authentication Administrator",
    );
  }
  if (family === "reports") {
    return ids(
      "Global Administrator",
      "Global Reader",
      "Reports Reader",
      "Security Reader",
      "Security Administrator",
    );
  }
  return undefined;
}
