/**
 * nightlyRun: one run of the product, as a deterministic orchestration. It resolves the scope,
 * pages users, exclusion members and the registration report into the run store (each page a
 * checkpoint), plans the writes in chunks, provisions the chunks in waves of sub-orchestrations
 * (so no history grows past a few hundred events), and summarises. No time limit or token expiry
 * can stop it: every step is a retried activity that resumes from the last stored page or chunk.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import {
  fetchReportPageName,
  type FetchReportPageInput,
  type FetchReportPageResult,
} from "../activities/fetchReportPage.js";
import {
  fetchUsersPageName,
  type FetchUsersPageInput,
  type FetchUsersPageResult,
} from "../activities/fetchUsersPage.js";
import {
  planChunksName,
  type PlanChunksInput,
  type PlanChunksResult,
} from "../activities/planChunks.js";
import { resolveScopeName, type ResolveScopeResult } from "../activities/resolveScope.js";
import {
  summarizeRunName,
  type SummarizeRunInput,
  type SummarizeRunResult,
} from "../activities/summarizeRun.js";
import {
  DEFAULT_RUN_TUNING,
  emptyCounts,
  type RunInput,
  type RunOutput,
  type RunStatus,
  type RunTuning,
} from "../shared/runTypes.js";
import { provisionWaves, retryOptions, type WaveProgress } from "./provisionWave.js";

/** Registered name. */
export const nightlyRunName = "nightlyRun";

/** The fixed instance id of the nightly singleton. */
export const NIGHTLY_INSTANCE_ID = "mfa-prepopulate-nightly";

/** Thrown (and so failing the run) with a message that says what to fix. */
function fail(context: OrchestrationContext, status: RunStatus, message: string): never {
  status.phase = "failed";
  status.message = message;
  context.df.setCustomStatus(status);
  throw new Error(message);
}

/**
 * Validates the input: the first thing a run does, so a malformed start fails with one sentence.
 *
 * @param input - what the starter passed.
 */
export function validateRunInput(input: unknown): RunInput {
  const i = input as Partial<RunInput> | undefined;
  if (
    !i ||
    typeof i.runId !== "string" ||
    !/^[A-Za-z0-9._-]{1,100}$/.test(i.runId) ||
    typeof i.settings !== "object" ||
    i.settings === null
  ) {
    throw new Error(
      "nightlyRun: the input needs a runId (letters, digits, '.', '_', '-') and a settings snapshot.",
    );
  }
  return i as RunInput;
}

/**
 * Fetches a whole paged list through repeated activity calls, numbering pages from `startPage`;
 * returns how many pages it stored.
 */
function* fetchAll(
  context: OrchestrationContext,
  status: RunStatus,
  name: string,
  base:
    | Omit<FetchUsersPageInput, "firstPageNo" | "cursor">
    | Omit<FetchReportPageInput, "firstPageNo" | "cursor">,
  startPage: number,
  activityRetry: df.RetryOptions,
  onPages: (n: number) => void,
): Generator<df.Task, number, unknown> {
  let pages = 0;
  let cursor: string | undefined;
  for (;;) {
    const input = { ...base, firstPageNo: startPage + pages, cursor };
    const result = (yield context.df.callActivityWithRetry(name, activityRetry, input)) as
      FetchUsersPageResult | FetchReportPageResult;
    if (!result.ok) {
      fail(context, status, result.error);
    }
    pages += result.pages;
    onPages(result.pages);
    context.df.setCustomStatus(status);
    if (result.nextCursor === undefined) {
      return pages;
    }
    cursor = result.nextCursor;
  }
}

/**
 * The orchestration.
 *
 * @param context - the orchestration context.
 */
