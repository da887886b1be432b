/**
 * The limiter simulation: the product's writer (`writePhoneMethods`) and `AdaptiveLimiter` against
 * a simulated Graph that enforces one quota shape with the measured create latency, all on a
 * simulated clock, so a scenario of many emulated minutes runs in a fraction of a second and the
 * same way every time. `runLimiterSim.ts` runs the scenarios below and prints the figures; tests
 * use {@link simulate} for behaviour that needs a whole run.
 *
 * Figures per run: `ratio` (users provisioned over what the quota admits at most in the run: its
 * burst plus its refill over the time), `throttledShare` (429 answers over all requests),
 * `callsPerUser` (requests over users provisioned) and, for a quota that changes mid-run, how
 * long after the change the limiter first runs a whole window at >= 90% of the new rate with
 * <= 2% throttled.
 */
import { noteHandedOver, takeHandedOver } from "../shared/graph/limiterHandover.js";
import { writePhoneMethods, type PhoneWrite } from "../shared/graph/phoneWriter.js";
import {
  AdaptiveLimiter,
  type LimiterSnapshot,
  type LimiterStats,
} from "../shared/graph/throttle.js";
import type { Outcome } from "../shared/run/index.js";
import { SlidingWindowQuota, TokenBucketQuota, type QuotaModel } from "./quotaShapes.js";
import { SimClock } from "./simClock.js";
import { convergeSeconds } from "./bars.js";
import { SimGraph, SimRandom, type LatencyDistribution } from "./simGraph.js";

/** Measured latency of a phone-method create on Graph (as in the emulator's realistic profile). */
const CREATE_LATENCY: LatencyDistribution = { meanMs: 1860, p99Ms: 2900 };
const READ_LATENCY: LatencyDistribution = { meanMs: 250, p99Ms: 700 };

/** One simulated scenario. */
export interface SimScenario {
  name: string;
  /** What the quota is, in words, for the table. */
  shape: string;
  users: number;
  quota: () => QuotaModel;
  /** The quota is multiplied by `factor` at `atSeconds`. */
  change?: { atSeconds: number; factor: number };
  /** The create latency is multiplied by `factor` at `atSeconds`. */
  latencyChange?: { atSeconds: number; factor: number };
  /** Share of requests answered 503. */
  unavailableShare?: number;
  /**
   * Writes the users in chunks of this many, one `writePhoneMethods` call after another on the
   * same limiter (as `provisionChunk` does, one chunk of a run writing at a time), with
   * `gapMs` of nothing between two (Durable's completing one activity and starting the next).
   * With `hosts: 2`, chunks alternate between two limiters (two instances), handing over what
   * they learned as `shared/graph/limiterHandover.ts` does, on the simulated clock.
   */
  chunks?: { size: number; gapMs: number; overlap?: boolean; hosts?: 1 | 2 };
  /**
   * What the run is held to: `bars` (ratio >= 0.9, throttled <= 2%, calls per user <= 1.1),
   * `convergence` (a window at the new rate after the change, throttled and calls as for the
   * bars), or nothing (shown for information).
   */
  judged?: "bars" | "convergence";
}

/** What one run of a scenario measured. */
export interface SimResult {
  name: string;
  header: boolean;
  seed: number;
  users: number;
  provisioned: number;
  seconds: number;
  ratio: number;
  throttledShare: number;
  callsPerUser: number;
  /** Accepted writes over the last half of the run, over the quota's refill in that time. */
  steadyRatio: number;
  /** Seconds from the quota change to the first window that meets the bars, when there is one. */
  convergeSeconds?: number | null;
  wallMs: number;
}

