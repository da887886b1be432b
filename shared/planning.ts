/**
 * Planning: joins the stored pages (users, registration report, exclusion members), decides per
 * user and method with the targeting rules, and writes the plan (every user's decision for every
 * method of the run) and the chunks of writes to the run store. Memory stays bounded: the report
 * is held as an id index, users are streamed page by page.
 */
import { readPages } from "./discovery.js";
import { maskEmailAddress } from "./email/index.js";
import { ensureReportIndex, isMfaRegisteredIn, reportRowOf } from "./reportIndex.js";
import { loadValueGuards, type ValueGuards } from "./guards/census.js";
import type { Logger } from "./log/logger.js";
import { numberFormatErrorLine } from "./log/seedLines.js";
import { maskPhoneNumber } from "./phone/index.js";
import {
  decisionLabel,
  isWrite,
  runKeys,
  type ChunkItem,
  type Decision,
  type DecisionCounts,
  type DirectoryUser,
  type PhoneMethod,
  type PlanEntry,
  type RunSettings,
} from "./run/index.js";
import type { Method } from "./settings/index.js";
import type { RunStore } from "./store/runStore.js";
import {
  decideMethod,
  decideUser,
  type TargetingSettings,
  type UserContext,
} from "./targeting/index.js";

/** Reads the phone methods of users by id; a user missing from the map is left as decided. */
export type PhoneMethodLookup = (userIds: string[]) => Promise<Map<string, PhoneMethod[]>>;

/**
 * Reads the ids of all exclusion group members.
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param pages - how many exclusion pages were stored.
 */
export async function loadExcludedIds(
  store: RunStore,
  runId: string,
  pages: number,
): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const page of readPages<{ id: string }>(store, runId, "excluded", pages)) {
    for (const u of page) {
      ids.add(u.id);
    }
  }
  return ids;
}

/**
 * The users holding a directory role, as discovery stored them.
 *
 * @param store - the run store.
 * @param runId - the run.
 */
export async function loadRoleHolders(store: RunStore, runId: string): Promise<Set<string>> {
  const ids = await store.getJson<string[]>(runKeys.roleHolders(runId));
  if (!ids) {
    // Admins fail closed: planning without the role data would take every admin for a user.
    throw new Error(`Planning: the role holders of run '${runId}' are missing from the run store.`);
  }
  return new Set(ids);
}

/**
 * The tenant's verified domains, as discovery stored them (with the email method on).
 *
 * @param store - the run store.
 * @param runId - the run.
 */
export async function loadVerifiedDomains(store: RunStore, runId: string): Promise<Set<string>> {
  const domains = await store.getJson<string[]>(runKeys.domains(runId));
  if (!domains) {
    // Internal addresses fail closed: without the domains every address could be one.
    throw new Error(
      `Planning: the verified domains of run '${runId}' are missing from the run store.`,
    );
  }
  return new Set(domains);
}

/** Arguments of {@link planUserPages}. */
export interface PlanArgs {
  runId: string;
  settings: RunSettings;
  /** Candidates are the staging group's members (so every candidate is inside it). */
  stagingGroupSet: boolean;
  /** The directory's role holders were read into the run store (with `SKIP_ADMINS`). */
  roleHoldersRead: boolean;
  /** User pages `[fromPage, toPage)` to plan in this call. */
  fromPage: number;
  toPage: number;
  reportPages: number;
  excludedPages: number;
  chunkSize: number;
  /** Number of the first chunk this call writes. */
  firstChunkNo: number;
  /** Writes planned by earlier calls of this run (for `MAX_WRITES_PER_RUN`). */
  writesSoFar: number;
}

/** What one planning call did. */
export interface PlanResult {
  /** How many entries (users, per method) got each decision. */
  decisions: DecisionCounts;
  /** The same, per method. */
  byMethod: Partial<Record<Method, DecisionCounts>>;
  users: number;
  /** Users whose report row says not MFA-registered, or who have no row. */
  withoutMfa: number;
  writes: number;
  chunks: number;
  nextChunkNo: number;
}

/** The targeting settings of a planning call. */
function targetingOf(args: PlanArgs, verifiedDomains?: Set<string>): TargetingSettings {
  const s = args.settings;
  return {
    target: s.target,
    skipAdmins: s.skipAdmins,
    allowLandline: s.allowLandline,
    replaceExisting: s.replaceExisting,
    defaultRegion: s.defaultRegion,
    stagingGroupSet: args.stagingGroupSet,
    ...(verifiedDomains ? { verifiedDomains } : {}),
  };
}

