/**
 * Microsoft Entra built-in roles by display name, with the template ids Graph uses as
 * `roleDefinitionId` and tokens carry in `wids` (entra-docs `permissions-reference.md`, "All
 * roles"): the one table for fixture `directoryRoles`, device-code sign-ins and the delegated role
 * checks (policies/delegatedRoles.ts). A role definition id (a GUID) may also be given directly.
 */

/** Display name -> role template id, for the roles that matter to whoever can change users. */
export const BUILT_IN_ROLES: Readonly<Record<string, string>> = {
  "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
  "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
  "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
  "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
  "Authentication Policy Administrator": "0526716b-113d-4c15-b2c8-68e3c22b9f80",
  "User Administrator": "fe930be7-5e62-47db-91af-98c3a49a38b1",
  "Helpdesk Administrator": "729827e3-9c14-49f7-bb1b-9608f156bbb8",
  "Password Administrator": "966707d0-3269-4727-9be2-8c3a10f19b9d",
  "Groups Administrator": "fdd7a751-b60b-444a-984c-02652fe8fa1c",
  "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
  "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
  "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
  "Conditional Access Administrator": "b1be1c3e-b65d-4f19-8427-f6fa0d97feb9",
  "Application Administrator": "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",
  "Cloud Application Administrator": "158c047a-c907-4556-b7ef-446551a6b5f7",
  "Hybrid Identity Administrator": "8ac3fc64-6eca-42ea-9e69-59f4c7b60eb2",
  "Exchange Administrator": "29232cdf-9323-42fd-ade2-1d097af3e4de",
  "SharePoint Administrator": "f28a1f50-f6e7-4571-818b-6a12f2af6b6c",
  "Intune Administrator": "3a2c62db-5318-420d-8d74-23affee5d9d5",
  "Billing Administrator": "b0f54661-2d74-4c50-afa3-1ec803f12efe",
  "Reports Reader": "4a5d8f65-41da-4de4-8968-e035b65339cf",
};

/** The role an `isAdmin: true` user without role fields holds, so directory and report agree. */
export const IMPLIED_ADMIN_ROLE = "User Administrator";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const BY_LOWER_NAME = new Map(
  Object.entries(BUILT_IN_ROLES).map(([name, id]) => [name.toLowerCase(), id]),
);

/**
 * The role definition id a fixture's `role` names.
 *
 * @param role - a built-in role's display name (any case) or a role definition id
 * @returns the id (lower case), or undefined when the name is not one of {@link BUILT_IN_ROLES}
 */
export function roleDefinitionIdOf(role: string): string | undefined {
  if (GUID.test(role)) {
    return role.toLowerCase();
  }
  return BY_LOWER_NAME.get(role.trim().toLowerCase());
}