export const nightlyRun: OrchestrationHandler = function* (
  context: OrchestrationContext,
): Generator<df.Task, RunOutput, unknown> {
  const input = validateRunInput(context.df.getInput());
  const tuning: RunTuning = { ...DEFAULT_RUN_TUNING, ...input.tuning };
  // Retries of a whole activity: a crash, a host restart, or a transient error after the
  // activity's own retries.
  const activityRetry = retryOptions(tuning.retryIntervalMs, 5);
  const settings = input.settings;
  const startedAt = context.df.currentUtcDateTime.toISOString();
  const status: RunStatus = {
    runId: input.runId,
    phase: "resolvingScope",
    dryRun: settings.dryRun,
    startedAt,
    updatedAt: startedAt,
    pages: { users: 0, report: 0, excluded: 0 },
    plan: {},
    chunks: { total: 0, done: 0, failed: 0 },
    counts: emptyCounts(),
    throttled: 0,
  };
  const touch = (): void => {
    status.updatedAt = context.df.currentUtcDateTime.toISOString();
    context.df.setCustomStatus(status);
  };
  touch();

  const scope = (yield context.df.callActivityWithRetry(resolveScopeName, activityRetry, {
    stagingGroup: settings.stagingGroup,
    excludeGroups: settings.excludeGroups,
  })) as ResolveScopeResult;
  if (!scope.ok) {
    fail(context, status, scope.error);
  }

  status.phase = "discovering";
  touch();
  // The report first: a missing licence or permission stops the run before any user is paged.
  const reportPages = yield* fetchAll(
    context,
    status,
    fetchReportPageName,
    { runId: input.runId, maxPages: tuning.pagesPerCall },
    0,
    activityRetry,
    (n) => (status.pages.report += n),
  );
  let excludedPages = 0;
  for (const group of scope.excluded) {
    excludedPages += yield* fetchAll(
      context,
      status,
      fetchUsersPageName,
      {
        runId: input.runId,
        list: "excluded",
        source: { kind: "groupMembers", groupId: group.id },
        maxPages: tuning.pagesPerCall,
      },
      excludedPages,
      activityRetry,
      (n) => (status.pages.excluded += n),
    );
  }
  const userPages = yield* fetchAll(
    context,
    status,
    fetchUsersPageName,
    {
      runId: input.runId,
      list: "users",
      source: scope.staging
        ? { kind: "groupMembers", groupId: scope.staging.id }
        : { kind: "allUsers" },
      maxPages: tuning.pagesPerCall,
    },
    0,
    activityRetry,
    (n) => (status.pages.users += n),
  );

  status.phase = "planning";
  touch();
  let chunks = 0;
  let writes = 0;
  let withoutMfa = 0;
  for (let from = 0; from < userPages; from += tuning.pagesPerPlan) {
    const planInput: PlanChunksInput = {
      runId: input.runId,
      settings,
      stagingGroupSet: scope.staging !== undefined,
      fromPage: from,
      toPage: Math.min(userPages, from + tuning.pagesPerPlan),
      reportPages,
      excludedPages,
      chunkSize: tuning.chunkSize,
      firstChunkNo: chunks,
      writesSoFar: writes,
    };
    const planned = (yield context.df.callActivityWithRetry(
      planChunksName,
      activityRetry,
      planInput,
    )) as PlanChunksResult;
    chunks = planned.nextChunkNo;
    writes += planned.writes;
    withoutMfa += planned.withoutMfa;
    status.counts.candidates += planned.users;
    for (const [k, v] of Object.entries(planned.decisions)) {
      status.plan[k] = (status.plan[k] ?? 0) + v;
    }
    status.counts.planned = writes;
    status.chunks.total = chunks;
    touch();
  }

  let failedChunks: number[] = [];
  if (!settings.dryRun && chunks > 0) {
    status.phase = "provisioning";
    const provisioningStarted = context.df.currentUtcDateTime.getTime();
    touch();
    const progress: WaveProgress = (p) => {
      status.chunks.done = p.chunksDone;
      status.chunks.failed = p.chunksFailed;
      status.counts.created = p.counts.created;
      status.counts.replaced = p.counts.replaced;
      status.counts.alreadyPresent = p.counts.alreadyPresent;
      status.counts.failed = p.counts.failed;
      status.counts.existingDiffers = p.counts.existingDiffers;
      status.counts.smsSignInNotUnique = p.counts.smsSignInNotUnique;
      status.throttled = p.throttled;
      const elapsedMs = context.df.currentUtcDateTime.getTime() - provisioningStarted;
      const doneUsers =
        p.counts.created +
        p.counts.replaced +
        p.counts.alreadyPresent +
        p.counts.failed +
        p.counts.existingDiffers;
      if (elapsedMs > 0 && doneUsers > 0) {
        status.usersPerHour = Math.round((doneUsers / elapsedMs) * 3_600_000);
        const left = Math.max(0, writes - doneUsers);
        status.etaAt = new Date(
          context.df.currentUtcDateTime.getTime() + (left / doneUsers) * elapsedMs,
        ).toISOString();
      }
      touch();
    };
    const result = yield* provisionWaves(context, {
      runId: input.runId,
      chunkNos: Array.from({ length: chunks }, (_, i) => i),
      tuning,
      retryFailed: false,
      logPhoneNumbers: settings.logPhoneNumbers,
      onProgress: progress,
    });
    if (result.fatal) {
      fail(context, status, result.fatal);
    }
    failedChunks = result.failedChunks;
  }

  status.phase = "summarizing";
  touch();
  const summaryInput: SummarizeRunInput = {
    runId: input.runId,
    dryRun: settings.dryRun,
    userPages,
    chunks,
    withoutMfa,
    logPhoneNumbers: settings.logPhoneNumbers,
    startedAt,
    finishedAt: context.df.currentUtcDateTime.toISOString(),
  };
  const summary = (yield context.df.callActivityWithRetry(
    summarizeRunName,
    activityRetry,
    summaryInput,
  )) as SummarizeRunResult;
  status.phase = "completed";
  status.counts = summary.counts;
  touch();
  return {
    runId: input.runId,
    dryRun: settings.dryRun,
    counts: summary.counts,
    plan: status.plan,
    failedChunks,
    retryableChunks: summary.retryableChunks.filter((c) => !failedChunks.includes(c)),
    chunks,
    userPages,
    withoutMfa,
    throttled: status.throttled,
    startedAt,
    finishedAt: summaryInput.finishedAt,
    reportKeys: summary.reportKeys,
  };
};

df.app.orchestration(nightlyRunName, nightlyRun);
