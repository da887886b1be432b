/**
 * Transitive member lists per group and cast, built once: pages of a huge group must not copy the
 * whole member list each time. Started over whenever users or memberships change; a list as of an
 * earlier moment (a lagging advanced query) is built each time and not kept.
 */
import type { GroupRec, TenantStore, UserRec } from "../store.js";

/** One member of a transitive member list: a user or a nested group. */
export interface Member {
  user?: UserRec;
  group?: { id: string; displayName: string };
}

/** The cache of member lists. */
export class MemberLists {
  private readonly lists = new Map<string, Member[]>();
  /** The store version the cached lists belong to. */
  private version = -1;

  /**
   * The members of a group under a cast, from the cache or built now.
   *
   * @param store - the tenant
   * @param group - the group
   * @param castLower - `microsoft.graph.user`, `microsoft.graph.group` or "" (both), lower case
   * @param asOfMs - answer as of this moment (membership changes after it undone); now if undefined
   */
  get(store: TenantStore, group: GroupRec, castLower: string, asOfMs?: number): Member[] {
    if (asOfMs !== undefined && store.membershipChangedAfter(asOfMs)) {
      return build(store.transitiveMembers(group, asOfMs), castLower);
    }
    if (store.version !== this.version) {
      this.lists.clear();
      this.version = store.version;
    }
    const key = `${group.id}|${castLower}`;
    let list = this.lists.get(key);
    if (!list) {
      list = build(store.transitiveMembers(group), castLower);
      this.lists.set(key, list);
    }
    return list;
  }

  /** Forgets every list (after the user set changed). */
  clear(): void {
    this.lists.clear();
  }
}

function build(members: { users: UserRec[]; groups: GroupRec[] }, castLower: string): Member[] {
  if (castLower === "microsoft.graph.user") {
    return members.users.map((user) => ({ user }));
  }
  if (castLower === "microsoft.graph.group") {
    return members.groups.map((g) => ({ group: g }));
  }
  return [...members.users.map((user) => ({ user })), ...members.groups.map((g) => ({ group: g }))];
}
