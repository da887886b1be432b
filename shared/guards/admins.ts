/**
 * Who holds a directory role, read from the directory itself: active role assignments and
 * PIM-eligible ones, whose principals are users or role-assignable groups (whose members are
 * expanded). The registration report's `isAdmin` has no row for new users, so it cannot be the
 * only source: with `SKIP_ADMINS` on, every holder found here is left alone.
 */
import type { GraphAccess } from "../graph/client.js";
import { GraphRequestError } from "../graph/errors.js";
import { MAX_BATCH_SIZE } from "../graph/client.js";
import { query } from "../graph/paths.js";

/** Active role assignments (`RoleManagement.Read.Directory`). */
const ASSIGNMENTS = `/roleManagement/directory/roleAssignments${query({ $select: "principalId" })}`;

/** PIM-eligible role assignments (same permission; PIM needs Entra ID P2). */
const ELIGIBILITIES = `/roleManagement/directory/roleEligibilityScheduleInstances${query({ $select: "principalId" })}`;

async function principalIds(graph: GraphAccess, path: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of graph.pages<{ principalId?: string }>(path)) {
    for (const item of page.value) {
      if (item.principalId) {
        ids.push(item.principalId);
      }
    }
  }
  return ids;
}

/**
 * Reads eligible principals. A tenant without Entra ID P2 has no PIM and so no eligible
 * assignments: Graph refuses the read with 403 there, while the same permission already read the
 * active assignments; that refusal is taken for "none". Any other failure is thrown.
 */
async function eligiblePrincipalIds(graph: GraphAccess): Promise<{ ids: string[]; note?: string }> {
  try {
    return { ids: await principalIds(graph, ELIGIBILITIES) };
  } catch (error) {
    if (error instanceof GraphRequestError && error.status === 403) {
      return {
        ids: [],
        note: `PIM eligibility could not be read (${error.code}); the tenant is taken to have no eligible role assignments (PIM needs Entra ID P2).`,
      };
    }
    throw error;
  }
}

/** Whether a principal is a group: one batch item each; a throttled item is asked again alone. */
async function groupsAmong(graph: GraphAccess, ids: string[]): Promise<Set<string>> {
  const path = (id: string): string =>
    `/groups/${encodeURIComponent(id)}${query({ $select: "id" })}`;
  const results = await graph.batch(
    ids.map((id, k) => ({ id: String(k + 1), method: "GET" as const, url: path(id) })),
  );
  const groups = new Set<string>();
  for (const [k, r] of results.entries()) {
    const id = ids[k] as string;
    let status = r.status;
    if (r.error?.kind === "transient") {
      // The client's own retries (Retry-After, back-off) apply to a single request.
      status = await graph.get(path(id)).then(
        () => 200,
        (error: unknown) => {
          if (error instanceof GraphRequestError && error.status === 404) {
            return 404;
          }
          throw error;
        },
      );
    } else if (r.error && r.status !== 404) {
      throw r.error;
    }
    if (status !== 404) {
      groups.add(id);
    }
  }
  return groups;
}

/** The principals that are users, with the members of those that are groups. */
async function expandGroups(graph: GraphAccess, principals: string[]): Promise<string[]> {
  const users = new Set<string>();
  for (let i = 0; i < principals.length; i += MAX_BATCH_SIZE) {
    const ids = principals.slice(i, i + MAX_BATCH_SIZE);
    const groups = await groupsAmong(graph, ids);
    for (const id of ids) {
      if (!groups.has(id)) {
        users.add(id);
        continue;
      }
      for (const member of await groupMemberIds(graph, id)) {
        users.add(member);
      }
    }
  }
  return [...users];
}

/**
 * The ids of a group's members, read without advanced query options: these reads go to the
 * directory itself, not to the index that advanced queries read, which can lag by minutes.
 *
 * @param graph - the Graph access layer.
 * @param groupId - the group.
 */
export async function groupMemberIds(graph: GraphAccess, groupId: string): Promise<string[]> {
  const ids: string[] = [];
  const path = `/groups/${encodeURIComponent(groupId)}/transitiveMembers${query({ $select: "id", $top: 999 })}`;
  for await (const page of graph.pages<{ id: string }>(path)) {
    ids.push(...page.value.map((m) => m.id));
  }
  return ids;
}

/** The directory's role holders. */
export interface RoleHolders {
  /** Users holding a role, actively or eligibly, directly or through a group; sorted. */
  userIds: string[];
  /** Principals found in assignments (users, groups, service principals). */
  principals: number;
  /** Set when eligibility could not be read and was taken for "none". */
  note?: string;
}

/**
 * Reads every holder of a directory role.
 *
 * @param graph - the Graph access layer.
 * @throws GraphRequestError when the roles cannot be read (a fatal one names
 *   `RoleManagement.Read.Directory`): admin status that cannot be determined stops the run.
 */
export async function readRoleHolders(graph: GraphAccess): Promise<RoleHolders> {
  const active = await principalIds(graph, ASSIGNMENTS);
  const eligible = await eligiblePrincipalIds(graph);
  const principals = [...new Set([...active, ...eligible.ids])].sort();
  const userIds = (await expandGroups(graph, principals)).sort();
  return {
    userIds,
    principals: principals.length,
    ...(eligible.note ? { note: eligible.note } : {}),
  };
}
