/**
 * summarizeRun: joins the plan and the chunk outcomes into the run's report (JSON summary, a
 * per-user CSV, numbers masked unless `LOG_PHONE_NUMBERS=full`, and the report page,
 * `shared/report/`), logs the runbook's Stats lines, and returns the counts.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { logEvent } from "../shared/log/events.js";
import {
  NO_ELIGIBLE_USERS_LINE,
  processedLine,
  targetedUsersLine,
  usersWithoutMfaLine,
} from "../shared/log/seedLines.js";
import {
  censusKeys,
  loadValueGuards,
  type SettledShard,
  type ValueChange,
} from "../shared/guards/census.js";
import { SHARDS } from "../shared/guards/valueHash.js";
import type { Preflight } from "../shared/preflight.js";
import type { Readiness } from "../shared/readiness.js";
import { ReportCollector } from "../shared/report/collect.js";
import { HTML_CONTENT_TYPE, reportHtml } from "../shared/report/html.js";
import {
  MAX_LISTED_FAILURES,
  type ChangedNumberRow,
  type ListedFailure,
  type OutcomeColumn,
  type ReportModel,
  type SharedNumberRow,
} from "../shared/report/model.js";
import {
  emptyCounts,
  isWrite,
  runIdSchema,
  runKeys,
  runSettingsSchema,
  countsOf,
  methodOf,
  tally,
  tallyDecision,
  writeKey,
  type ChunkItem,
  type MethodCounts,
  type ChunkOutcomeFile,
  type Outcome,
  type PlanEntry,
  type RunCounts,
} from "../shared/run/index.js";
import { CSV_CONTENT_TYPE, CSV_LINE_END, formatCsvCell } from "../shared/store/csv.js";
import type { RunStore } from "../shared/store/runStore.js";
import type { Method } from "../shared/settings/index.js";
import { services } from "../shared/services.js";

/** Input of the summary. */
export const summarizeRunInput = z.strictObject({
  runId: runIdSchema,
  /** True when nothing was written (a dry run, or a plan that was not approved). */
  dryRun: z.boolean(),
  /** The outcome column of planned writes when nothing was written (default `dryRun`). */
  unwrittenOutcome: z.enum(["dryRun", "awaitingApproval", "notApproved"]).optional(),
  userPages: z.number().int().min(0),
  chunks: z.number().int().min(0),
  withoutMfa: z.number().int().min(0),
  logPhoneNumbers: z.enum(["masked", "full"]),
  /** Who started the run through the runs API, for the report. */
  startedBy: z.strictObject({ name: z.string(), objectId: z.string().optional() }).optional(),
  /** What started the run, for the report. */
  trigger: z.enum(["timer", "http", "cli"]).optional(),
  /** The run's settings snapshot, for the report. */
  settings: runSettingsSchema,
  /** The plan's approval, when it needed one, for the report. */
  approval: z
    .strictObject({
      status: z.enum(["awaiting", "approved", "notApproved"]),
      threshold: z.number().int().min(0),
      planned: z.number().int().min(0),
      by: z.string().optional(),
      at: z.string().optional(),
    })
    .optional(),
  /** The run's settle period, for the report (0: the guard was off). */
  numberSettleDays: z.number().int().min(0),
  startedAt: z.string(),
  finishedAt: z.string(),
});

/** Input of the summary. */
export type SummarizeRunInput = z.infer<typeof summarizeRunInput>;

/** Result: counts and the chunks a rerun should retry. */
export interface SummarizeRunResult {
  counts: RunCounts;
  /** The counts per method of the run. */
  methods: MethodCounts;
  /** Chunks with users whose write failed transiently or was never attempted. */
  retryableChunks: number[];
  reportKeys: { json: string; csv: string; html: string };
}

/** Columns of the per-user CSV report. */
const CSV_HEADER = [
  "userPrincipalName",
  "userId",
  "decision",
  "outcome",
  "code",
  "detail",
  "phoneNumber",
  // Added with the methods beyond the mobile phone: last, so the columns before keep their place.
  "method",
  "emailAddress",
];

