/**
 * The census of a run: which normalised value each candidate holds, filed twice (by user, for the
 * number history; by value, for the one-value-one-user check), then settled shard by shard. It
 * runs before planning, because whether a number is shared is only known once every user has been
 * seen. Only hashes are filed; the numbers stay in the user pages.
 */
import { storeExistingMethods } from "../existingMethods.js";
import { ensureReportIndex, hasRegisteredMobileIn } from "../reportIndex.js";
import type { RunStore } from "../store/runStore.js";
import { normalizePhoneNumber, samePhoneNumber } from "../phone/index.js";
import { runKeys, type DirectoryUser, type PhoneMethod, type RunSettings } from "../run/index.js";
import {
  settleValue,
  type AuditChange,
  type HistoryEntry,
  type Observation,
  type Settlement,
  type UnsettledWhy,
} from "./settle.js";
import { SHARDS, shardOf, valueHasher, type ValueKind } from "./valueHash.js";

/** Store keys of the census and the guards, in one place. */
export const censusKeys = {
  byUser: (runId: string, shard: number, range: number): string =>
    `runs/${runId}/census/users/${pad(shard, 2)}/${pad(range, 6)}.json`,
  byValue: (runId: string, shard: number, range: number): string =>
    `runs/${runId}/census/values/${pad(shard, 2)}/${pad(range, 6)}.json`,
  settled: (runId: string, shard: number): string =>
    `runs/${runId}/guards/settled-${pad(shard, 2)}.json`,
  shared: (runId: string, shard: number): string =>
    `runs/${runId}/guards/shared-${pad(shard, 2)}.json`,
  /** The number history: kept across runs, outside `runs/`. */
  history: (kind: ValueKind, shard: number): string =>
    `state/history/${kind}-${pad(shard, 2)}.json`,
};

function pad(n: number, width: number): string {
  return String(n).padStart(width, "0");
}

/**
 * With `REPLACE_EXISTING`, the registered mobile numbers of the users in these pages that the
 * report says have one (a user whose methods cannot be read maps to nothing and is counted as a
 * holder); without it, undefined: those users get no write at all.
 */
async function registeredMobiles(
  store: RunStore,
  args: { runId: string; settings: RunSettings; fromPage: number; toPage: number },
  report: Map<string, number>,
  lookupPhoneMethods?: (userIds: string[]) => Promise<Map<string, PhoneMethod[]>>,
): Promise<Map<string, string> | undefined> {
  if (!args.settings.replaceExisting || !lookupPhoneMethods) {
    return undefined;
  }
  const ids: string[] = [];
  const byPage = new Map<number, string[]>();
  for (let pageNo = args.fromPage; pageNo < args.toPage; pageNo++) {
    const page = await store.getJson<DirectoryUser[]>(runKeys.page(args.runId, "users", pageNo));
    const onPage = (page ?? [])
      .filter((u) => hasRegisteredMobileIn(report.get(u.id)))
      .map((u) => u.id);
    byPage.set(pageNo, onPage);
    ids.push(...onPage);
  }
  const methods = ids.length > 0 ? await lookupPhoneMethods(ids) : new Map<string, PhoneMethod[]>();
  // Planning decides these users with the same methods: one read per run.
  await storeExistingMethods(store, args.runId, byPage, methods);
  const mobiles = new Map<string, string>();
  for (const [userId, list] of methods) {
    const mobile = list.find((m) => m.phoneType === "mobile")?.phoneNumber;
    if (mobile) {
      mobiles.set(userId, mobile);
    }
  }
  return mobiles;
}

/** A user's observation as filed: `[userId, hash, created?]`. */
type FiledUser = [string, string, string?];

/**
 * Files the values of some user pages, by user and by value. Deterministic for the same pages, so
 * a retried call writes the same files.
 *
 * Who counts as holding a number for the one-number-one-user check: every paged user whose
 * directory attribute holds it, except a user whose registered mobile method already is that
 * number: that user gets no write, and a number that is another user's registered (SMS sign-in)
 * number keeps its own handling at write time (Graph's 409 `phoneNumberNotUnique`, verified and
 * reported). Without `REPLACE_EXISTING` a user with any registered mobile method (from the
 * report) gets no write either and is left out without reading its methods; with it, the methods
 * of those users are read, so a number copied onto users who have other numbers still counts.
 *
 * @param store - the run store.
 * @param args - the run, its settings, the user pages `[fromPage, toPage)`, the range number and
 *   the report pages stored.
 * @returns how many users were filed, and how many hold a usable value.
 */
