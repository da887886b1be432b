/**
 * What a run shows while it runs (the custom status, kept far below Durable's 16 KB: counts only)
 * and what it returns when it ends (the output the runs API, the CLI and a rerun read).
 */
import { z } from "zod";
import { METHODS, type Method } from "../settings/index.js";
import { mergeCounts, usersDone, type MethodCounts, type RunCounts } from "./counts.js";
import { DECISION_LABELS, type DecisionCounts, type DecisionLabel } from "./decisions.js";
import { runSettingsSchema, runTuningSchema } from "./input.js";

/** Phases of a run, in order. */
export type RunPhase =
  | "starting"
  | "resolvingScope"
  | "discovering"
  | "checkingNumbers"
  | "planning"
  | "checkingPolicy"
  | "awaitingApproval"
  | "provisioning"
  | "summarizing"
  | "completed"
  | "notApproved"
  | "failed";

/** A run's approval, while it waits and after. */
export interface RunApproval {
  /** `APPROVAL_THRESHOLD` when the run started. */
  threshold: number;
  /** Writes the plan holds. */
  planned: number;
  /** When an unapproved run ends with nothing written. */
  expiresAt: string;
  /** The plan's report, to review before approving. */
  reportKeys?: { json: string; csv: string; html?: string };
  approvedBy?: string;
  approvedAt?: string;
}

/** The custom status. */
export interface RunStatus {
  runId: string;
  phase: RunPhase;
  dryRun: boolean;
  startedAt: string;
  updatedAt: string;
  pages: { users: number; report: number; excluded: number };
  /** What the number guards found: unsettled and changed numbers, shared numbers and their holders. */
  numbers?: {
    unsettled: number;
    changed: number;
    sharedNumbers: number;
    sharedHolders: number;
    /** False when the audit log was refused (users the history does not know then wait). */
    auditRead: boolean;
  };
  /** Decisions of the plan. */
  plan: DecisionCounts;
  /**
   * Counts per method the run registers: the plan's from planning on, the outcomes' once the run
   * is summarized (the totals in `counts` move with every chunk in between).
   */
  methods?: MethodCounts;
  /** The readiness for the end of Microsoft SMS and voice, from the registration report. */
  readiness?: ReadinessCounts;
  /** The pre-flight of the authentication methods policy, per method. */
  preflight?: PreflightCounts[];
  /** Set when the plan needed an operator's approval. */
  approval?: RunApproval;
  chunks: { total: number; done: number; failed: number };
  counts: RunCounts;
  throttled: number;
  /** When the provisioning phase began: the rate and the ETA are measured from it. */
  provisioningStartedAt?: string;
  /** Users provisioned per hour so far in the provisioning phase ({@link provisioningPace}). */
  usersPerHour?: number;
  /** Estimated end of provisioning ({@link provisioningPace}). */
  etaAt?: string;
  message?: string;
  /**
   * The provisionWave instances in flight. Each publishes its finished chunks in its own custom
   * status ({@link WaveStatus}), so a reader adds them ({@link withWavesInFlight}) and sees
   * progress move with every chunk at no cost in history events.
   */
  wavesRunning?: string[];
}

/** A provisionWave's custom status: the chunks it finished so far. */
export interface WaveStatus {
  chunksDone: number;
  chunksFailed: number;
  counts: RunCounts;
  throttled: number;
}

/**
 * The provisioning phase's pace: users done per hour since it began, and when the planned ones
 * will be done at that pace. Nothing before the first user is done.
 *
 * @param done - users done (`usersDone` of the counts).
 * @param planned - writes planned.
 * @param startedMs - when provisioning began.
 * @param nowMs - now (orchestration time in the orchestrator, so replays compute the same).
 */
export function provisioningPace(
  done: number,
  planned: number,
  startedMs: number,
  nowMs: number,
): { usersPerHour: number; etaAt: string } | undefined {
  const elapsedMs = nowMs - startedMs;
  if (!(elapsedMs > 0) || done <= 0) {
    return undefined;
  }
  const left = Math.max(0, planned - done);
  return {
    usersPerHour: Math.round((done / elapsedMs) * 3_600_000),
    etaAt: new Date(nowMs + (left / done) * elapsedMs).toISOString(),
  };
}

/**
 * A run's status with the chunks its waves in flight finished since it last published, and the
 * pace measured on them: the run publishes only when a wave ends, so that the rate and ETA move
 * with every chunk too.
 *
 * @param status - the run's custom status.
 * @param waves - the custom statuses of its `wavesRunning`, in any order (missing ones skipped).
 * @param now - now, for the pace.
 */