/** What the report's rows add up to. */
interface Tallies {
  counts: RunCounts;
  /** The same counts, per method of the run. */
  methods: MethodCounts;
  retryable: Set<number>;
  failures: ListedFailure[];
  sharedNumbers: Map<string, SharedNumberRow>;
  changedNumbers: ChangedNumberRow[];
  /** The report page's tallies and rows. */
  report: ReportCollector;
}

/** What the guards found, for the report's lists (keyed by {@link writeKey}). */
interface GuardFindings {
  sharedBy: Map<string, number>;
  sharedValue: Map<string, string>;
  changes: Map<string, ValueChange>;
}

/**
 * What the report reads of one chunk: its outcomes, and its full values when the report shows
 * them, both keyed by {@link writeKey}.
 */
interface ChunkView {
  outcomes: Map<string, Outcome>;
  values: Map<string, string>;
}

/**
 * One chunk at a time: plan entries of writes come in chunk order, so one chunk is held in
 * memory, and outcomes are joined to entries by user id. Full numbers are read from the chunk file
 * only when `LOG_PHONE_NUMBERS=full` (plan pages keep masked numbers).
 */
function chunkReader(
  store: RunStore,
  runId: string,
  fullNumbers: boolean,
  report: ReportCollector,
): (chunkNo: number) => Promise<ChunkView> {
  let loaded: { chunkNo: number; view: ChunkView } | undefined;
  return async (chunkNo) => {
    // The plan lists a user's methods together, so a chunk may be asked for again right after.
    if (loaded?.chunkNo !== chunkNo) {
      const file = await store.getJson<ChunkOutcomeFile>(runKeys.outcome(runId, chunkNo));
      report.chunk(chunkNo, file?.timing);
      const items = fullNumbers
        ? ((await store.getJson<ChunkItem[]>(runKeys.chunk(runId, chunkNo))) ?? [])
        : [];
      loaded = {
        chunkNo,
        view: {
          outcomes: new Map((file?.outcomes ?? []).map((o) => [writeKey(o.userId, o.method), o])),
          values: new Map(
            items.map((i) => [writeKey(i.userId, methodOf(i)), i.phoneNumber ?? i.emailAddress]),
          ),
        },
      };
    }
    return loaded.view;
  };
}

/**
 * One entry's outcome column and code column, counted into the tallies.
 *
 * @returns the CSV's `outcome` and `code` cells.
 */
async function joinOutcome(
  entry: PlanEntry,
  input: SummarizeRunInput,
  chunkOf: (chunkNo: number) => Promise<ChunkView>,
  t: Tallies,
  counts: RunCounts[],
): Promise<{ outcome: OutcomeColumn | ""; code: string; detail?: string }> {
  if (!isWrite(entry.decision)) {
    return { outcome: "", code: "" };
  }
  if (input.dryRun) {
    return { outcome: input.unwrittenOutcome ?? "dryRun", code: "" };
  }
  const chunkNo = entry.chunkNo ?? -1;
  const o = (await chunkOf(chunkNo)).outcomes.get(writeKey(entry.userId, methodOf(entry)));
  if (!o) {
    counts.forEach((c) => c.failed++);
    t.retryable.add(chunkNo);
    return { outcome: "notAttempted", code: "notAttempted" };
  }
  counts.forEach((c) => tally(c, o));
  if (o.result === "failed") {
    t.report.failure(o);
    if (o.transient) {
      t.retryable.add(chunkNo);
    }
    if (t.failures.length < MAX_LISTED_FAILURES) {
      const { userId, userPrincipalName } = entry;
      t.failures.push({ userId, userPrincipalName, code: o.code, status: o.status });
    }
    return { outcome: o.result, code: o.code };
  }
  if (o.result === "changedSincePlan") {
    return { outcome: o.result, code: "", detail: o.why };
  }
  return { outcome: o.result, code: o.result === "created" ? (o.note ?? "") : "" };
}

