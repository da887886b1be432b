/**
 * Fresh at write time: before a run writes after a wait (an approval) or a rerun writes for an
 * older run, the exclusion groups and role holders are read again, and for reruns every user
 * about to be written is re-read. A user who changed since the plan (now excluded, now an admin,
 * disabled, deleted, a guest, or holding another number) is not written: provisionChunk records
 * `changedSincePlan` with the reason.
 */
import type { GraphAccess } from "../graph/client.js";
import { MAX_BATCH_SIZE } from "../graph/client.js";
import { query } from "../graph/paths.js";
import {
  methodOf,
  runKeys,
  toDirectoryUser,
  type ChunkItem,
  type RunSettings,
} from "../run/index.js";
import type { Method } from "../settings/index.js";
import type { RunStore } from "../store/runStore.js";
import { groupMemberIds, readRoleHolders } from "./admins.js";
import { usableValue } from "./census.js";

/** The value a chunk item writes: its number or its address. */
function decidedValueOf(item: ChunkItem): string {
  return item.method === "email" ? item.emailAddress : item.phoneNumber;
}

/** Store keys of the re-check, in one place. */
export const recheckKeys = {
  holders: (runId: string): string => `runs/${runId}/recheck/holders.json`,
  chunk: (runId: string, chunkNo: number): string =>
    `runs/${runId}/recheck/${String(chunkNo).padStart(6, "0")}.json`,
};

/** Exclusion members and role holders, read again. */
export interface FreshHolders {
  excluded: string[];
  roleHolders: string[];
}

/** A user's write left out at write time, and why. */
export interface ChangedUser {
  userId: string;
  why: string;
  /** The method of the write left out; absent: the mobile phone (as files of older runs hold). */
  method?: Method;
}

/**
 * Reads the exclusion groups' members (plain reads, not the lagging index) and, with
 * `SKIP_ADMINS`, the role holders again, and keeps them for the re-check.
 *
 * @param graph - the Graph access layer.
 * @param store - the run store.
 * @param args - the run, its exclusion groups, and whether admins are skipped.
 */
export async function refreshHolders(
  graph: GraphAccess,
  store: RunStore,
  args: { runId: string; excludedGroupIds: string[]; skipAdmins: boolean },
): Promise<{ excluded: number; roleHolders: number }> {
  const excluded = new Set<string>();
  for (const groupId of args.excludedGroupIds) {
    for (const id of await groupMemberIds(graph, groupId)) {
      excluded.add(id);
    }
  }
  const roleHolders = args.skipAdmins ? (await readRoleHolders(graph)).userIds : [];
  const fresh: FreshHolders = { excluded: [...excluded].sort(), roleHolders };
  await store.putJson(recheckKeys.holders(args.runId), fresh);
  return { excluded: fresh.excluded.length, roleHolders: roleHolders.length };
}

/** A user as re-read at write time. */
interface ReReadUser {
  id: string;
  mobilePhone?: string | null;
  businessPhones?: string[];
  otherMails?: string[];
  accountEnabled?: boolean | null;
  userType?: string | null;
}

/** Why a re-read user must not be written now, or undefined when it may. */
function changeOf(
  item: ChunkItem,
  user: ReReadUser | undefined,
  settings: Pick<RunSettings, "defaultRegion" | "allowLandline">,
): string | undefined {
  if (!user) {
    return "The user no longer exists.";
  }
  if (user.accountEnabled !== true) {
    return "The account is disabled now, or its state is not known.";
  }
  if (user.userType?.toLowerCase() !== "member") {
    return "The user is not a member now, or the type is not known.";
  }
  const kind = methodOf(item);
  const now = toDirectoryUser({ ...user, accountEnabled: true, userPrincipalName: "" });
  if (usableValue(kind, now, settings) !== decidedValueOf(item)) {
    return kind === "email"
      ? "The user's alternate email address changed since the plan."
      : "The user's number changed since the plan.";
  }
  return undefined;
}

/** Re-reads users by id, 20 per batch; a user Graph does not find is absent from the map. */
async function reReadUsers(graph: GraphAccess, ids: string[]): Promise<Map<string, ReReadUser>> {
  const found = new Map<string, ReReadUser>();
  const select = query({
    $select: "id,mobilePhone,businessPhones,otherMails,accountEnabled,userType",
  });
  for (let i = 0; i < ids.length; i += MAX_BATCH_SIZE) {
    const part = ids.slice(i, i + MAX_BATCH_SIZE);
    const results = await graph.batch(
      part.map((id, k) => ({
        id: String(k + 1),
        method: "GET" as const,
        url: `/users/${encodeURIComponent(id)}${select}`,
      })),
    );
    for (const [k, r] of results.entries()) {
      const id = part[k] as string;
      if (r.status >= 200 && r.status < 300) {
        found.set(id, r.body as ReReadUser);
      } else if (r.status !== 404) {
        // Not knowing is not permission: a user who cannot be re-read is not written now.
        found.set(id, { id, accountEnabled: null });
      }
    }
  }
  return found;
}

/**
 * Re-checks one chunk and records who must not be written.
 *
 * @param graph - the Graph access layer.
 * @param store - the run store.
 * @param args - the run, the chunk, whether to re-read each user, and the settings numbers are
 *   normalised with.
 */
export async function recheckChunk(
  graph: GraphAccess,
  store: RunStore,
  args: {
    runId: string;
    chunkNo: number;
    rereadUsers: boolean;
    settings: Pick<RunSettings, "defaultRegion" | "allowLandline">;
  },
): Promise<ChangedUser[]> {
  const items = (await store.getJson<ChunkItem[]>(runKeys.chunk(args.runId, args.chunkNo))) ?? [];
  const fresh = await store.getJson<FreshHolders>(recheckKeys.holders(args.runId));
  if (!fresh) {
    throw new Error(`Recheck: the holders of run '${args.runId}' were not read again.`);
  }
  const excluded = new Set(fresh.excluded);
  const roleHolders = new Set(fresh.roleHolders);
  const users = args.rereadUsers
    ? await reReadUsers(
        graph,
        items.map((i) => i.userId),
      )
    : undefined;
  const changed: ChangedUser[] = [];
  for (const item of items) {
    const why = excluded.has(item.userId)
      ? "The user is in an exclusion group now."
      : roleHolders.has(item.userId)
        ? "The user holds a directory role now."
        : users
          ? changeOf(item, users.get(item.userId), args.settings)
          : undefined;
    if (why) {
      const method = methodOf(item);
      changed.push({ userId: item.userId, why, ...(method === "mobile" ? {} : { method }) });
    }
  }
  await store.putJson(recheckKeys.chunk(args.runId, args.chunkNo), changed);
  return changed;
}
