/**
 * The provisioning benchmark: the product's own writer (`writePhoneMethods`) and Graph access
 * layer against the in-process emulator, under one shared {@link AdaptiveLimiter}, with the
 * figures of the benchmark contract (shared/contracts/cli.md) and a time series for the chart.
 *
 * Time is scaled: the emulator multiplies latencies, quota windows and token lifetimes by
 * `timeScale`, so every rate and latency here is converted back to emulated time (divided by
 * `timeScale`). The limiter runs on an emulated clock too, so that its own constants (how long it
 * holds before probing, how fast slow start grows) are in Graph's time, not the scaled run's. A
 * throttled item's wait is likewise given to it in Graph's time: the emulator's exact wait
 * (`x-ms-retry-after-ms`, scaled) converted back and rounded up to whole seconds, as Graph sends
 * `Retry-After`; the emulator's own `Retry-After` is whole seconds of real time, which in a run
 * 20 times faster would make every 429 cost 20 times what it costs against Graph.
 */
import { GraphAccess, type BatchRequest, type BatchResult } from "../shared/graph/client.js";
import type { GraphCredential } from "../shared/graph/credentials.js";
import { writePhoneMethods, type PhoneWrite } from "../shared/graph/phoneWriter.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { AdaptiveLimiter, type LimiterClock } from "../shared/graph/throttle.js";
import {
  startEmulator,
  type EmulatorConfig,
  type EmulatorHandle,
} from "../local/graph-emulator/index.js";
import type { FixtureUser, TenantFixture } from "../local/graph-emulator/tenant/types.js";
import { convergeSeconds } from "./bars.js";

/** Connections opened before the clock starts: the transport's pool per origin. */
const WARM_CONNECTIONS = 64;

/** One benchmark scenario. */
export interface ScenarioOptions {
  /** Short name for the table and the chart. */
  name: string;
  /** Users to provision (none has a phone method yet). */
  users: number;
  /** Emulator time scale (0.05 = 20 times faster than Graph). */
  timeScale: number;
  /** Overrides on top of the `realistic` profile (besides `timeScale`). */
  config?: Partial<EmulatorConfig>;
  /**
   * A config change applied once this share of the users is provisioned. A change of the write
   * quota starts the emulator's quotas over, full, and the run's ceiling counts both quotas.
   */
  midRun?: { atShare: number; patch: Partial<EmulatorConfig>; label: string };
  /**
   * What the run is held to: the bars (ratio >= 0.9, throttled <= 2%, calls per user <= 1.1,
   * the default), or, for a quota changed mid-run, re-convergence instead of the ratio (see
   * bars.ts).
   */
  judged?: "bars" | "convergence";
  /** Sampling period of the time series, in real milliseconds (default 100). */
  sampleMs?: number;
  /** The limiter to use (default: a new one on the emulated clock, see {@link emulatedClock}). */
  limiter?: AdaptiveLimiter;
  /** Sees every sample as it is taken (progress, debugging). */
  onSample?: (sample: ScenarioSample) => void;
}

/** One point of the time series, in emulated time. */
export interface ScenarioSample {
  /** Seconds since the start. */
  t: number;
  /** Users provisioned so far. */
  done: number;
  /** 429/503 answers so far. */
  throttled: number;
  /** Writes in flight. */
  inFlight: number;
  /** The limiter's window. */
  limit: number;
  /** The limiter's pacing rate in writes per second, when it has one. */
  ratePerSecond?: number;
  /** The last `x-ms-throttle-limit-percentage` the limiter saw. */
  usage: number;
}