/** Adds an entry of a phone method to the guards' lists of the report (numbers only). */
function listGuardFindings(entry: PlanEntry, guards: GuardFindings, t: Tallies): void {
  const method = methodOf(entry);
  if (method === "email") {
    return;
  }
  const key = writeKey(entry.userId, method);
  const phone = entry.phoneNumber ?? "";
  const value = guards.sharedValue.get(key);
  if (entry.decision === "skip:sharedNumber" && value && !t.sharedNumbers.has(value)) {
    if (t.sharedNumbers.size < MAX_LISTED_FAILURES) {
      t.sharedNumbers.set(value, {
        phoneNumber: phone,
        holders: guards.sharedBy.get(key) ?? 0,
        ...(method === "mobile" ? {} : { method }),
      });
    }
  }
  const change = guards.changes.get(key);
  if (change && t.changedNumbers.length < MAX_LISTED_FAILURES) {
    const { userId, userPrincipalName } = entry;
    t.changedNumbers.push({
      userId,
      userPrincipalName,
      phoneNumber: phone,
      at: change.at,
      ...(change.by ? { by: change.by } : {}),
      ...(method === "mobile" ? {} : { method }),
    });
  }
}

/** The census's findings of a run's phone methods: who shares a number, whose number changed. */
async function guardFindings(
  store: RunStore,
  runId: string,
  methods: readonly Method[],
): Promise<GuardFindings> {
  const found: GuardFindings = { sharedBy: new Map(), sharedValue: new Map(), changes: new Map() };
  for (const method of methods.filter((m) => m !== "email")) {
    for (let shard = 0; shard < SHARDS; shard++) {
      const settled = await store.getJson<SettledShard>(censusKeys.settled(runId, shard, method));
      for (const change of settled?.changes ?? []) {
        found.changes.set(writeKey(change.userId, method), change);
      }
    }
    const { sharedBy, sharedValue } = await loadValueGuards(store, runId, method);
    sharedBy.forEach((n, userId) => found.sharedBy.set(writeKey(userId, method), n));
    sharedValue.forEach((h, userId) => found.sharedValue.set(writeKey(userId, method), h));
  }
  return found;
}

/** The report's CSV, page by page of the plan, counting as it goes. */
async function* reportRows(
  store: RunStore,
  input: SummarizeRunInput,
  t: Tallies,
): AsyncGenerator<string> {
  yield `${CSV_HEADER.map((h) => formatCsvCell(h)).join(",")}${CSV_LINE_END}`;
  const chunkOf = chunkReader(
    store,
    input.runId,
    input.logPhoneNumbers === "full" && !input.dryRun,
    t.report,
  );
  const guards = await guardFindings(store, input.runId, input.settings.methods);
  for (let page = 0; page < input.userPages; page++) {
    const plan = (await store.getJson<PlanEntry[]>(runKeys.plan(input.runId, page))) ?? [];
    let lines = "";
    for (const entry of plan) {
      const method = methodOf(entry);
      const counts = [t.counts, countsOf(t.methods, method)];
      counts.forEach((c) => tallyDecision(c, entry.decision));
      listGuardFindings(entry, guards, t);
      const { outcome, code, detail } = await joinOutcome(entry, input, chunkOf, t, counts);
      const full =
        entry.chunkNo !== undefined && input.logPhoneNumbers === "full" && !input.dryRun
          ? (await chunkOf(entry.chunkNo)).values.get(writeKey(entry.userId, method))
          : undefined;
      const phone = (method === "email" ? undefined : full) ?? entry.phoneNumber ?? "";
      const address = (method === "email" ? full : undefined) ?? entry.emailAddress ?? "";
      const { userPrincipalName, decision } = entry;
      t.report.user({
        userPrincipalName,
        decision,
        outcome,
        code,
        phoneNumber: phone,
        ...(method === "mobile" ? {} : { method }),
        ...(address ? { emailAddress: address } : {}),
      });
      lines +=
        [
          formatCsvCell(entry.userPrincipalName),
          formatCsvCell(entry.userId),
          formatCsvCell(entry.decision),
          formatCsvCell(outcome),
          formatCsvCell(code),
          formatCsvCell(detail ?? entry.detail),
          formatCsvCell(phone, true),
          formatCsvCell(method),
          formatCsvCell(address),
        ].join(",") + CSV_LINE_END;
    }
    yield lines;
  }
}