export async function fileCensus(
  store: RunStore,
  args: {
    runId: string;
    settings: RunSettings;
    fromPage: number;
    toPage: number;
    range: number;
    reportPages: number;
  },
  lookupPhoneMethods?: (userIds: string[]) => Promise<Map<string, PhoneMethod[]>>,
): Promise<{ users: number; withValue: number }> {
  const hash = await valueHasher(store);
  const report = await ensureReportIndex(store, args.runId, args.reportPages);
  const registered = await registeredMobiles(store, args, report, lookupPhoneMethods);
  const holds = (userId: string, phoneNumber: string): boolean => {
    if (!hasRegisteredMobileIn(report.get(userId))) {
      return true;
    }
    if (!registered) {
      return false;
    }
    const mobile = registered.get(userId);
    return (
      mobile === undefined || !samePhoneNumber(mobile, phoneNumber, args.settings.defaultRegion)
    );
  };
  const byUser: FiledUser[][] = Array.from({ length: SHARDS }, () => []);
  const byValue: [string, string][][] = Array.from({ length: SHARDS }, () => []);
  let users = 0;
  let withValue = 0;
  for (let pageNo = args.fromPage; pageNo < args.toPage; pageNo++) {
    const page = await store.getJson<DirectoryUser[]>(runKeys.page(args.runId, "users", pageNo));
    if (!page) {
      throw new Error(
        `Census: user page ${pageNo} of run '${args.runId}' is missing from the run store.`,
      );
    }
    for (const user of page) {
      const normalized = normalizePhoneNumber(user.mobilePhone, {
        defaultRegion: args.settings.defaultRegion,
        allowLandline: args.settings.allowLandline,
      });
      const h = normalized.ok ? hash("mobile", normalized.phoneNumber) : "";
      const holder = normalized.ok && holds(user.id, normalized.phoneNumber);
      const filed: FiledUser = user.createdDateTime
        ? [user.id, h, user.createdDateTime]
        : [user.id, h];
      (byUser[shardOf(user.id)] as FiledUser[]).push(filed);
      if (h !== "" && holder) {
        (byValue[shardOf(h)] as [string, string][]).push([h, user.id]);
      }
      if (h !== "") {
        withValue++;
      }
      users++;
    }
  }
  for (let shard = 0; shard < SHARDS; shard++) {
    await store.putJson(censusKeys.byUser(args.runId, shard, args.range), byUser[shard]);
    await store.putJson(censusKeys.byValue(args.runId, shard, args.range), byValue[shard]);
  }
  return { users, withValue };
}

/** A user whose value is not settled yet, as the guard files it. */
export interface UnsettledUser {
  userId: string;
  since: string;
  until: string;
  why: UnsettledWhy;
  by?: string;
}

/** A change of a user's value seen by this run (for the report and the workbook). */
export interface ValueChange {
  userId: string;
  at: string;
  why: UnsettledWhy;
  by?: string;
}

/** What settling one shard found. */
export interface SettledShard {
  unsettled: UnsettledUser[];
  changes: ValueChange[];
}

/** A value held by more than one user. */
export interface SharedValue {
  h: string;
  userIds: string[];
}

/** History entries unseen for this long are dropped: the user left, or the run's scope changed. */
const HISTORY_TTL_MS = 180 * 86_400_000;

/**
 * Settles one shard of users against the number history and files what is not settled, then
 * records this run's values in the history. The run's own result is written first and reused if
 * the activity runs again, so a retry after the history moved on cannot lose a change.
 *
 * @param store - the run store.
 * @param args - the run, the shard, how many census ranges were filed, the run's start, the
 *   settle period and the audited changes by user id.
 */
