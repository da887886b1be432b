/**
 * An adaptive concurrency limit for Graph writes, one per app+tenant per process, shared by every
 * provisioning activity that runs in the process. It counts requests in flight (a `$batch` of 20
 * writes holds 20 permits), grows while Graph accepts work and shrinks when Graph pushes back.
 *
 * - Slow start: the limit doubles every round trip until the first sign of pressure.
 * - Additive increase afterwards: about one more request per round trip.
 * - `x-ms-throttle-limit-percentage` (sent only above 80% of a quota): growth stops at 0.9 and the
 *   limit eases down above 1.0, so the limiter settles before Graph has to say 429.
 * - Multiplicative decrease on 429/503, once per round trip, and a pause for `Retry-After` for
 *   everyone sharing the limiter, since the quota is shared too.
 */

/** Options of {@link AdaptiveLimiter}. */
export interface AdaptiveLimiterOptions {
  /** Starting limit in requests in flight (default 20). */
  initial?: number;
  /** Never below this (default 1). */
  min?: number;
  /** Never above this (default 400). */
  max?: number;
  /** Factor applied on a throttle (default 0.7). */
  decrease?: number;
  now?: () => number;
}

/** What one finished request tells the limiter. */
export interface LimiterFeedback {
  /** 429 or 503 answers among the permits being released. */
  throttled?: number;
  /** Longest `Retry-After` seen, in milliseconds. */
  retryAfterMs?: number;
  /** Highest `x-ms-throttle-limit-percentage` seen (0.8 to 1.8), when Graph sent one. */
  limitPercentage?: number;
}

/** A snapshot for status and benchmarks. */
export interface LimiterStats {
  limit: number;
  inFlight: number;
  throttled: number;
  completed: number;
  pausedForMs: number;
  slowStart: boolean;
}

/** An adaptive limit on requests in flight. */
export class AdaptiveLimiter {
  private limitValue: number;
  private inFlightValue = 0;
  private pausedUntil = 0;
  private slowStart = true;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private throttledCount = 0;
  private completedCount = 0;
  private readonly waiters: { n: number; resolve: () => void }[] = [];
  private timer?: NodeJS.Timeout;
  private readonly min: number;
  private readonly max: number;
  private readonly decrease: number;
  private readonly now: () => number;

  constructor(options: AdaptiveLimiterOptions = {}) {
    this.min = options.min ?? 1;
    this.max = options.max ?? 400;
    this.decrease = options.decrease ?? 0.7;
    this.limitValue = Math.min(this.max, Math.max(this.min, options.initial ?? 20));
    this.now = options.now ?? Date.now;
  }

  /** The current limit (requests in flight). */
  get limit(): number {
    return Math.floor(this.limitValue);
  }

  /**
   * Waits for `n` permits (never more than the limit allows, but always at least one request may
   * run so a batch larger than the limit cannot wait forever).
   *
   * @param n - permits wanted (a batch of 20 writes wants 20).
   * @returns the start time, to pass back to {@link release}.
   */
  async acquire(n = 1): Promise<number> {
    if (this.waiters.length === 0 && this.canRun(n)) {
      this.inFlightValue += n;
      return this.now();
    }
    await new Promise<void>((resolve) => {
      this.waiters.push({ n, resolve });
      this.schedule();
    });
    return this.now();
  }

  /**
   * Returns permits and learns from how the request went.
   *
   * @param n - permits returned.
   * @param startedAt - what {@link acquire} returned.
   * @param feedback - throttling seen in the answer.
   */
  release(n: number, startedAt: number, feedback: LimiterFeedback = {}): void {
    this.inFlightValue = Math.max(0, this.inFlightValue - n);
    const now = this.now();
    const throttled = feedback.throttled ?? 0;
    this.throttledCount += throttled;
    this.completedCount += n;
    if (throttled > 0) {
      this.slowStart = false;
      if (feedback.retryAfterMs !== undefined && feedback.retryAfterMs > 0) {
        this.pausedUntil = Math.max(this.pausedUntil, now + feedback.retryAfterMs);
      }
      // Once per round trip: the answers to requests sent before the last cut say nothing new.
      if (startedAt > this.lastDecreaseAt) {
        this.limitValue = Math.max(this.min, this.limitValue * this.decrease);
        this.lastDecreaseAt = now;
      }
    } else if (feedback.limitPercentage !== undefined && feedback.limitPercentage >= 0.9) {
      this.slowStart = false;
      if (feedback.limitPercentage >= 1 && startedAt > this.lastDecreaseAt) {
        this.limitValue = Math.max(this.min, this.limitValue * 0.95);
        this.lastDecreaseAt = now;
      }
    } else if (this.slowStart) {
      this.limitValue = Math.min(this.max, this.limitValue + n);
    } else {
      this.limitValue = Math.min(this.max, this.limitValue + n / Math.max(1, this.limitValue));
    }
    this.drain();
  }

  /** A snapshot for status lines and benchmarks. */
  stats(): LimiterStats {
    return {
      limit: this.limit,
      inFlight: this.inFlightValue,
      throttled: this.throttledCount,
      completed: this.completedCount,
      pausedForMs: Math.max(0, this.pausedUntil - this.now()),
      slowStart: this.slowStart,
    };
  }

  private canRun(n: number): boolean {
    if (this.now() < this.pausedUntil) {
      return false;
    }
    return this.inFlightValue === 0 || this.inFlightValue + n <= this.limit;
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      if (!head || !this.canRun(head.n)) {
        break;
      }
      this.waiters.shift();
      this.inFlightValue += head.n;
      head.resolve();
    }
    this.schedule();
  }

  /** Wakes the queue when a pause ends (nothing else would). */
  private schedule(): void {
    if (this.timer || this.waiters.length === 0) {
      return;
    }
    const wait = this.pausedUntil - this.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.drain();
      }, wait);
      this.timer.unref?.();
    }
  }
}

const limiters = new Map<string, AdaptiveLimiter>();

/**
 * The one limiter of an app in a tenant, in this process.
 *
 * @param key - Graph base URL, tenant and client id: whatever identifies the quota.
 * @param options - used only when the limiter is created.
 */
export function limiterFor(key: string, options?: AdaptiveLimiterOptions): AdaptiveLimiter {
  let limiter = limiters.get(key);
  if (!limiter) {
    limiter = new AdaptiveLimiter(options);
    limiters.set(key, limiter);
  }
  return limiter;
}