/** What the run found beside the plan: the readiness lists and the policy pre-flight. */
interface RunFindings {
  readiness?: Readiness;
  preflight?: Preflight;
}

/** The report's model from the input and the walk over the plan. */
function reportModel(
  input: SummarizeRunInput,
  t: Tallies,
  retryableChunks: number[],
  found: RunFindings,
): ReportModel {
  const leaf = (key: string): string => key.slice(key.lastIndexOf("/") + 1);
  return {
    runId: input.runId,
    dryRun: input.dryRun,
    ...(input.trigger ? { trigger: input.trigger } : {}),
    ...(input.startedBy ? { startedBy: input.startedBy } : {}),
    ...(input.approval ? { approval: input.approval } : {}),
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    settings: input.settings,
    counts: t.counts,
    methods: t.methods,
    retryableChunks,
    failures: t.failures,
    failuresTruncated: t.counts.failed > t.failures.length,
    numberSettleDays: input.numberSettleDays,
    sharedNumbers: [...t.sharedNumbers.values()],
    numbersChanged: t.changedNumbers,
    ...(found.readiness ? { readiness: found.readiness } : {}),
    ...(found.preflight ? { preflight: found.preflight } : {}),
    ...t.report.parts(),
    files: {
      csv: leaf(runKeys.reportCsv(input.runId)),
      json: leaf(runKeys.reportJson(input.runId)),
    },
  };
}

/**
 * Builds the report of a run.
 *
 * @param input - run, sizes, and timing.
 * @param context - invocation context: gets the Stats lines.
 */
export async function summarizeRun(
  input: SummarizeRunInput,
  context: InvocationContext,
): Promise<SummarizeRunResult> {
  const { store } = services();
  const t: Tallies = {
    counts: emptyCounts(),
    methods: Object.fromEntries(input.settings.methods.map((m) => [m, emptyCounts()])),
    retryable: new Set(),
    failures: [],
    sharedNumbers: new Map(),
    changedNumbers: [],
    report: new ReportCollector(),
  };
  const keys = {
    json: runKeys.reportJson(input.runId),
    csv: runKeys.reportCsv(input.runId),
    html: runKeys.reportHtml(input.runId),
  };
  await store.putStream(keys.csv, reportRows(store, input, t), CSV_CONTENT_TYPE);
  const { counts } = t;
  const retryableChunks = [...t.retryable].sort((a, b) => a - b);
  const model = reportModel(input, t, retryableChunks, {
    readiness: await store.getJson<Readiness>(runKeys.readiness(input.runId)),
    preflight: await store.getJson<Preflight>(runKeys.preflight(input.runId)),
  });
  // report.json: the page's numbers, without the user rows (report.csv has every user).
  await store.putJson(keys.json, { ...model, users: { total: model.users.total } });
  await store.putStream(keys.html, reportHtml(model), HTML_CONTENT_TYPE);
  if (input.numberSettleDays === 0) {
    context.warn(
      "summarizeRun: NUMBER_SETTLE_DAYS is 0: the settled-numbers guard is off, and numbers changed today can be written today.",
    );
  }

  context.info(usersWithoutMfaLine(input.withoutMfa));
  context.info(targetedUsersLine(counts.planned));
  if (counts.planned === 0) {
    context.info(NO_ELIGIBLE_USERS_LINE);
  } else if (!input.dryRun) {
    context.info(processedLine(counts.created + counts.replaced));
  }
  for (const shared of t.sharedNumbers.values()) {
    logEvent(context, "sharedNumber", { runId: input.runId, ...shared });
  }
  logEvent(context, "runSummarized", {
    runId: input.runId,
    dryRun: input.dryRun,
    ...counts,
    retryableChunks: retryableChunks.length,
  });
  return { counts, methods: t.methods, retryableChunks, reportKeys: keys };
}

/** The activity. */
export const summarizeRunActivity = defineActivity({
  name: "summarizeRun",
  input: summarizeRunInput,
  handler: summarizeRun,
});
