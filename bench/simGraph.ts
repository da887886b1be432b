/**
 * A simulated Graph `$batch` for the limiter simulation: phone-method writes under one quota
 * model, on a {@link SimClock}. Each item is checked against the quota when the batch arrives
 * (as Graph evaluates items one by one); a refused item answers 429 at once with `Retry-After` in
 * whole seconds, an admitted one takes the measured create latency (log-normal), and the batch
 * answers when its slowest item is done. Optionally sends `x-ms-throttle-limit-percentage` above
 * 80% usage and answers a share of items with 503 (before writing).
 */
import type { BatchRequest, BatchResult } from "../shared/graph/client.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import type { QuotaModel } from "./quotaShapes.js";
import type { SimClock } from "./simClock.js";

/** Mean and 99th percentile of a log-normal latency, in milliseconds. */
export interface LatencyDistribution {
  meanMs: number;
  p99Ms: number;
}

/** Options of {@link SimGraph}. */
export interface SimGraphOptions {
  clock: SimClock;
  quota: QuotaModel;
  /** Latency of an admitted phone-method create (may change during a run). */
  createLatency: LatencyDistribution;
  /** Latency of a phone-method list (reconciling reads). */
  readLatency: LatencyDistribution;
  /** Send the usage header above 80%, as Graph documents for directory objects. */
  usageHeader: boolean;
  /** Share of items answered 503 before anything is written. */
  unavailableShare: number;
  seed: number;
}

/** What the simulated Graph saw, in simulated milliseconds. */
export interface SimGraphMetrics {
  /** Batch items of every kind. */
  requests: number;
  throttled: number;
  unavailable: number;
  /** Creates applied. */
  writes: number;
  /** Arrival time of every applied create. */
  writeTimes: number[];
  /** Arrival time of every 429. */
  throttleTimes: number[];
}

/** A seeded PRNG (mulberry32) with normal draws. */
export class SimRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A log-normal draw with the given mean and 99th percentile. */
  latency(d: LatencyDistribution): number {
    if (d.p99Ms <= d.meanMs) {
      return d.meanMs;
    }
    // ln(p99) - ln(mean) = z99 * s - s^2 / 2: the smaller root for s.
    const z = 2.3263;
    const gap = Math.log(d.p99Ms / d.meanMs);
    const disc = z * z - 2 * gap;
    const s = disc > 0 ? z - Math.sqrt(disc) : z;
    const mu = Math.log(d.meanMs) - (s * s) / 2;
    const normal =
      Math.sqrt(-2 * Math.log(Math.max(this.next(), 1e-12))) * Math.cos(2 * Math.PI * this.next());
    return Math.exp(mu + s * normal);
  }
}

/** The simulated `$batch` endpoint. */
export class SimGraph {
  readonly metrics: SimGraphMetrics = {
    requests: 0,
    throttled: 0,
    unavailable: 0,
    writes: 0,
    writeTimes: [],
    throttleTimes: [],
  };
  private readonly phones = new Map<string, string>();
  private readonly random: SimRandom;

  constructor(readonly options: SimGraphOptions) {
    this.random = new SimRandom(options.seed);
  }

  /** Latency of the network, one way: a few tens of milliseconds. */
  private oneWay(): number {
    return 15 + 30 * this.random.next();
  }

  /** Tokens never expire here. */
  refreshToken(): void {}

  async batch(requests: BatchRequest[]): Promise<BatchResult[]> {
    const { clock } = this.options;
    await clock.sleep(this.oneWay());
    const arrivedAt = clock.now();
    let slowest = 0;
    const results = requests.map((request) => {
      const { result, ms } = this.answer(request, arrivedAt);
      slowest = Math.max(slowest, ms);
      return result;
    });
    await clock.sleep(slowest + this.oneWay());
    return results;
  }

  private answer(request: BatchRequest, t: number): { result: BatchResult; ms: number } {
    const m = this.metrics;
    m.requests++;
    const userId = request.url.split("/")[2] ?? "";
    if (this.random.next() < this.options.unavailableShare) {
      m.unavailable++;
      return { result: failure(request, 503, "serviceUnavailable"), ms: 50 };
    }
    if (request.method === "GET") {
      const phone = this.phones.get(userId);
      const value = phone ? [{ id: "mobile", phoneType: "mobile", phoneNumber: phone }] : [];
      return {
        result: { id: request.id, status: 200, headers: {}, body: { value } },
        ms: this.random.latency(this.options.readLatency),
      };
    }
    const answer = this.options.quota.take(t);
    if (!answer.ok) {
      m.throttled++;
      m.throttleTimes.push(t);
      const seconds = Math.max(1, Math.ceil(answer.waitMs / 1000));
      return { result: failure(request, 429, "TooManyRequests", seconds), ms: 5 };
    }
    const headers: Record<string, string> = {};
    if (this.options.usageHeader && answer.usage > 0.8) {
      headers["x-ms-throttle-limit-percentage"] = answer.usage.toFixed(2);
    }
    const body = request.body as { phoneNumber?: string };
    this.phones.set(userId, body.phoneNumber ?? "");
    m.writes++;
    m.writeTimes.push(t);
    return {
      result: { id: request.id, status: 201, headers, body: { id: "mobile" } },
      ms: this.random.latency(this.options.createLatency),
    };
  }
}

function failure(
  request: BatchRequest,
  status: number,
  code: string,
  retryAfterSeconds?: number,
): BatchResult {
  const headers: Record<string, string> =
    retryAfterSeconds !== undefined ? { "retry-after": String(retryAfterSeconds) } : {};
  return {
    id: request.id,
    status,
    headers,
    error: new GraphRequestError({
      status,
      code,
      ...(retryAfterSeconds !== undefined ? { retryAfterMs: retryAfterSeconds * 1000 } : {}),
      method: request.method,
      route: "/users/{id}/authentication/phoneMethods",
    }),
  };
}