export async function settleShard(
  store: RunStore,
  args: {
    runId: string;
    shard: number;
    ranges: number;
    now: Date;
    settleDays: number;
    audit: Map<string, AuditChange>;
    /** Whether the audit log could be read (evidence for users the history does not know). */
    auditRead: boolean;
  },
): Promise<SettledShard> {
  const outKey = censusKeys.settled(args.runId, args.shard);
  const done = await store.getJson<SettledShard>(outKey);
  if (done) {
    return done;
  }
  const historyKey = censusKeys.history("mobile", args.shard);
  const history = new Map(
    Object.entries((await store.getJson<Record<string, HistoryEntry>>(historyKey)) ?? {}),
  );
  const result: SettledShard = { unsettled: [], changes: [] };
  for (let range = 0; range < args.ranges; range++) {
    const filed =
      (await store.getJson<FiledUser[]>(censusKeys.byUser(args.runId, args.shard, range))) ?? [];
    for (const [userId, h, created] of filed) {
      const observation: Observation = created ? { userId, h, created } : { userId, h };
      const r = settleValue(
        history.get(userId),
        observation,
        args.audit.get(userId),
        args.now,
        args.settleDays,
        args.auditRead,
      );
      history.set(userId, r.next);
      if (r.change && h !== "") {
        result.changes.push({ userId, ...r.change });
      }
      if (h !== "" && !r.settlement.settled) {
        result.unsettled.push(unsettledUser(userId, r.settlement));
      }
    }
  }
  await store.putJson(outKey, result);
  const cutoff = args.now.getTime() - HISTORY_TTL_MS;
  for (const [userId, entry] of history) {
    if (Date.parse(entry.l) < cutoff) {
      history.delete(userId);
    }
  }
  await store.putJson(historyKey, Object.fromEntries(history));
  return result;
}

function unsettledUser(userId: string, s: Extract<Settlement, { settled: false }>): UnsettledUser {
  return { userId, since: s.since, until: s.until, why: s.why, ...(s.by ? { by: s.by } : {}) };
}

/**
 * Finds the values of one shard that more than one user holds, and files them.
 *
 * @param store - the run store.
 * @param args - the run, the shard and how many census ranges were filed.
 */
export async function findSharedValues(
  store: RunStore,
  args: { runId: string; shard: number; ranges: number },
): Promise<SharedValue[]> {
  const holders = new Map<string, Set<string>>();
  for (let range = 0; range < args.ranges; range++) {
    const filed =
      (await store.getJson<[string, string][]>(
        censusKeys.byValue(args.runId, args.shard, range),
      )) ?? [];
    for (const [h, userId] of filed) {
      let set = holders.get(h);
      if (!set) {
        set = new Set();
        holders.set(h, set);
      }
      set.add(userId);
    }
  }
  const shared = [...holders]
    .filter(([, users]) => users.size > 1)
    .map(([h, users]) => ({ h, userIds: [...users].sort() }))
    .sort((a, b) => (a.h < b.h ? -1 : 1));
  await store.putJson(censusKeys.shared(args.runId, args.shard), shared);
  return shared;
}

/** What planning needs of the guards: unsettled users and holders of shared values. */
export interface ValueGuards {
  unsettled: Map<string, UnsettledUser>;
  /** User id to the number of users holding the same value. */
  sharedBy: Map<string, number>;
  /** User id to the hash of the value they share (so a report groups holders exactly). */
  sharedValue: Map<string, string>;
}

/**
 * Loads the guards' findings of a run (small: only the exceptions are filed).
 *
 * @param store - the run store.
 * @param runId - the run.
 */
export async function loadValueGuards(store: RunStore, runId: string): Promise<ValueGuards> {
  const guards: ValueGuards = { unsettled: new Map(), sharedBy: new Map(), sharedValue: new Map() };
  for (let shard = 0; shard < SHARDS; shard++) {
    const settled = await store.getJson<SettledShard>(censusKeys.settled(runId, shard));
    const shared = await store.getJson<SharedValue[]>(censusKeys.shared(runId, shard));
    if (!settled || !shared) {
      throw new Error(`Census: shard ${shard} of run '${runId}' was not settled before planning.`);
    }
    for (const u of settled.unsettled) {
      guards.unsettled.set(u.userId, u);
    }
    for (const value of shared) {
      for (const userId of value.userIds) {
        guards.sharedBy.set(userId, value.userIds.length);
        guards.sharedValue.set(userId, value.h);
      }
    }
  }
  return guards;
}
