/**
 * What a run starts from: the settings snapshot and the tuning, fixed in the run's input when it
 * starts so a replay, a later rerun or a deployment in the middle of a run cannot change them.
 * Every orchestration input is checked against a strict schema: an unknown key, a missing safety
 * setting or a wrong type fails the instance with one sentence before any Graph call.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { SHARDS } from "../guards/valueHash.js";
import { METHODS, TARGETS, type Settings } from "../settings/index.js";

/** A run id: letters, digits, '.', '_', '-'; the instance id of the run's orchestration. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;

/** The part of the settings a run takes a snapshot of when it starts (no secrets). */
export const runSettingsSchema = z.strictObject({
  stagingGroup: z.string().min(1).optional(),
  excludeGroups: z.array(z.string().min(1)),
  defaultRegion: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  target: z.enum(TARGETS),
  /**
   * The methods the run registers, in `METHODS` order. Runs started before the setting existed
   * registered the mobile phone only, and replay with that.
   */
  methods: z
    .array(z.enum(METHODS))
    .min(1)
    .refine((m) => new Set(m).size === m.length, "lists a method twice")
    .default(["mobile"]),
  skipAdmins: z.boolean(),
  allowLandline: z.boolean(),
  replaceExisting: z.boolean(),
  maxWritesPerRun: z.number().int().min(0),
  numberSettleDays: z.number().int().min(0).max(365),
  /** Planned writes above which the run waits for approval; 0: never. */
  approvalThreshold: z.number().int().min(0),
  approvalTimeoutHours: z.number().positive(),
  dryRun: z.boolean(),
  logPhoneNumbers: z.enum(["masked", "full"]),
});

/** The settings snapshot of a run. */
export type RunSettings = z.infer<typeof runSettingsSchema>;

/**
 * How the phone writer waits on Graph; each field optional (the writer's defaults), so runs stored
 * before they existed still read. Every wait has an upper bound: an input can be hand-made through
 * the Durable management API, and must not keep a run waiting for days.
 */
export const graphWaitsSchema = z.strictObject({
  /**
   * How long a read that reconciles a write waits after it: a read right after may not show it.
   * At least 100 ms (a read sent at once races its write); at most a minute, Graph's lag being
   * seconds, while the chunk waits for its read-backs before it ends.
   */
  readAfterWriteMs: z.number().int().min(100).max(60_000).optional(),
  /**
   * First backoff of a retried request without Retry-After (doubled per retry, at most 60 s): a
   * first backoff above the 60 s cap would only be cut to it.
   */
  retryBaseMs: z.number().int().min(1).max(60_000).optional(),
  /**
   * Only 5xx and lost answers for this long: Graph counts as unavailable and the chunk stops. At
   * most 10 minutes, so that a chunk meeting an outage returns well inside the 30-minute function
   * timeout and the run pauses, instead of the activity timing out and being retried into it.
   */
  graphDownMs: z.number().int().min(1).max(600_000).optional(),
});

/** How the phone writer waits on Graph. */
export type GraphWaits = z.infer<typeof graphWaitsSchema>;

/**
 * Tuning of one run; defaults in {@link DEFAULT_RUN_TUNING}. Each field has an upper bound where a
 * large value would break a call's time limit, a history's size or the run's end, since an input
 * can be hand-made through the Durable management API.
 */
export const runTuningSchema = z.strictObject({
  /**
   * Pages fetched by one fetch activity call (each page up to 999 users). At most 100: a call
   * pages one request after another, and must end inside the 30-minute function timeout even at
   * 0.5 requests a second (the identity reports quota, 5 per 10 s) with Retry-After waits.
   */
  pagesPerCall: z.number().int().min(1).max(100),
  /**
   * User pages planned by one planChunks call (and filed by one census call). At most 100 (about
   * 100,000 users): with `REPLACE_EXISTING` a planning call also reads their existing methods.
   */
  pagesPerPlan: z.number().int().min(1).max(100),
  /**
   * Writes per chunk (one provisionChunk call). At most 600: at the slowest quota seen (0.5 writes
   * a second) a chunk writes for 20 minutes, leaving a third of the 30-minute function timeout to
   * its read-backs and retries (see {@link DEFAULT_RUN_TUNING}).
   */
  chunkSize: z.number().int().min(1).max(600),
  /**
   * Chunks per provisionWave sub-orchestration. At most 50: each chunk adds its events to the
   * wave's history, and a re-check call takes `chunksPerWave` times `wavesInFlight` chunks. Every
   * wave's start idles the write budget (the last chunk's tail and four Durable hops before the
   * next wave's first chunk sends), so the default is 25 (see {@link DEFAULT_RUN_TUNING}).
   */
  chunksPerWave: z.number().int().min(1).max(50),
  /**
   * Census shards settled at once. Writes ignore it: one provisionChunk of a run writes at a time
   * (`WRITING_CHUNKS` in `orchestrators/provisionWave.ts`); runs stored before kept it for writes.
   * At most the census's 16 shards: there is nothing more to run at once.
   */
  chunksInFlight: z.number().int().min(1).max(SHARDS),
  /**
   * Re-checks after an approval: chunks per call are `chunksPerWave` times this. Writes ignore it:
   * waves run one at a time. At most 4, so that a re-check call stays at 200 chunks at most.
   */
  wavesInFlight: z.number().int().min(1).max(4),
  /**
   * First retry interval of a failed activity or wave (doubled per retry, at most 60 s): a first
   * interval above the 60 s cap would only be cut to it.
   */
  retryIntervalMs: z.number().int().min(1).max(60_000),
  /** How the phone writer waits on Graph (the writer's defaults when absent). */
  graphWaits: graphWaitsSchema.optional(),
  /**
   * When Graph is unavailable, provisioning pauses this long (a durable timer), then probes. At
   * least a second (a shorter pause is a probe loop, not a pause); at most an hour.
   */
  outagePauseMs: z.number().int().min(1_000).max(3_600_000).optional(),
  /**
   * Pauses before the run gives up as `Graph unavailable`, its unfinished chunks to rerun. At most
   * 12: with pauses of an hour at most, a run gives up within 12 hours, before the next night's.
   */
  outagePauses: z.number().int().min(0).max(12).optional(),
});