export const SCENARIOS: SimScenario[] = [
  {
    name: "sliding",
    judged: "bars",
    shape: "40 per 2 s, sliding window",
    users: 6_000,
    quota: () => new SlidingWindowQuota(40, 2_000),
  },
  {
    name: "documented",
    judged: "bars",
    shape: "3,000 per 150 s, token bucket (burst 3,000)",
    users: 20_000,
    quota: () => new TokenBucketQuota(3_000, 20),
  },
  {
    name: "burst",
    judged: "bars",
    shape: "6/s, token bucket with a burst of 300",
    users: 4_000,
    quota: () => new TokenBucketQuota(300, 6),
  },
  {
    name: "smallBurst",
    judged: "bars",
    shape: "20/s, token bucket that holds 5 (the benchmark's burstBucket)",
    users: 6_000,
    quota: () => new TokenBucketQuota(5, 20),
  },
  {
    name: "reports",
    judged: "bars",
    shape: "5 per 10 s, token bucket (reports limit)",
    users: 400,
    quota: () => new TokenBucketQuota(5, 0.5),
  },
  {
    name: "halves",
    judged: "convergence",
    shape: "40 per 2 s, halved at 120 s",
    users: 6_000,
    quota: () => new SlidingWindowQuota(40, 2_000),
    change: { atSeconds: 120, factor: 0.5 },
  },
  {
    name: "doubles",
    judged: "convergence",
    shape: "40 per 2 s, doubled at 120 s",
    users: 8_000,
    quota: () => new SlidingWindowQuota(40, 2_000),
    change: { atSeconds: 120, factor: 2 },
  },
  {
    name: "bucketHalves",
    judged: "convergence",
    shape: "3,000 per 150 s, halved at 400 s",
    users: 20_000,
    quota: () => new TokenBucketQuota(3_000, 20),
    change: { atSeconds: 400, factor: 0.5 },
  },
  {
    name: "chunks",
    shape: "40 per 2 s, chunks of 500 one after the other",
    users: 3_000,
    quota: () => new SlidingWindowQuota(40, 2_000),
    chunks: { size: 500, gapMs: 0 },
  },
  {
    name: "chunksOverlap",
    shape: "40 per 2 s, chunks of 500 taking turns (the next once the one before sent all)",
    users: 3_000,
    quota: () => new SlidingWindowQuota(40, 2_000),
    chunks: { size: 500, gapMs: 0, overlap: true },
  },
  {
    name: "chunksTwoHosts",
    shape: "40 per 2 s, chunks of 500 taking turns, alternating between two instances",
    users: 6_000,
    quota: () => new SlidingWindowQuota(40, 2_000),
    chunks: { size: 500, gapMs: 0, overlap: true, hosts: 2 },
  },
  {
    name: "latency",
    shape: "40 per 2 s, create latency doubled at 120 s",
    users: 6_000,
    quota: () => new SlidingWindowQuota(40, 2_000),
    latencyChange: { atSeconds: 120, factor: 2 },
  },
  {
    name: "faults",
    shape: "40 per 2 s, 2% of requests answer 503",
    users: 6_000,
    quota: () => new SlidingWindowQuota(40, 2_000),
    unavailableShare: 0.02,
  },
];

/** The state of a simulated run, once per simulated second. */
export interface SimSample {
  /** Simulated seconds since the start. */
  t: number;
  /** Creates Graph applied, and 429s it answered, so far. */
  writes: number;
  throttled: number;
  limiter: LimiterStats;
}

/** Options of {@link simulate}. */
export interface SimulateOptions {
  /** Whether Graph sends the usage header above 80%. */
  header: boolean;
  /** Seeds latencies, network jitter and faults. */
  seed: number;
  /** Sees the run once per simulated second. */
  onSecond?: (sample: SimSample) => void;
}

/**
 * Runs one scenario on a fresh simulated clock, Graph and limiter.
 *
 * @param scenario - what to simulate.
 * @param options - header, seed and an observer.
 */
