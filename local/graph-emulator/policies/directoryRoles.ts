/**
 * Built-in Microsoft Entra roles by display name and template id (learn: "Microsoft Entra built-in
 * roles", the `wids` of a user's token), and which of them Graph asks of a signed-in user for
 * each API family when the call is delegated.
 */
import type { RouteFamily } from "../routes.js";

/** Template ids of the built-in roles the emulator's delegated checks name. */
export const ROLE_TEMPLATE_IDS: Readonly<Record<string, string>> = {
  "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
  "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
  "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
  "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
  "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
  "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
  "Reports Reader": "4a5d8f65-41da-4de4-8968-e035b65339cf",
  "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
  "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The template id of a role given by display name (any case) or by template id.
 *
 * @param role - display name or template id
 * @returns the template id, or undefined for an unknown name
 */
export function roleTemplateId(role: string): string | undefined {
  if (GUID.test(role)) {
    return role.toLowerCase();
  }
  const name = Object.keys(ROLE_TEMPLATE_IDS).find((n) => n.toLowerCase() === role.toLowerCase());
  return name === undefined ? undefined : ROLE_TEMPLATE_IDS[name];
}

const ids = (...names: string[]): string[] => names.map((n) => ROLE_TEMPLATE_IDS[n] as string);

/**
 * The roles, any one of which a signed-in user needs for a delegated call (Graph's permission
 * pages): none for directory reads; for authentication methods, Authentication Administrator
 * (non-admin users only) or Privileged Authentication Administrator to write and Global Reader
 * too to read; a reports reader role for the registration report. Global Administrator passes.
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