export function withWavesInFlight(
  status: Partial<RunStatus>,
  waves: unknown[],
  now: Date = new Date(),
): Partial<RunStatus> {
  if (!status.wavesRunning?.length || !status.chunks || !status.counts) {
    return status;
  }
  const chunks = { ...status.chunks };
  const counts = { ...status.counts };
  let throttled = status.throttled ?? 0;
  for (const w of waves) {
    const wave = w as Partial<WaveStatus> | undefined;
    if (!wave?.counts) {
      continue;
    }
    chunks.done += wave.chunksDone ?? 0;
    chunks.failed += wave.chunksFailed ?? 0;
    mergeCounts(counts, wave.counts);
    throttled += wave.throttled ?? 0;
  }
  const startedMs = Date.parse(status.provisioningStartedAt ?? "");
  const pace = Number.isFinite(startedMs)
    ? provisioningPace(usersDone(counts), counts.planned, startedMs, now.getTime())
    : undefined;
  return { ...status, chunks, counts, throttled, ...pace };
}

/** Users by what the registration report says they have registered (no names). */
export interface ReadinessCounts {
  counted: number;
  smsOrVoiceOnly: number;
  noMethod: number;
  phishingResistant: number;
}

/** What the policy pre-flight found for one method, in numbers. */
export interface PreflightCounts {
  method: Method;
  planned: number;
  covered: number;
  notCovered: number;
}

const count = z.number().int().min(0);

/** The counts as they cross the Durable boundary. */
const runCountsSchema: z.ZodType<RunCounts> = z.strictObject({
  candidates: count,
  planned: count,
  created: count,
  replaced: count,
  alreadyPresent: count,
  invalidNumber: count,
  skipped: count,
  failed: count,
  failedTransient: count,
  deferred: count,
  existingDiffers: count,
  smsSignInNotUnique: count,
  changedSincePlan: count,
});

/** Output of a finished run (a rerun takes it as its input, so it is checked like one). */
export const runOutputSchema = z.strictObject({
  runId: z.string(),
  dryRun: z.boolean(),
  /** The settings snapshot and tuning the run ran with; a rerun uses the same. */
  settings: runSettingsSchema,
  tuning: runTuningSchema,
  /** Who started the run through the runs API, when someone did. */
  startedBy: z.strictObject({ name: z.string(), objectId: z.string().optional() }).optional(),
  /** The exclusion groups the run resolved (a rerun re-reads their members). */
  excludedGroupIds: z.array(z.string()),
  /** How the plan was approved, when it needed approval. */
  approval: z
    .strictObject({
      status: z.enum(["approved", "notApproved"]),
      threshold: count,
      planned: count,
      by: z.string().optional(),
      at: z.string().optional(),
    })
    .optional(),
  counts: runCountsSchema,
  /** Counts per method (absent in outputs of runs from before there were several). */
  methods: z.partialRecord(z.enum(METHODS), runCountsSchema).optional(),
  /** The readiness counts (absent in outputs of runs from before they were counted). */
  readiness: z
    .strictObject({
      counted: count,
      smsOrVoiceOnly: count,
      noMethod: count,
      phishingResistant: count,
    })
    .optional(),
  plan: z.partialRecord(z.enum(DECISION_LABELS as [DecisionLabel, ...DecisionLabel[]]), count),
  failedChunks: z.array(count),
  /**
   * Why the run ended early though it completed its report (`Graph unavailable: ...`): its
   * unfinished chunks are among `failedChunks`, for a rerun.
   */
  failure: z.string().optional(),
  /** Chunks holding users whose writes failed transiently; a rerun retries them. */
  retryableChunks: z.array(count),
  chunks: count,
  /** Stored user pages (a rerun's summary reads them again). */
  userPages: count,
  /** Candidates the report called not MFA-registered (for the Stats line). */
  withoutMfa: count,
  throttled: count,
  startedAt: z.string(),
  finishedAt: z.string(),
  /** Store keys of the report (`html` absent in runs from before the report page). */
  reportKeys: z.strictObject({ json: z.string(), csv: z.string(), html: z.string().optional() }),
});

/** Output of a finished run. */
export type RunOutput = z.infer<typeof runOutputSchema>;

/**
 * A run's output as a Durable status carries it, or undefined when it has none (the run has not
 * completed, or it is not a run).
 *
 * @param value - the instance's `output`.
 */
export function readRunOutput(value: unknown): RunOutput | undefined {
  const parsed = runOutputSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/**
 * A run's custom status as a Durable status carries it. The custom status is the run's own
 * progress report (never an input that decides anything), so it is read as far as it goes.
 *
 * @param value - the instance's `customStatus`.
 */
export function readRunStatus(value: unknown): Partial<RunStatus> {
  return typeof value === "object" && value !== null ? (value as Partial<RunStatus>) : {};
}