/** Tuning of one run. */
export type RunTuning = z.infer<typeof runTuningSchema>;

/**
 * The default tuning. Histories stay in the low thousands of events at a million users; progress
 * reaches the custom status after each chunk. Chunks of 500 writes: chunks write one after the
 * other, so each gap between two (an activity completing, the wave scheduling the next, a worker
 * picking it up, up to the queue polling interval) idles the budget; at Graph's documented 20
 * writes a second a chunk writes for about 25 s, and at the slowest quota seen (0.5 a second) for
 * about 17 minutes, inside the 30-minute function timeout. Half as many chunks as with 250 also
 * halves the chunk events in the wave histories. Waves of 25 chunks (12,500 writes, some 150
 * history events each: about 5.5 a chunk in bench/plan.ts): chunks inside a wave take turns, so
 * only a wave's start leaves the budget idle, for the last chunk's answers and four Durable hops
 * (the wave's completion reaching the run, the run scheduling the next wave, that wave starting,
 * its first chunk starting). Measured with two processes and a 2 s gap per hop, 6,000 users:
 * 0.885 of the quota in waves of 8 (one such start), 0.906 in one wave of 25
 * (bench/results/figures.md).
 */
export const DEFAULT_RUN_TUNING: { [K in keyof RunTuning]-?: NonNullable<RunTuning[K]> } = {
  pagesPerCall: 10,
  pagesPerPlan: 50,
  chunkSize: 500,
  chunksPerWave: 25,
  chunksInFlight: 4,
  wavesInFlight: 2,
  retryIntervalMs: 5_000,
  graphWaits: { readAfterWriteMs: 5_000, retryBaseMs: 1_000, graphDownMs: 60_000 },
  outagePauseMs: 300_000,
  outagePauses: 6,
};

/**
 * The complete tuning a run stores in its input: the defaults with the given overrides.
 *
 * @param overrides - tuning to change (tests, the CLI's `--chunk-size`).
 */
export function resolveTuning(overrides: Partial<RunTuning> = {}): RunTuning {
  return { ...DEFAULT_RUN_TUNING, ...overrides };
}

/** Who or what started a run. */
export type RunTrigger = "timer" | "http" | "cli";

/** Input of the nightlyRun orchestration. */
export const runInputSchema = z.strictObject({
  runId: z.string().regex(RUN_ID_PATTERN),
  trigger: z.enum(["timer", "http", "cli"]),
  settings: runSettingsSchema,
  tuning: runTuningSchema,
  /** Who started the run through the runs API (the platform's client principal). */
  startedBy: z
    .strictObject({ name: z.string().max(256), objectId: z.string().max(64).optional() })
    .optional(),
});

/** Input of the nightlyRun orchestration. */
export type RunInput = z.infer<typeof runInputSchema>;

/**
 * The part of the settings a run snapshots. Only the settings turn writes on: a request may ask
 * for less than they allow (a dry run), never more, so `dryRun` is true when either says so.
 *
 * @param settings - validated settings.
 * @param requestDryRun - what the starter asked for, if anything.
 */
export function runSettingsFrom(settings: Settings, requestDryRun?: boolean): RunSettings {
  const snapshot: RunSettings = {
    excludeGroups: settings.excludeGroups,
    target: settings.target,
    methods: settings.methods,
    skipAdmins: settings.skipAdmins,
    allowLandline: settings.allowLandline,
    replaceExisting: settings.replaceExisting,
    maxWritesPerRun: settings.maxWritesPerRun,
    numberSettleDays: settings.numberSettleDays,
    approvalThreshold: settings.approvalThreshold,
    approvalTimeoutHours: settings.approvalTimeoutHours,
    dryRun: settings.dryRun || requestDryRun === true,
    logPhoneNumbers: settings.logPhoneNumbers,
  };
  if (settings.stagingGroup !== undefined) {
    snapshot.stagingGroup = settings.stagingGroup;
  }
  if (settings.defaultRegion !== undefined) {
    snapshot.defaultRegion = settings.defaultRegion;
  }
  return snapshot;
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

/** A run id as it crosses the Durable boundary. */
export const runIdSchema = z.string().regex(RUN_ID_PATTERN);
