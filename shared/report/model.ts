/**
 * The run report's model: everything the report page shows, as plain JSON. summarizeRun fills it
 * while it writes report.csv, stores it as report.json (without the inline user rows) and renders
 * it as report.html (`html.ts`). A field added here is shown by `html.ts` and documented there.
 */
import type { MethodCounts, RunCounts } from "../run/counts.js";
import type { Preflight } from "../preflight.js";
import type { Readiness } from "../readiness.js";
import type { Method } from "../settings/index.js";
import type { DecisionCounts, DecisionLabel } from "../run/decisions.js";
import type { RunSettings, RunTrigger } from "../run/input.js";

/** Users listed inline on the page at most; the rest are in report.csv. */
export const REPORT_USER_ROWS = 5_000;

/** Failures listed by name at most (report.json and the page); the rest are in report.csv. */
export const MAX_LISTED_FAILURES = 1_000;

/**
 * The outcome column of a user with a planned write: what the writer reported, `notAttempted`
 * (the chunk never finished), or why nothing was written (`dryRun`, `awaitingApproval`,
 * `notApproved`).
 */
export type OutcomeColumn =
  | "created"
  | "replaced"
  | "alreadyPresent"
  | "existingDiffers"
  | "changedSincePlan"
  | "failed"
  | "notAttempted"
  | "dryRun"
  | "awaitingApproval"
  | "notApproved";

/** One user's line on the page, as report.csv has it (the number masked unless `full`). */
export interface ReportUserRow {
  userPrincipalName: string;
  decision: DecisionLabel;
  /** Empty for users without a planned write. */
  outcome: OutcomeColumn | "";
  /** Graph's error code of a failure, or the note of a creation. */
  code: string;
  /** Masked (`+45 ******56`) unless `LOG_PHONE_NUMBERS=full`; empty when the user has none. */
  phoneNumber: string;
  /** The method of the line; absent: the mobile phone. */
  method?: Method;
  /** The email method's address, masked (`a***@example.org`) unless `LOG_PHONE_NUMBERS=full`. */
  emailAddress?: string;
}

/** A listed failure (ids and Graph's code; never a number). */
export interface ListedFailure {
  userId: string;
  userPrincipalName: string;
  code: string;
  status: number;
}

/** Failures grouped by Graph's error code and HTTP status. */
export interface FailureCodeRow {
  code: string;
  status: number;
  count: number;
  /** Of `count`, the failures a rerun may fix (throttling, outages). */
  transient: number;
}

/** A number held back because several users hold it (masked unless `LOG_PHONE_NUMBERS=full`). */
export interface SharedNumberRow {
  phoneNumber: string;
  holders: number;
  /** The method held back; absent: the mobile phone. */
  method?: Method;
}

/** A number that changed since the last run, with who changed it when the audit log says. */
export interface ChangedNumberRow {
  userId: string;
  userPrincipalName: string;
  phoneNumber: string;
  at: string;
  by?: string;
  /** Whose number changed; absent: the mobile phone. */
  method?: Method;
}

/** The plan's approval, when the plan needed one. */
export interface ReportApproval {
  /** `awaiting`: the report of a plan that waits for an operator. */
  status: "awaiting" | "approved" | "notApproved";
  /** `APPROVAL_THRESHOLD` when the run started. */
  threshold: number;
  /** Writes the plan holds. */
  planned: number;
  by?: string;
  at?: string;
}

/** One interval of the provisioning timeline (real time, as the chunks recorded it). */
export interface TimelinePoint {
  /** Start of the interval (ISO). */
  at: string;
  /** Users given an outcome, per hour, during the interval. */
  usersPerHour: number;
  /** Of them, written (created or replaced), per hour. */
  writesPerHour: number;
  /** 429 answers of the chunks that ended in the interval. */
  throttled: number;
  /** Chunks writing at once, on average over the interval. */
  chunksWriting: number;
  /** The largest write-limiter window (requests in flight) of the chunks that ended in it. */
  window?: number;
}

/** The write rate and concurrency over time, from the chunks' timings. */
export interface Timeline {
  /** Length of each interval. */
  intervalSeconds: number;
  points: TimelinePoint[];
  /** Chunks whose timing it was built from. */
  chunks: number;
}

/**
 * How ready the users are for the end of Microsoft-provided SMS and voice (the readiness count of
 * the run, `shared/readiness.ts`): counts, and the first users of each group by id and UPN.
 */
export type ReadinessCounts = Omit<Readiness, "users"> & { users?: Readiness["users"] };

/** The report of one run. */
export interface ReportModel {
  runId: string;
  /** True when nothing was written (a dry run, or a plan that was not or not yet approved). */
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  /** What started the run: the nightly timer, the runs API or the CLI. */
  trigger?: RunTrigger;
  /** Who started the run through the runs API. */
  startedBy?: { name: string; objectId?: string };
  approval?: ReportApproval;
  /** The settings snapshot the run ran with (it holds no secrets). */
  settings?: RunSettings;
  counts: RunCounts;
  /** The counts per method the run registers (absent in reports of runs before there were several). */
  methods?: MethodCounts;
  /** Users by plan decision. */
  decisions: DecisionCounts;
  /** Planned writes by outcome column. */
  outcomes: Partial<Record<OutcomeColumn, number>>;
  failuresByCode: FailureCodeRow[];
  /** The first {@link MAX_LISTED_FAILURES} failures by name. */
  failures: ListedFailure[];
  failuresTruncated: boolean;
  /** Chunks with users whose write failed transiently or was never attempted. */
  retryableChunks: number[];
  timeline: Timeline;
  /** The settle period (0: the settled-numbers guard was off). */
  numberSettleDays: number;
  sharedNumbers: SharedNumberRow[];
  numbersChanged: ChangedNumberRow[];
  readiness?: ReadinessCounts;
  /** The pre-flight of the authentication methods policy (absent in reports of older runs). */
  preflight?: Preflight;
  users: {
    /** Users in the plan (rows of report.csv). */
    total: number;
    /** The first {@link REPORT_USER_ROWS} of them, in plan order. */
    rows: ReportUserRow[];
  };
  /** The report's other files, by name (they sit beside report.html). */
  files: { csv: string; json: string };
}
