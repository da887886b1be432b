/**
 * The census of a run: which normalised value each candidate holds, per method the run registers,
 * filed twice (by user, for the value history of that method; by value, for the
 * one-value-one-user check), then settled shard by shard. It runs before planning, because
 * whether a value is shared is only known once every user has been seen. Only hashes are filed;
 * the values stay in the user pages.
 *
 * Numbers of the mobile and the office phone are one family: a number some user holds as a
 * mobile and another as an office phone is shared. Addresses are the other family.
 */
import { firstEntry, normalizeEmailAddress } from "../email/index.js";
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
import {
  SHARDS,
  familyOf,
  shardOf,
  valueHasher,
  type ValueFamily,
  type ValueKind,
} from "./valueHash.js";

/**
 * The folder of a kind's or a family's census files below the run: none for the mobile phone and
 * the phone family (where runs from before the other methods kept them), else its name.
 */
function sub(kindOrFamily: ValueKind | ValueFamily): string {
  return kindOrFamily === "mobile" || kindOrFamily === "phone" ? "" : `${kindOrFamily}/`;
}

/** Store keys of the census and the guards, in one place. */
export const censusKeys = {
  byUser: (runId: string, shard: number, range: number, kind: ValueKind = "mobile"): string =>
    `runs/${runId}/census/${sub(kind)}users/${pad(shard, 2)}/${pad(range, 6)}.json`,
  byValue: (runId: string, shard: number, range: number, family: ValueFamily = "phone"): string =>
    `runs/${runId}/census/${sub(family)}values/${pad(shard, 2)}/${pad(range, 6)}.json`,
  settled: (runId: string, shard: number, kind: ValueKind = "mobile"): string =>
    `runs/${runId}/guards/${sub(kind)}settled-${pad(shard, 2)}.json`,
  shared: (runId: string, shard: number, family: ValueFamily = "phone"): string =>
    `runs/${runId}/guards/${sub(family)}shared-${pad(shard, 2)}.json`,
  /** The value history of a kind: kept across runs, outside `runs/`. */
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

/**
 * The usable value of one kind a user holds, normalised as targeting normalises it, or undefined.
 *
 * @param kind - which value.
 * @param user - the user as the run stored it.
 * @param settings - the run's settings (default region, landlines).
 */
export function usableValue(
  kind: ValueKind,
  user: DirectoryUser,
  settings: Pick<RunSettings, "defaultRegion" | "allowLandline">,
): string | undefined {
  if (kind === "email") {
    const address = normalizeEmailAddress(firstEntry(user.otherMails));
    return address.ok ? address.emailAddress : undefined;
  }
  const raw = kind === "mobile" ? user.mobilePhone : firstEntry(user.businessPhones);
  const normalized = normalizePhoneNumber(raw, {
    defaultRegion: settings.defaultRegion,
    // Office numbers are mostly landlines, and are taken as such (targeting does the same).
    allowLandline: kind === "office" || settings.allowLandline,
  });
  return normalized.ok ? normalized.phoneNumber : undefined;
}

/** A user's observation as filed: `[userId, hash, created?]`. */
type FiledUser = [string, string, string?];

/** A holder of a value as filed: `[hash, userId]` for a mobile or an address, `[hash, userId, kind]` else. */
type FiledValue = [string, string, ValueKind?];

/** The census files of one range, as they are filled. */
class RangeFiles {
  private readonly byUser = new Map<ValueKind, FiledUser[][]>();
  private readonly byValue = new Map<ValueFamily, FiledValue[][]>();

  constructor(kinds: readonly ValueKind[]) {
    for (const kind of kinds) {
      this.byUser.set(kind, shards());
      this.byValue.set(familyOf(kind), shards());
    }
  }

  user(kind: ValueKind, filed: FiledUser): void {
    (this.byUser.get(kind)?.[shardOf(filed[0])] as FiledUser[]).push(filed);
  }

  holder(kind: ValueKind, h: string, userId: string): void {
    const filed: FiledValue = kind === "office" ? [h, userId, kind] : [h, userId];
    (this.byValue.get(familyOf(kind))?.[shardOf(h)] as FiledValue[]).push(filed);
  }

  async save(store: RunStore, runId: string, range: number): Promise<void> {
    for (const [kind, files] of this.byUser) {
      for (let shard = 0; shard < SHARDS; shard++) {
        await store.putJson(censusKeys.byUser(runId, shard, range, kind), files[shard]);
      }
    }
    for (const [family, files] of this.byValue) {
      for (let shard = 0; shard < SHARDS; shard++) {
        await store.putJson(censusKeys.byValue(runId, shard, range, family), files[shard]);
      }
    }
  }
}

function shards<T>(): T[][] {
  return Array.from({ length: SHARDS }, () => []);
}

/**
 * Files the values of some user pages, per method of the run, by user and by value.
 * Deterministic for the same pages, so a retried call writes the same files.
 *
 * Who counts as holding a value for the one-value-one-user check: for the mobile phone, every
 * paged user whose directory attribute holds it, except a user whose registered mobile method
 * already is that number: that user gets no write, and a number that is another user's registered
 * (SMS sign-in) number keeps its own handling at write time (Graph's 409 `phoneNumberNotUnique`,
 * verified and reported). Without `REPLACE_EXISTING` a user with any registered mobile method
 * (from the report) gets no write either and is left out without reading its methods; with it,
 * the methods of those users are read, so a number copied onto users who have other numbers
 * still counts. For the office phone and the email method every paged user whose attribute holds
 * the value counts, whatever the user has registered: no write reconciles a shared office number
 * or address, so one held twice is written for nobody.
 *
 * @param store - the run store.
 * @param args - the run, its settings, the user pages `[fromPage, toPage)`, the range number and
 *   the report pages stored.
 * @returns how many users were filed, and how many hold a usable value of some method.
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
  const kinds = args.settings.methods;
  const registered = kinds.includes("mobile")
    ? await registeredMobiles(store, args, report, lookupPhoneMethods)
    : undefined;
  const holdsMobile = (userId: string, phoneNumber: string): boolean => {
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
  const files = new RangeFiles(kinds);
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
      let held = false;
      for (const kind of kinds) {
        const value = usableValue(kind, user, args.settings);
        const h = value === undefined ? "" : hash(familyOf(kind), value);
        files.user(kind, user.createdDateTime ? [user.id, h, user.createdDateTime] : [user.id, h]);
        if (value !== undefined && (kind !== "mobile" || holdsMobile(user.id, value))) {
          files.holder(kind, h, user.id);
        }
        held ||= value !== undefined;
      }
      withValue += held ? 1 : 0;
      users++;
    }
  }
  await files.save(store, args.runId, args.range);
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
  /**
   * Which of them hold it as which kind, when a kind other than the family's first holds it (an
   * office phone); absent: every holder holds it as a mobile, or as an address.
   */
  byKind?: Partial<Record<ValueKind, string[]>>;
}

