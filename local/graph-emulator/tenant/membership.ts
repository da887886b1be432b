import type { FixtureGroup, TenantFixture } from "./types.js";

/**
 * Resolves transitive group membership in a tenant fixture, the way Graph's
 * `/groups/{id}/transitiveMembers` does: members of nested groups count, each user once.
 */
export class GroupMembership {
  private readonly groupsById = new Map<string, FixtureGroup>();

  /** @param tenant - a validated fixture. */
  public constructor(tenant: TenantFixture) {
    for (const group of tenant.groups ?? []) {
      this.groupsById.set(group.id, group);
    }
  }

  /**
   * @param groupId - the id of a group of the fixture.
   * @returns the ids of every user reachable from the group through nested groups; a cycle of
   *   groups is followed once.
   * @throws RangeError when no group has that id.
   */
  public transitiveUserIds(groupId: string): Set<string> {
    const root = this.groupsById.get(groupId);
    if (root === undefined) {
      throw new RangeError(`GraphEmulator: the tenant has no group with id '${groupId}'.`);
    }
    const users = new Set<string>();
    const seen = new Set<string>([groupId]);
    const pending: FixtureGroup[] = [root];
    for (let group = pending.pop(); group !== undefined; group = pending.pop()) {
      for (const member of group.members) {
        const nested = this.groupsById.get(member);
        if (nested === undefined) {
          users.add(member);
        } else if (!seen.has(member)) {
          seen.add(member);
          pending.push(nested);
        }
      }
    }
    return users;
  }

  /**
   * @param displayName - a group display name, compared exactly as Graph's `displayName eq` does
   *   (case-insensitively).
   * @returns every group with that name: none, one, or several when names are ambiguous.
   */
  public groupsNamed(displayName: string): FixtureGroup[] {
    const wanted = displayName.toLowerCase();
    return [...this.groupsById.values()].filter(
      (group) => group.displayName.toLowerCase() === wanted,
    );
  }
}