/** What one scenario measured; the first eight fields are the contract's JSON line. */
export interface ScenarioResult {
  users: number;
  usersPerHour: number;
  ceilingUsersPerHour: number;
  ratio: number;
  throttledShare: number;
  callsPerUser: number;
  p50WriteMs: number;
  p99WriteMs: number;
  name: string;
  /** Whether phone-method writes carried the usage header (`phoneWriteUsageHeader`). */
  header: boolean;
  /** The enforced write quota, in words (as it was at the start). */
  quotaShape: string;
  /** Users asked for; `users` counts those provisioned. */
  planned: number;
  /** Emulated run time in seconds. */
  emulatedSeconds: number;
  /** Wall-clock run time in seconds. */
  realSeconds: number;
  /** Graph requests (batch items singly) and 429 answers, from the emulator. */
  requests: number;
  throttled: number;
  /** State-changing phone-method requests the emulator applied. */
  emulatorWrites: number;
  /** Rate over the second half of the run, and its share of the quota's refill rate. */
  secondHalfUsersPerHour: number;
  secondHalfRatio: number;
  /** The quota's refill rate (writes per hour) and burst (bucket size), at the end. */
  quotaPerHour: number;
  quotaBurst: number;
  /** The quota's refill rate at the start (differs when a mid-run change altered the quota). */
  startQuotaPerHour: number;
  /** Emulated second at which the mid-run change was applied. */
  changedAt?: number;
  changeLabel?: string;
  /** Users provisioned after the change over what the quota admitted after it. */
  afterChangeRatio?: number;
  /** Seconds from the change to the first window at the new rate within the bars (bars.ts). */
  convergeSeconds?: number | null;
  /** What the run is held to (see {@link ScenarioOptions.judged}). */
  judged: "bars" | "convergence";
  samples: ScenarioSample[];
}

/**
 * A tenant of `n` users without phone methods.
 *
 * @param n - number of users.
 */
export function benchTenant(n: number): TenantFixture {
  const users: FixtureUser[] = new Array<FixtureUser>(n);
  for (let i = 0; i < n; i++) {
    users[i] = {
      id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      userPrincipalName: `user${i}@bench.example`,
      mobilePhone: `+45 2${String(i).padStart(7, "0")}`,
    };
  }
  return { tenant: { id: "bench-tenant", domain: "bench.example" }, users };
}

/**
 * The enforced write quota as the most it admits at once (a full bucket, or one window's count)
 * and its sustained rate per second. Every shape starts full, so over T seconds it admits at most
 * `burst + perSecond × T` writes.
 *
 * @param config - the emulator's effective config.
 */
export function writeQuota(config: EmulatorConfig): { burst: number; perSecond: number } {
  if (config.phoneWriteQuotaModel === "reports") {
    return {
      burst: config.reportsQuota,
      perSecond: config.reportsQuota / config.reportsQuotaWindowSeconds,
    };
  }
  const bucket = config.writeQuotaShape === "tokenBucket" && config.writeQuotaBurst > 0;
  return {
    burst: bucket ? config.writeQuotaBurst : config.writeQuota,
    perSecond: config.writeQuota / config.writeQuotaWindowSeconds,
  };
}

/**
 * The enforced write quota in words, e.g. "token bucket 3000 / 150 s" or "reports 5 / 10 s".
 *
 * @param config - the emulator's effective config.
 */
export function describeQuota(config: EmulatorConfig): string {
  if (config.phoneWriteQuotaModel === "reports") {
    return `reports ${config.reportsQuota} / ${config.reportsQuotaWindowSeconds} s`;
  }
  const words = {
    tokenBucket: "token bucket",
    slidingWindow: "sliding window",
    fixedWindow: "fixed window",
  };
  const burst =
    config.writeQuotaShape === "tokenBucket" && config.writeQuotaBurst > 0
      ? `, burst ${config.writeQuotaBurst}`
      : "";
  return `${words[config.writeQuotaShape]} ${config.writeQuota} / ${config.writeQuotaWindowSeconds} s${burst}`;
}

/**
 * The value at quantile `q` of sorted numbers (nearest rank).
 *
 * @param sorted - ascending values.
 * @param q - 0 to 1.
 */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) {
    return 0;
  }
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i] as number;
}

/**
 * A credential that takes its tokens straight from the emulator, a fresh one when the client
 * invalidates the old (on a 401).
 *
 * @param emulator - the running emulator.
 */
export function emulatorCredential(emulator: EmulatorHandle): GraphCredential {
  let token = emulator.issueToken();
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 60_000 }),
    invalidate: () => {
      token = emulator.issueToken();
    },
  };
}