/** History entries unseen for this long are dropped: the user left, or the run's scope changed. */
const HISTORY_TTL_MS = 180 * 86_400_000;

/**
 * Settles one shard of users against the value history of one kind and files what is not
 * settled, then records this run's values in the history. The run's own result is written first and reused if
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
    /** Whose values: the mobile phone's when absent. */
    kind?: ValueKind;
  },
): Promise<SettledShard> {
  const kind = args.kind ?? "mobile";
  const outKey = censusKeys.settled(args.runId, args.shard, kind);
  const done = await store.getJson<SettledShard>(outKey);
  if (done) {
    return done;
  }
  const historyKey = censusKeys.history(kind, args.shard);
  const history = new Map(
    Object.entries((await store.getJson<Record<string, HistoryEntry>>(historyKey)) ?? {}),
  );
  const result: SettledShard = { unsettled: [], changes: [] };
  for (let range = 0; range < args.ranges; range++) {
    const filed =
      (await store.getJson<FiledUser[]>(censusKeys.byUser(args.runId, args.shard, range, kind))) ??
      [];
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
 * Finds the values of one shard of a family that more than one user holds, and files them.
 *
 * @param store - the run store.
 * @param args - the run, the shard, how many census ranges were filed, and the family (phone
 *   numbers when absent).
 */
export async function findSharedValues(
  store: RunStore,
  args: { runId: string; shard: number; ranges: number; family?: ValueFamily },
): Promise<SharedValue[]> {
  const family = args.family ?? "phone";
  const holders = new Map<string, Map<string, Set<ValueKind>>>();
  for (let range = 0; range < args.ranges; range++) {
    const filed =
      (await store.getJson<FiledValue[]>(
        censusKeys.byValue(args.runId, args.shard, range, family),
      )) ?? [];
    for (const [h, userId, kind] of filed) {
      let users = holders.get(h);
      if (!users) {
        users = new Map();
        holders.set(h, users);
      }
      const kinds = users.get(userId) ?? new Set<ValueKind>();
      kinds.add(kind ?? (family === "email" ? "email" : "mobile"));
      users.set(userId, kinds);
    }
  }
  const shared = [...holders]
    .filter(([, users]) => users.size > 1)
    .map(([h, users]) => sharedValue(h, users))
    .sort((a, b) => (a.h < b.h ? -1 : 1));
  await store.putJson(censusKeys.shared(args.runId, args.shard, family), shared);
  return shared;
}

function sharedValue(h: string, users: Map<string, Set<ValueKind>>): SharedValue {
  const userIds = [...users.keys()].sort();
  if (![...users.values()].some((kinds) => kinds.has("office"))) {
    return { h, userIds };
  }
  const byKind: Partial<Record<ValueKind, string[]>> = {};
  for (const userId of userIds) {
    for (const kind of users.get(userId) ?? []) {
      (byKind[kind] ??= []).push(userId);
    }
  }
  return { h, userIds, byKind };
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
 * Loads the guards' findings of a run for one kind of value (small: only the exceptions are
 * filed).
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param kind - whose values: the mobile phone's when absent.
 */
export async function loadValueGuards(
  store: RunStore,
  runId: string,
  kind: ValueKind = "mobile",
): Promise<ValueGuards> {
  const guards: ValueGuards = { unsettled: new Map(), sharedBy: new Map(), sharedValue: new Map() };
  for (let shard = 0; shard < SHARDS; shard++) {
    const settled = await store.getJson<SettledShard>(censusKeys.settled(runId, shard, kind));
    const shared = await store.getJson<SharedValue[]>(
      censusKeys.shared(runId, shard, familyOf(kind)),
    );
    if (!settled || !shared) {
      throw new Error(`Census: shard ${shard} of run '${runId}' was not settled before planning.`);
    }
    for (const u of settled.unsettled) {
      guards.unsettled.set(u.userId, u);
    }
    for (const value of shared) {
      const holders = value.byKind ? (value.byKind[kind] ?? []) : value.userIds;
      for (const userId of holders) {
        guards.sharedBy.set(userId, value.userIds.length);
        guards.sharedValue.set(userId, value.h);
      }
    }
  }
  return guards;
}
