/**
 * What crosses the Durable boundary: orchestration inputs and outputs, activity inputs and
 * results, and the custom status. Plain JSON only (ids, numbers, ISO strings), and never a phone
 * number: numbers live in the run store alone.
 */
import { randomBytes } from "node:crypto";
import type { Settings } from "./settings/index.js";

/** The part of the settings a run takes a snapshot of when it starts (no secrets). */
export type RunSettings = Pick<
  Settings,
  | "stagingGroup"
  | "excludeGroups"
  | "defaultRegion"
  | "target"
  | "skipAdmins"
  | "allowLandline"
  | "replaceExisting"
  | "maxWritesPerRun"
  | "dryRun"
  | "logPhoneNumbers"
>;

/** Tuning of one run; defaults in {@link DEFAULT_RUN_TUNING}. */
export interface RunTuning {
  /** Pages fetched by one fetch activity call (each page up to 999 users). */
  pagesPerCall: number;
  /** User pages planned by one planChunks call. */
  pagesPerPlan: number;
  /** Users per chunk (one provisionChunk call). */
  chunkSize: number;
  /** Chunks per provisionWave sub-orchestration. */
  chunksPerWave: number;
  /** provisionChunk activities in flight per wave. */
  chunksInFlight: number;
  /** Waves in flight at once. */
  wavesInFlight: number;
  /** First retry interval of a failed activity or wave (doubled per retry, at most 60 s). */
  retryIntervalMs: number;
}

/**
 * The default tuning. Progress reaches the custom status after each group of waves (about
 * 4,000 users); histories stay in the low thousands of events at a million users.
 */
export const DEFAULT_RUN_TUNING: RunTuning = {
  pagesPerCall: 10,
  pagesPerPlan: 50,
  chunkSize: 250,
  chunksPerWave: 8,
  chunksInFlight: 4,
  wavesInFlight: 2,
  retryIntervalMs: 5_000,
};

/** Input of the nightlyRun orchestration. */
export interface RunInput {
  runId: string;
  trigger: "timer" | "http" | "cli";
  settings: RunSettings;
  tuning?: Partial<RunTuning>;
}

/** Counts a run reports (the CLI contract's `counts`, plus detail). */
export interface RunCounts {
  candidates: number;
  planned: number;
  created: number;
  replaced: number;
  alreadyPresent: number;
  invalidNumber: number;
  skipped: number;
  failed: number;
  deferred: number;
  /** Users whose mobile method exists with another number, left alone (REPLACE_EXISTING off). */
  existingDiffers: number;
  /** Created, but Graph said the number is another user's SMS sign-in number. */
  smsSignInNotUnique: number;
}

/** A zeroed {@link RunCounts}. */
export function emptyCounts(): RunCounts {
  return {
    candidates: 0,
    planned: 0,
    created: 0,
    replaced: 0,
    alreadyPresent: 0,
    invalidNumber: 0,
    skipped: 0,
    failed: 0,
    deferred: 0,
    existingDiffers: 0,
    smsSignInNotUnique: 0,
  };
}

/** Phases of a run, in order. */
export type RunPhase =
  | "starting"
  | "resolvingScope"
  | "discovering"
  | "planning"
  | "provisioning"
  | "summarizing"
  | "completed"
  | "failed";

/** The custom status (kept far below Durable's 16 KB limit: counts only). */
export interface RunStatus {
  runId: string;
  phase: RunPhase;
  dryRun: boolean;
  startedAt: string;
  updatedAt: string;
  pages: { users: number; report: number; excluded: number };
  /** Decisions of the plan: action or skip reason to count. */
  plan: Record<string, number>;
  chunks: { total: number; done: number; failed: number };
  counts: RunCounts;
  throttled: number;
  /** Users provisioned per hour so far in the provisioning phase. */
  usersPerHour?: number;
  /** Estimated end of provisioning. */
  etaAt?: string;
  message?: string;
}

