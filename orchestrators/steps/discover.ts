/**
 * Step 1 of a run: resolve the groups, then page the registration report (and count the
 * readiness for the end of Microsoft SMS and voice from it), the guards' evidence, the tenant's
 * verified domains (with the email method), the exclusion groups' members and the candidate users
 * into the run store, a few pages per activity call.
 */
import type { OrchestrationContext, RetryOptions, Task } from "durable-functions";
import { countReadinessActivity } from "../../activities/countReadiness.js";
import { fetchAuditPageActivity } from "../../activities/fetchAuditPage.js";
import { fetchReportPageActivity } from "../../activities/fetchReportPage.js";
import { fetchUsersPageActivity } from "../../activities/fetchUsersPage.js";
import { readDomainsActivity } from "../../activities/readDomains.js";
import { readRoleHoldersActivity } from "../../activities/readRoleHolders.js";
import { resolveScopeActivity, type ResolvedGroup } from "../../activities/resolveScope.js";
import type { FetchActivityResult } from "../../shared/discovery.js";
import type { ActivityDefinition } from "../../shared/durable/index.js";
import type { RunSettings } from "../../shared/run/index.js";
import type { RunProgress } from "./progress.js";
import type { StepRun } from "./run.js";

/** What discovery stored. */
export interface Discovery {
  staging?: ResolvedGroup;
  /** The exclusion groups' ids (a re-check before writing reads their members again). */
  excludedGroupIds: string[];
  reportPages: number;
  excludedPages: number;
  userPages: number;
  /** Audit pages stored (0 when the settle guard is off). */
  auditPages: number;
  /** Whether the audit log was read (it may be refused: the guard then trusts the history alone). */
  auditRead: boolean;
  /** Whether the directory's role holders were read (with `SKIP_ADMINS`). */
  roleHoldersRead: boolean;
}

/**
 * With the email method on, the tenant's verified domains: planning refuses addresses in them,
 * and a run that cannot read them stops before anything is decided.
 */
function* verifiedDomains(
  context: OrchestrationContext,
  run: DiscoverRun,
): Generator<Task, void, unknown> {
  if (!run.settings.methods.includes("email")) {
    return;
  }
  const domains = yield* readDomainsActivity.call(context, { runId: run.runId }, run.retry);
  if (!domains.ok) {
    return run.progress.fail(domains.error);
  }
}

/** Options of {@link fetchAll}. */
interface FetchAllOptions<I, O extends FetchActivityResult> {
  activity: ActivityDefinition<I, O>;
  /** The input of the call that writes pages from `firstPageNo` on, continuing at `cursor`. */
  input: (next: { firstPageNo: number; cursor?: string }) => I;
  /** Number of the first page. */
  startPage: number;
  retry: RetryOptions;
  progress: RunProgress;
  /** Counts stored pages into the status. */
  onPages: (pages: number) => void;
  /** Sees every result (e.g. a fetch that stored nothing because Graph refused an optional list). */
  onResult?: (result: O) => void;
}

/**
 * Fetches a whole paged list through repeated activity calls; returns how many pages it stored.
 * A fatal answer (no permission, no licence) fails the run with its message.
 */
function* fetchAll<I, O extends FetchActivityResult>(
  context: OrchestrationContext,
  options: FetchAllOptions<I, O>,
): Generator<Task, number, unknown> {
  let pages = 0;
  let cursor: string | undefined;
  for (;;) {
    const input = options.input({ firstPageNo: options.startPage + pages, cursor });
    const result = yield* options.activity.call(context, input, options.retry);
    options.onResult?.(result);
    if (!result.ok) {
      return options.progress.fail(result.error);
    }
    pages += result.pages;
    options.onPages(result.pages);
    options.progress.publish();
    if (result.nextCursor === undefined) {
      return pages;
    }
    cursor = result.nextCursor;
  }
}

/** The run as the discovery steps see it. */
type DiscoverRun = StepRun;

/**
 * Evidence the guards need: with `SKIP_ADMINS`, who holds a directory role (admins fail closed:
 * a run that cannot read it stops before anything is decided), and with a settle period, the
 * audit log's changes within it.
 *
 * @returns how many audit pages were stored, and whether the audit log could be read.
 */