export async function simulate(
  scenario: SimScenario,
  options: SimulateOptions,
): Promise<SimResult> {
  const { header, seed } = options;
  const started = performance.now();
  const clock = new SimClock();
  const quota = scenario.quota();
  const graph = new SimGraph({
    clock,
    quota,
    createLatency: CREATE_LATENCY,
    readLatency: READ_LATENCY,
    usageHeader: header,
    unavailableShare: scenario.unavailableShare ?? 0,
    seed,
  });
  const limiter = new AdaptiveLimiter({ clock });
  const limiters = [limiter, new AdaptiveLimiter({ clock })];
  const { change, latencyChange } = scenario;
  if (change) {
    clock.setTimeout(() => quota.scale(clock.now(), change.factor), change.atSeconds * 1000);
  }
  if (latencyChange) {
    clock.setTimeout(() => {
      const { meanMs, p99Ms } = graph.options.createLatency;
      graph.options.createLatency = {
        meanMs: meanMs * latencyChange.factor,
        p99Ms: p99Ms * latencyChange.factor,
      };
    }, latencyChange.atSeconds * 1000);
  }
  const writes: PhoneWrite[] = Array.from({ length: scenario.users }, (_, i) => ({
    userId: `u${i}`,
    phoneNumber: `+45 2${String(i).padStart(7, "0")}`,
    action: "create",
  }));
  let running = true;
  const { onSecond } = options;
  if (onSecond) {
    const tick = (): void => {
      if (running) {
        const m = graph.metrics;
        onSecond({
          t: clock.now() / 1000,
          writes: m.writes,
          throttled: m.throttled,
          limiter: limiter.stats(),
        });

        clock.setTimeout(tick, 1_000);
      }
    };
    clock.setTimeout(tick, 1_000);
  }
  const { chunks } = scenario;
  const handover = new SimHandover(clock);
  // The writer's backoff jitter from the seed too, so that a seed replays the same run (with
  // Math.random a stray failure's retry fell differently every time).
  const jitter = new SimRandom(seed ^ 0x5bd1e995);
  const random = (): number => jitter.next();
  let chunkNo = 0;
  const writeChunk = (w: PhoneWrite[], onAllSent: () => void): Promise<Outcome[]> => {
    if (chunks?.hosts !== 2) {
      return writePhoneMethods(graph, w, { limiter, onAllSent, random });
    }
    const own = limiters[chunkNo++ % 2] as AdaptiveLimiter;
    handover.resume(own);
    // As provisionChunk: the limiter is handed over when the turn passes, and only then.
    return writePhoneMethods(graph, w, {
      limiter: own,
      random,
      onAllSent: () => {
        handover.handOver(own);
        onAllSent();
      },
    });
  };
  const outcomes = await clock.run(
    chunks
      ? writeInChunks(writes, chunks, clock, writeChunk)
      : writePhoneMethods(graph, writes, { limiter, random }),
  );
  running = false;
  const endMs = clock.now();
  const m = graph.metrics;
  const provisioned = outcomes.filter((o) => o.result === "created").length;
  const half = endMs / 2;
  const steadyWrites = m.writeTimes.filter((t) => t >= half).length;
  return {
    name: scenario.name,
    header,
    seed,
    users: scenario.users,
    provisioned,
    seconds: endMs / 1000,
    ratio: provisioned / quota.ceiling(endMs),
    throttledShare: m.requests > 0 ? m.throttled / m.requests : 0,
    callsPerUser: provisioned > 0 ? m.requests / provisioned : 0,
    steadyRatio: steadyWrites / (quota.ceiling(endMs) - quota.ceiling(half)),
    ...(change
      ? {
          convergeSeconds: convergeSeconds(
            m.writeTimes,
            m.throttleTimes,
            change.atSeconds * 1000,
            endMs,
            quota.ratePerSecond(endMs),
          ),
        }
      : {}),
    wallMs: performance.now() - started,
  };
}

/**
 * The run store's handed-over limiter on the simulated clock, taken and noted by the product's
 * own rule (`takeHandedOver` and `noteHandedOver` in `shared/graph/limiterHandover.ts`).
 */
class SimHandover {
  private stored?: { at: number; learned: LimiterSnapshot };

  constructor(private readonly clock: SimClock) {}

  resume(limiter: AdaptiveLimiter): void {
    if (this.stored) {
      takeHandedOver(limiter, this.stored.learned, this.stored.at);
    }
  }

  handOver(limiter: AdaptiveLimiter): void {
    const learned = limiter.snapshot();
    if (learned) {
      // A tick later than anything before: the store's timestamps are distinct too.
      const at = Math.max(this.clock.now(), (this.stored?.at ?? -1) + 1e-3);
      this.stored = { at, learned };
      noteHandedOver(limiter, at);
    }
  }
}

/**
 * Writes one chunk after another, with a gap of nothing between two; with `overlap`, the next
 * chunk starts as soon as the one before passes its turn (`onAllSent`: every write has left and
 * none waits to go again; its answers and reads back still to come).
 */
async function writeInChunks<T>(
  writes: PhoneWrite[],
  chunks: { size: number; gapMs: number; overlap?: boolean },
  clock: SimClock,
  write: (chunk: PhoneWrite[], onAllSent: () => void) => Promise<T[]>,
): Promise<T[]> {
  const running: Promise<T[]>[] = [];
  for (let from = 0; from < writes.length; from += chunks.size) {
    if (from > 0) {
      await clock.sleep(chunks.gapMs);
    }
    let allSent!: () => void;
    const sent = new Promise<void>((resolve) => (allSent = resolve));
    const chunk = write(writes.slice(from, from + chunks.size), allSent);
    running.push(chunk);
    await (chunks.overlap ? Promise.race([sent, chunk]) : chunk);
  }
  return (await Promise.all(running)).flat();
}