/**
 * Runs one scenario: starts an emulator, provisions every user once through the product's writer
 * and measures.
 *
 * @param options - the scenario.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
  const emulator = await startEmulator({
    profile: "realistic",
    tenant: benchTenant(options.users),
    config: { ...options.config, timeScale: options.timeScale },
  });
  const scale = options.timeScale;
  const graph = new GraphAccess({
    baseUrl: emulator.graphBaseUrl,
    credential: emulatorCredential(emulator),
    caPem: emulator.caCertPem,
  });
  // The round trip of each written item is its batch's: Graph answers a batch when its last item
  // is done, and that is when the writer learns the outcome.
  const writeMs: number[] = [];
  const batch = graph.batch.bind(graph);
  graph.batch = async (requests: BatchRequest[]): Promise<BatchResult[]> => {
    const started = performance.now();
    const results = await batch(requests).catch((error: unknown) => {
      throw error instanceof GraphRequestError
        ? emulatedRetryAfter(error, undefined, scale)
        : error;
    });
    const ms = (performance.now() - started) / scale;
    results.forEach((r, i) => {
      if (requests[i]?.method !== "GET" && r.status >= 200 && r.status < 300) {
        writeMs.push(ms);
      }
    });
    return results.map((r) =>
      r.error
        ? { ...r, error: emulatedRetryAfter(r.error, r.headers["x-ms-retry-after-ms"], scale) }
        : r,
    );
  };
  const limiter = options.limiter ?? new AdaptiveLimiter({ clock: emulatedClock(scale) });
  const writes: PhoneWrite[] = benchTenant(options.users).users.map((u) => ({
    userId: u.id,
    phoneNumber: u.mobilePhone ?? "",
    action: "create",
  }));
  const samples: ScenarioSample[] = [];
  const doneAt: number[] = [];
  const throttledAt: number[] = [];
  let done = 0;
  let throttled = 0;
  let change: MidRunChange | undefined;
  const startQuota = emulator.config;
  // Connection set-up and the first token are paid before the clock starts, as in a real run
  // where enumeration has used the same connections; the metrics start after it. Every pooled
  // connection is opened: a TLS handshake costs milliseconds of this machine's CPU, which the
  // time scale turns into a twentieth of a second or more of Graph time each, one after the other
  // on the one event loop, where Graph's handshakes run side by side in a few milliseconds.
  await Promise.all(
    Array.from({ length: WARM_CONNECTIONS }, () => graph.get("/users?$top=1&$select=id")),
  );
  emulator.resetMetrics();
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000 / scale;
  const sample = (): void => {
    const s = limiter.stats();
    const point: ScenarioSample = {
      t: elapsed(),
      done,
      throttled,
      inFlight: s.inFlight,
      limit: s.limit,
      usage: s.usage,
      ...(s.ratePerSecond !== undefined ? { ratePerSecond: s.ratePerSecond } : {}),
    };
    samples.push(point);
    options.onSample?.(point);
  };
  const timer = setInterval(sample, options.sampleMs ?? 100);
  try {
    sample();
    const outcomes = await writePhoneMethods(graph, writes, {
      limiter,
      onThrottled: (n) => {
        throttled += n;
        const at = elapsed();
        for (let i = 0; i < n; i++) {
          throttledAt.push(at);
        }
      },
      onOutcome: (o) => {
        if (o.result === "created" || o.result === "replaced" || o.result === "alreadyPresent") {
          done++;
          doneAt.push(elapsed());
        }
        const mid = options.midRun;
        if (mid && change === undefined && done >= mid.atShare * options.users) {
          change = { at: elapsed(), done };
          emulator.setConfig(mid.patch);
        }
      },
    });
    sample();
    return measure({
      options,
      emulator,
      startQuota,
      change,
      provisioned: outcomes.filter((o) => o.result === "created").length,
      emulatedSeconds: elapsed(),
      realSeconds: (performance.now() - t0) / 1000,
      doneAt,
      throttledAt,
      writeMs,
      samples,
    });
  } finally {
    clearInterval(timer);
    await graph.close();
    await emulator.close();
  }
}

/** When the mid-run change was applied: emulated second and users provisioned by then. */
interface MidRunChange {
  at: number;
  done: number;
}

/** What {@link measure} needs of a finished scenario. */
interface Measured {
  options: ScenarioOptions;
  emulator: EmulatorHandle;
  /** The emulator's config at the start (before any mid-run change). */
  startQuota: EmulatorConfig;
  change: MidRunChange | undefined;
  provisioned: number;
  emulatedSeconds: number;
  realSeconds: number;
  /** Emulated second of each provisioned user. */
  doneAt: number[];
  /** Emulated second of each throttled write. */
  throttledAt: number[];
  /** Round trip of each successful write, emulated milliseconds. */
  writeMs: number[];
  samples: ScenarioSample[];
}

