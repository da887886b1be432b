/**
 * Who holds which directory role: the active assignments and PIM eligibilities the fixture gives
 * users and role-assignable groups, plus the User Administrator assignment an `isAdmin` user
 * without role fields holds, so the directory and the registration report agree. Derived from the
 * store and rebuilt after any change of users or groups.
 */
import { createHash } from "node:crypto";
import type { TenantStore, UserRec } from "./store.js";
import { IMPLIED_ADMIN_ROLE, roleDefinitionIdOf } from "./tenant/roles.js";
import type { FixtureDirectoryRole } from "./tenant/types.js";

/** One role held by one principal at tenant scope. */
export interface RoleGrant {
  /** Stable id of the assignment (or eligibility instance). */
  id: string;
  principalId: string;
  principalType: "user" | "group";
  /** Role template id, lower case. */
  roleDefinitionId: string;
  /** PIM-eligible rather than active. */
  eligible: boolean;
  /** When the grant began (the user's creation, or long ago for groups), ISO 8601. */
  startDateTime: string;
}

interface Built {
  version: number;
  grants: RoleGrant[];
  /**
   * Lower-cased ids of users holding an active role, directly or through a group, with the
   * template ids of those roles.
   */
  activeHolders: Map<string, Set<string>>;
}

function grantId(principalId: string, roleDefinitionId: string, eligible: boolean): string {
  // Graph's ids are opaque base64url strings ending in a sequence suffix; this keeps the shape.
  const h = createHash("sha256").update(`${principalId}|${roleDefinitionId}|${eligible}`);
  return `${h.digest("base64url").slice(0, 43)}-1${eligible ? "-e" : ""}`;
}

/** The role grants of a tenant. */
export class RoleGrants {
  private built: Built | undefined;

  /** @param store - the tenant the grants are derived from */
  constructor(private readonly store: TenantStore) {}

  /** Every grant, users first in user order, then groups in group order. */
  all(): readonly RoleGrant[] {
    return this.current().grants;
  }

  /**
   * Whether a user holds an active role, directly or as a member of a role-assignable group.
   *
   * @param userId - user object id
   */
  holdsActiveRole(userId: string): boolean {
    return this.current().activeHolders.has(userId.toLowerCase());
  }

  /**
   * Template ids of the roles a user holds actively, directly or through a role-assignable group
   * (what Entra puts in the `wids` of the user's token; eligible roles are not there until
   * activated).
   *
   * @param userId - user object id
   */
  activeRoleIds(userId: string): string[] {
    return [...(this.current().activeHolders.get(userId.toLowerCase()) ?? [])];
  }

  private current(): Built {
    const version = this.store.version;
    if (this.built?.version !== version) {
      this.built = this.build(version);
    }
    return this.built;
  }

  private build(version: number): Built {
    const grants: RoleGrant[] = [];
    const activeHolders = new Map<string, Set<string>>();
    const hold = (userId: string, roleIds: readonly string[]): void => {
      const key = userId.toLowerCase();
      const held = activeHolders.get(key) ?? new Set<string>();
      roleIds.forEach((id) => held.add(id));
      activeHolders.set(key, held);
    };
    // Returns the template ids of the active roles among `roles`.
    const add = (
      principalId: string,
      principalType: "user" | "group",
      roles: readonly FixtureDirectoryRole[],
      startDateTime: string,
    ): string[] => {
      const active: string[] = [];
      for (const { role, eligible } of roles) {
        // The fixture validator has checked the names; an unknown one is skipped, not guessed.
        const roleDefinitionId = roleDefinitionIdOf(role);
        if (roleDefinitionId === undefined) {
          continue;
        }
        const isEligible = eligible === true;
        if (!isEligible) {
          active.push(roleDefinitionId);
        }
        grants.push({
          id: grantId(principalId, roleDefinitionId, isEligible),
          principalId,
          principalType,
          roleDefinitionId,
          eligible: isEligible,
          startDateTime,
        });
      }
      return active;
    };
    for (const user of this.store.users) {
      const active = add(user.id, "user", rolesOf(user), user.createdDateTime);
      if (active.length > 0) {
        hold(user.id, active);
      }
    }
    for (const group of this.store.groups) {
      const active = add(group.id, "group", group.directoryRoles, this.store.longAgoIso);
      if (active.length > 0) {
        for (const member of group.members) {
          hold(member, active);
        }
      }
    }
    return { version, grants, activeHolders };
  }
}

function rolesOf(user: UserRec): readonly FixtureDirectoryRole[] {
  if (user.directoryRoles !== undefined) {
    return user.directoryRoles;
  }
  return user.isAdmin ? [{ role: IMPLIED_ADMIN_ROLE }] : [];
}