/**
 * Decides every user of one page for the mobile phone. With `REPLACE_EXISTING`, users the report
 * says have a mobile method (but not its number) are decided again once their methods are read,
 * so the replace policy can compare; only these users, and only when replacing is switched on.
 */
async function decideMobiles(
  contexts: UserContext[],
  targeting: TargetingSettings,
  lookupPhoneMethods: PhoneMethodLookup | undefined,
): Promise<Decision[]> {
  const decisions = contexts.map((ctx) => decideUser(ctx, targeting));
  if (!targeting.replaceExisting || !lookupPhoneMethods) {
    return decisions;
  }
  const unknown = decisions.flatMap((d, i) =>
    d.action === "skip" && d.reason === "hasMobileMethod" ? [i] : [],
  );
  if (unknown.length === 0) {
    return decisions;
  }
  const methods = await lookupPhoneMethods(
    unknown.map((i) => (contexts[i] as UserContext).user.id),
  );
  for (const i of unknown) {
    const ctx = contexts[i] as UserContext;
    const existing = methods.get(ctx.user.id);
    if (existing) {
      decisions[i] = decideUser({ ...ctx, existingPhoneMethods: existing }, targeting);
    }
  }
  return decisions;
}

/** Writes planned writes to the run store in chunks of `chunkSize`, numbering them on. */
class ChunkWriter {
  private buffer: ChunkItem[] = [];

  constructor(
    private readonly store: RunStore,
    private readonly args: PlanArgs,
    private readonly result: PlanResult,
  ) {}

  /** The number of the chunk the next write goes into. */
  get chunkNo(): number {
    return this.result.nextChunkNo;
  }

  /**
   * Adds one write; writes the chunk when it is full.
   *
   * @param item - the write.
   */
  async add(item: ChunkItem): Promise<void> {
    this.buffer.push(item);
    if (this.buffer.length >= this.args.chunkSize) {
      await this.flush();
    }
  }

  /** Writes the chunk being filled, if it holds anything. */
  async flush(): Promise<void> {
    if (this.buffer.length === 0) {
      return;
    }
    await this.store.putJson(runKeys.chunk(this.args.runId, this.result.nextChunkNo), this.buffer);
    this.result.nextChunkNo++;
    this.result.chunks++;
    this.buffer = [];
  }
}

/** Everything a planning call knows before it decides a page. */
interface PlanningData {
  report: Map<string, number>;
  excluded: Set<string>;
  roleHolders: Set<string>;
  /** The value guards' findings, per method of the run. */
  guards: Map<Method, ValueGuards>;
}

/** What is known about each user of a page, for {@link decideMethod} of one method. */
function pageContexts(
  users: DirectoryUser[],
  args: PlanArgs,
  data: PlanningData,
  method: Method,
): UserContext[] {
  const guards = data.guards.get(method);
  return users.map((user) => ({
    user,
    report: reportRowOf(user.id, data.report.get(user.id)),
    inStagingGroup: args.stagingGroupSet,
    inExcludedGroup: data.excluded.has(user.id),
    holdsDirectoryRole: data.roleHolders.has(user.id),
    numberSharedBy: guards?.sharedBy.get(user.id),
    numberUnsettled: guards?.unsettled.get(user.id),
  }));
}

/** Decides every user of one page for every method of the run: per method, per user. */
async function decidePage(
  users: DirectoryUser[],
  args: PlanArgs,
  data: PlanningData,
  targeting: TargetingSettings,
  lookupPhoneMethods: PhoneMethodLookup | undefined,
): Promise<Map<Method, Decision[]>> {
  const decided = new Map<Method, Decision[]>();
  for (const method of args.settings.methods) {
    const contexts = pageContexts(users, args, data, method);
    decided.set(
      method,
      method === "mobile"
        ? await decideMobiles(contexts, targeting, lookupPhoneMethods)
        : contexts.map((ctx) => decideMethod(method, ctx, targeting)),
    );
  }
  return decided;
}

/** The write of a decision, as a chunk holds it. */
function chunkItem(user: DirectoryUser, method: Method, decision: Decision): ChunkItem | undefined {
  if (decision.action !== "create" && decision.action !== "replace") {
    return undefined;
  }
  const who = { userId: user.id, userPrincipalName: user.userPrincipalName };
  if (decision.emailAddress !== undefined) {
    return {
      ...who,
      method: "email",
      emailAddress: decision.emailAddress,
      action: decision.action,
    };
  }
  return {
    ...who,
    ...(method === "office" ? { method } : {}),
    phoneNumber: decision.phoneNumber,
    action: decision.action,
  };
}

