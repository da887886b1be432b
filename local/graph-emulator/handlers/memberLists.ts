/**
 * Transitive member lists per group and cast, built once: pages of a huge group must not copy the
 * whole member list each time. Started over whenever the user set changes.
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

  /**
   * The members of a group under a cast, from the cache or built now.
   *
   * @param store - the tenant
   * @param group - the group
   * @param castLower - `microsoft.graph.user`, `microsoft.graph.group` or "" (both), lower case
   */
  get(store: TenantStore, group: GroupRec, castLower: string): Member[] {
    const key = `${group.id}|${castLower}`;
    let list = this.lists.get(key);
    if (!list) {
      const members = store.transitiveMembers(group);
      if (castLower === "microsoft.graph.user") {
        list = members.users.map((user) => ({ user }));
      } else if (castLower === "microsoft.graph.group") {
        list = members.groups.map((g) => ({ group: g }));
      } else {
        list = [
          ...members.users.map((user) => ({ user })),
          ...members.groups.map((g) => ({ group: g })),
        ];
      }
      this.lists.set(key, list);
    }
    return list;
  }

  /** Forgets every list (after the user set changed). */
  clear(): void {
    this.lists.clear();
  }
}