/**
 * The figures of a finished scenario. The ceiling is what the quota admitted over the run: its
 * burst plus its refill over the time; when a mid-run change altered the quota, the emulator
 * started its quotas over, full, so the ceiling is the sum of both quotas' ceilings over their
 * own spans.
 */
function measure(m: Measured): ScenarioResult {
  const { options, emulator, change, provisioned, emulatedSeconds: T } = m;
  const metrics = emulator.metrics();
  const first = writeQuota(m.startQuota);
  const last = writeQuota(emulator.config);
  const restarted =
    change !== undefined && (first.burst !== last.burst || first.perSecond !== last.perSecond);
  const admits = (q: { burst: number; perSecond: number }, seconds: number): number =>
    q.burst + q.perSecond * seconds;
  const ceiling =
    restarted && change ? admits(first, change.at) + admits(last, T - change.at) : admits(first, T);
  const usersPerHour = (provisioned / T) * 3600;
  const ceilingUsersPerHour = (ceiling / T) * 3600;
  const half = T / 2;
  const secondHalf = m.doneAt.filter((t) => t >= half).length;
  const secondHalfUsersPerHour = (secondHalf / (T - half)) * 3600;
  const writeMs = [...m.writeMs].sort((a, b) => a - b);
  const afterChange =
    change !== undefined
      ? (provisioned - change.done) /
        (restarted ? admits(last, T - change.at) : last.perSecond * (T - change.at))
      : undefined;
  return {
    users: provisioned,
    usersPerHour: round(usersPerHour),
    ceilingUsersPerHour: round(ceilingUsersPerHour),
    ratio: round(usersPerHour / ceilingUsersPerHour, 4),
    throttledShare: round(metrics.requests > 0 ? metrics.throttled / metrics.requests : 0, 5),
    callsPerUser: round(provisioned > 0 ? metrics.requests / provisioned : 0, 4),
    p50WriteMs: round(quantile(writeMs, 0.5)),
    p99WriteMs: round(quantile(writeMs, 0.99)),
    name: options.name,
    judged: options.judged ?? "bars",
    header: m.startQuota.phoneWriteUsageHeader,
    quotaShape: describeQuota(m.startQuota),
    planned: options.users,
    emulatedSeconds: round(T, 1),
    realSeconds: round(m.realSeconds, 1),
    requests: metrics.requests,
    throttled: metrics.throttled,
    emulatorWrites: metrics.writes,
    secondHalfUsersPerHour: round(secondHalfUsersPerHour),
    secondHalfRatio: round(secondHalfUsersPerHour / (last.perSecond * 3600), 4),
    quotaPerHour: round(last.perSecond * 3600),
    quotaBurst: last.burst,
    startQuotaPerHour: round(first.perSecond * 3600),
    ...(change !== undefined
      ? {
          changedAt: round(change.at, 1),
          changeLabel: options.midRun?.label,
          afterChangeRatio: round(afterChange ?? 0, 4),
          convergeSeconds: convergeSeconds(
            m.doneAt.map((t) => t * 1000),
            m.throttledAt.map((t) => t * 1000),
            change.at * 1000,
            T * 1000,
            last.perSecond,
          ),
        }
      : {}),
    samples: m.samples,
  };
}

/**
 * The emulator's time as the limiter's clock: milliseconds of Graph time, timers shortened by the
 * scale.
 *
 * @param scale - the emulator's time scale.
 */
export function emulatedClock(scale: number): LimiterClock {
  return {
    now: () => Date.now() / scale,
    setTimeout: (callback, ms) => setTimeout(callback, ms * scale),
    clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
  };
}

/**
 * The error with its wait in emulated time: the emulator's exact wait (scaled) converted back and
 * rounded up to whole seconds, as Graph sends `Retry-After`; without it, the `Retry-After` given.
 */
function emulatedRetryAfter(
  error: GraphRequestError,
  exactMs: string | undefined,
  scale: number,
): GraphRequestError {
  if (error.retryAfterMs === undefined) {
    return error;
  }
  const exact = Number(exactMs);
  const retryAfterMs =
    exactMs !== undefined && Number.isFinite(exact)
      ? Math.max(1, Math.ceil(exact / scale / 1000)) * 1000
      : error.retryAfterMs / scale;
  return new GraphRequestError({
    status: error.status,
    code: error.code,
    graphMessage: error.graphMessage,
    requestId: error.requestId,
    clientRequestId: error.clientRequestId,
    retryAfterMs,
    route: error.route,
  });
}

function round(x: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