/** Output of a finished run. */
export interface RunOutput {
  runId: string;
  dryRun: boolean;
  counts: RunCounts;
  plan: Record<string, number>;
  failedChunks: number[];
  /** Chunks holding users whose writes failed transiently; a rerun retries them. */
  retryableChunks: number[];
  chunks: number;
  /** Stored user pages (a rerun's summary reads them again). */
  userPages: number;
  /** Candidates the report called not MFA-registered (for the Stats line). */
  withoutMfa: number;
  throttled: number;
  startedAt: string;
  finishedAt: string;
  reportKeys: { json: string; csv: string };
}

/** Input of the rerunFailed orchestration: the finished run's output and what to retry. */
export interface RerunFailedInput {
  /** The output of the run to repair (its store data is reused). */
  source: RunOutput;
  logPhoneNumbers: "masked" | "full";
  tuning?: Partial<RunTuning>;
}

/**
 * Checks that a run can be rerun (it completed, and wrote: a dry run has nothing to rerun) and
 * builds the rerun's instance id and input. The runs API and the CLI both start reruns this way.
 *
 * @param run - the run's instance id, runtime status and output.
 * @param logPhoneNumbers - the `LOG_PHONE_NUMBERS` setting.
 * @returns the rerun, or the reason it cannot start.
 */
export function prepareRerun(
  run: { instanceId: string; runtimeStatus: string; output: unknown },
  logPhoneNumbers: "masked" | "full",
): { rerunId: string; input: RerunFailedInput } | { error: string } {
  if (run.runtimeStatus !== "Completed") {
    return {
      error: `Run '${run.instanceId}' is ${run.runtimeStatus}; only a completed run can be rerun.`,
    };
  }
  const source = run.output as RunOutput;
  if (source.dryRun) {
    return { error: `Run '${run.instanceId}' was a dry run; there is nothing to rerun.` };
  }
  return { rerunId: newRunId(`${source.runId}-rerun`), input: { source, logPhoneNumbers } };
}

/** Store keys of a run, in one place. */
export const runKeys = {
  root: (runId: string): string => `runs/${runId}/`,
  page: (runId: string, list: PageList, pageNo: number): string =>
    `runs/${runId}/pages/${list}/${pad(pageNo)}.json`,
  pages: (runId: string, list: PageList): string => `runs/${runId}/pages/${list}/`,
  reportIndex: (runId: string): string => `runs/${runId}/report-index.json`,
  plan: (runId: string, planNo: number): string => `runs/${runId}/plan/${pad(planNo)}.json`,
  plans: (runId: string): string => `runs/${runId}/plan/`,
  chunk: (runId: string, chunkNo: number): string => `runs/${runId}/chunks/${pad(chunkNo)}.json`,
  outcome: (runId: string, chunkNo: number): string =>
    `runs/${runId}/outcomes/${pad(chunkNo)}.json`,
  partialOutcome: (runId: string, chunkNo: number): string =>
    `runs/${runId}/outcomes/${pad(chunkNo)}.partial.json`,
  reportJson: (runId: string): string => `runs/${runId}/report.json`,
  reportCsv: (runId: string): string => `runs/${runId}/report.csv`,
  planCsv: (runId: string): string => `runs/${runId}/plan.csv`,
};

/** Lists of paged directory data a run keeps. */
export type PageList = "users" | "report" | "excluded";

function pad(n: number): string {
  return String(n).padStart(6, "0");
}

/**
 * The part of the settings a run snapshots.
 *
 * @param settings - validated settings.
 * @param dryRun - overrides `DRY_RUN` when given.
 */
export function runSettingsFrom(settings: Settings, dryRun?: boolean): RunSettings {
  return {
    stagingGroup: settings.stagingGroup,
    excludeGroups: settings.excludeGroups,
    defaultRegion: settings.defaultRegion,
    target: settings.target,
    skipAdmins: settings.skipAdmins,
    allowLandline: settings.allowLandline,
    replaceExisting: settings.replaceExisting,
    maxWritesPerRun: settings.maxWritesPerRun,
    dryRun: dryRun ?? settings.dryRun,
    logPhoneNumbers: settings.logPhoneNumbers,
  };
}

/**
 * A new run id: sortable by start time, unique enough for one tenant.
 *
 * @param prefix - `run` for manual starts, `nightly` for the timer.
 * @param now - the start time.
 */
export function newRunId(prefix: string, now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `${prefix}-${stamp}-${randomBytes(2).toString("hex")}`;
}