/**
 * Plans one user's method: applies the write cap, counts the decision, logs an unusable mobile
 * number, and files a write in the current chunk.
 *
 * @returns the entry of the plan.
 */
async function planUser(
  user: DirectoryUser,
  method: Method,
  decided: Decision,
  args: PlanArgs,
  result: PlanResult,
  chunks: ChunkWriter,
  logger: Logger,
): Promise<PlanEntry> {
  let decision = decided;
  const cap = args.settings.maxWritesPerRun;
  if (isWrite(decision) && cap > 0 && args.writesSoFar + result.writes >= cap) {
    decision = { action: "skip", reason: "deferred" };
  }
  const entry = planEntry(user, method, decision);
  result.decisions[entry.decision] = (result.decisions[entry.decision] ?? 0) + 1;
  const ofMethod = (result.byMethod[method] ??= {});
  ofMethod[entry.decision] = (ofMethod[entry.decision] ?? 0) + 1;
  if (method === "mobile" && decision.action === "skip" && decision.reason === "invalidNumber") {
    logger.warn(
      numberFormatErrorLine(
        user.userPrincipalName,
        user.mobilePhone,
        args.settings.logPhoneNumbers,
      ),
    );
  }
  const item = chunkItem(user, method, decision);
  if (item) {
    result.writes++;
    entry.chunkNo = chunks.chunkNo;
    await chunks.add(item);
  }
  return entry;
}

/**
 * Plans user pages `[fromPage, toPage)`: decides every user, writes the plan pages and the chunks.
 * Deterministic for the same stored pages, so running it twice writes the same files.
 *
 * @param store - the run store.
 * @param args - what to plan.
 * @param logger - gets one seed-style line per unusable number.
 * @param lookupPhoneMethods - reads existing phone methods, used with `REPLACE_EXISTING` only.
 */
export async function planUserPages(
  store: RunStore,
  args: PlanArgs,
  logger: Logger,
  lookupPhoneMethods?: PhoneMethodLookup,
): Promise<PlanResult> {
  const methods = args.settings.methods;
  const data: PlanningData = {
    report: await ensureReportIndex(store, args.runId, args.reportPages),
    excluded: await loadExcludedIds(store, args.runId, args.excludedPages),
    roleHolders: args.roleHoldersRead
      ? await loadRoleHolders(store, args.runId)
      : new Set<string>(),
    guards: new Map(),
  };
  for (const method of methods) {
    data.guards.set(method, await loadValueGuards(store, args.runId, method));
  }
  const targeting = targetingOf(
    args,
    methods.includes("email") ? await loadVerifiedDomains(store, args.runId) : undefined,
  );
  const result: PlanResult = {
    decisions: {},
    byMethod: {},
    users: 0,
    withoutMfa: 0,
    writes: 0,
    chunks: 0,
    nextChunkNo: args.firstChunkNo,
  };
  const chunks = new ChunkWriter(store, args, result);
  for (let pageNo = args.fromPage; pageNo < args.toPage; pageNo++) {
    const users = await store.getJson<DirectoryUser[]>(runKeys.page(args.runId, "users", pageNo));
    if (!users) {
      throw new Error(
        `Planning: user page ${pageNo} of run '${args.runId}' is missing from the run store.`,
      );
    }
    const decided = await decidePage(users, args, data, targeting, lookupPhoneMethods);
    const plan: PlanEntry[] = [];
    for (const [index, user] of users.entries()) {
      result.users++;
      if (!isMfaRegisteredIn(data.report.get(user.id))) {
        result.withoutMfa++;
      }
      for (const method of methods) {
        const decision = decided.get(method)?.[index] as Decision;
        plan.push(await planUser(user, method, decision, args, result, chunks, logger));
      }
    }
    await store.putJson(runKeys.plan(args.runId, pageNo), plan);
  }
  await chunks.flush();
  return result;
}

/** One user's plan entry for a method (without its chunk, which the caller sets for writes). */
function planEntry(user: DirectoryUser, method: Method, decision: Decision): PlanEntry {
  const entry: PlanEntry = {
    userId: user.id,
    userPrincipalName: user.userPrincipalName,
    method,
    decision: decisionLabel(decision),
  };
  if (decision.action === "skip" && decision.detail) {
    entry.detail = decision.detail;
  }
  // Plan pages keep masked values only: the chunk files are the one place with them in full.
  if (decision.phoneNumber !== undefined) {
    entry.phoneNumber = maskPhoneNumber(decision.phoneNumber);
  }
  if (decision.emailAddress !== undefined) {
    entry.emailAddress = maskEmailAddress(decision.emailAddress);
  }
  return entry;
}