function* guardEvidence(
  context: OrchestrationContext,
  run: DiscoverRun,
): Generator<Task, { auditPages: number; auditRead: boolean }, unknown> {
  const { runId, settings, retry, progress } = run;
  if (settings.skipAdmins) {
    const holders = yield* readRoleHoldersActivity.call(context, { runId }, retry);
    if (!holders.ok) {
      return progress.fail(holders.error);
    }
  }
  if (settings.numberSettleDays === 0) {
    return { auditPages: 0, auditRead: false };
  }
  const since = settlePeriodStart(progress, settings);
  let auditRead = true;
  const auditPages = yield* fetchAll(context, {
    activity: fetchAuditPageActivity,
    input: (next) => ({ runId, since, maxPages: run.tuning.pagesPerCall, ...next }),
    startPage: 0,
    retry,
    progress,
    onPages: () => undefined,
    onResult: (r) => {
      if ("auditUnavailable" in r) {
        auditRead = false;
      }
    },
  });
  return { auditPages, auditRead };
}

/** The members of every exclusion group, one list of pages after another. */
function* excludedMembers(
  context: OrchestrationContext,
  run: DiscoverRun,
  groups: ResolvedGroup[],
): Generator<Task, number, unknown> {
  let pages = 0;
  for (const group of groups) {
    pages += yield* fetchAll(context, {
      activity: fetchUsersPageActivity,
      input: (next) => ({
        runId: run.runId,
        list: "excluded" as const,
        source: { kind: "groupMembers" as const, groupId: group.id },
        maxPages: run.tuning.pagesPerCall,
        ...next,
      }),
      startPage: pages,
      retry: run.retry,
      progress: run.progress,
      onPages: (n) => (run.progress.status.pages.excluded += n),
    });
  }
  return pages;
}

/**
 * Discovers the run's directory data.
 *
 * @param context - the orchestration context.
 * @param run - the run's id, settings, tuning, retry options and progress.
 */
export function* discover(
  context: OrchestrationContext,
  run: DiscoverRun,
): Generator<Task, Discovery, unknown> {
  const { runId, settings, retry, progress } = run;
  const pages = progress.status.pages;
  const scopeInput =
    settings.stagingGroup === undefined
      ? { excludeGroups: settings.excludeGroups }
      : { stagingGroup: settings.stagingGroup, excludeGroups: settings.excludeGroups };
  const scope = yield* resolveScopeActivity.call(context, scopeInput, retry);
  if (!scope.ok) {
    return progress.fail(scope.error);
  }

  progress.enter("discovering");
  const maxPages = run.tuning.pagesPerCall;
  // The report first: a missing licence or permission stops the run before any user is paged.
  const reportPages = yield* fetchAll(context, {
    activity: fetchReportPageActivity,
    input: (next) => ({ runId, maxPages, ...next }),
    startPage: 0,
    retry,
    progress,
    onPages: (n) => (pages.report += n),
  });
  progress.status.readiness = yield* countReadinessActivity.call(
    context,
    { runId, reportPages },
    retry,
  );
  const { auditPages, auditRead } = yield* guardEvidence(context, run);
  yield* verifiedDomains(context, run);
  const excludedPages = yield* excludedMembers(context, run, scope.excluded);
  const source = scope.staging
    ? { kind: "groupMembers" as const, groupId: scope.staging.id }
    : { kind: "allUsers" as const };
  const userPages = yield* fetchAll(context, {
    activity: fetchUsersPageActivity,
    input: (next) => ({
      runId,
      list: "users" as const,
      source,
      maxPages,
      methods: settings.methods,
      ...next,
    }),
    startPage: 0,
    retry,
    progress,
    onPages: (n) => (pages.users += n),
  });
  return {
    staging: scope.staging,
    excludedGroupIds: scope.excluded.map((g) => g.id),
    reportPages,
    excludedPages,
    userPages,
    auditPages,
    auditRead,
    roleHoldersRead: settings.skipAdmins,
  };
}

/** The start of the settle period, from the run's start (orchestration time, so replays agree). */
function settlePeriodStart(progress: RunProgress, settings: RunSettings): string {
  return new Date(
    Date.parse(progress.status.startedAt) - settings.numberSettleDays * 86_400_000,
  ).toISOString();
}
