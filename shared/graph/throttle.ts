/**
 * An adaptive limit for Graph writes, one per app+tenant per process, shared by every
 * provisioning activity that runs in the process. It bounds two things:
 *
 * - the requests in flight (a `$batch` of 20 writes holds 20 permits): the window, AIMD as
 *   before (slow start doubling per round trip, about one more per round trip afterwards, ×0.7 on
 *   429/503 once per round trip);
 * - the rate at which requests leave (a pacer). Graph's quotas are token buckets over time, so the
 *   rate is what must match the quota; a window alone lets the rate follow the latency, and a
 *   burst of batches drains a small bucket at once.
 *
 * The rate is steered by the documented `x-ms-throttle-limit-percentage` header, which Graph sends
 * once a quota is more than 80% used. It reads as the level of the quota's bucket: while the level
 * stays between empty and full, every token the tenant grants is used, whatever the exact quota,
 * so the limiter aims to keep the usage near {@link TARGET_USAGE}. It cuts hard when the usage
 * climbs close to 1 (a cut only banks tokens, a 429 costs a `Retry-After` pause) and grows back
 * while the usage falls or the header is absent. A 429 or 503 halves the rate and pauses every
 * caller for `Retry-After` (whole seconds, as Graph documents it), since the quota is shared.
 */

/** Options of {@link AdaptiveLimiter}. */
export interface AdaptiveLimiterOptions {
  /**
   * Starting window in requests in flight (default 4: the quota may be as small as the reports
   * limit of 5 requests per 10 s, which a first burst of 20 would overrun).
   */
  initial?: number;
  /** Never below this (default 1). */
  min?: number;
  /** Never above this (default 400). */
  max?: number;
  /** Factor applied to the window on a throttle (default 0.7). */
  decrease?: number;
  now?: () => number;
}

/** What one finished request tells the limiter. */
export interface LimiterFeedback {
  /** 429 or 503 answers among the permits being released. */
  throttled?: number;
  /**
   * How many of `throttled` were 503s: they pause and shrink the window like a 429 but leave the
   * rate alone, since an unavailable service says nothing about the quota.
   */
  unavailable?: number;
  /** Longest `Retry-After` seen, in milliseconds. */
  retryAfterMs?: number;
  /** Highest `x-ms-throttle-limit-percentage` seen (0.8 to 1.8), when Graph sent one. */
  limitPercentage?: number;
}

/** A snapshot for status and benchmarks. */
export interface LimiterStats {
  /** The window: requests in flight allowed. */
  limit: number;
  inFlight: number;
  throttled: number;
  completed: number;
  pausedForMs: number;
  slowStart: boolean;
  /** The pacing rate in requests per second, absent before the first round trip. */
  ratePerSecond?: number;
  /** Smoothed round trip in milliseconds, absent before the first answer. */
  roundTripMs?: number;
  /** The last `x-ms-throttle-limit-percentage` seen, 0 when the last round trip had none. */
  usage: number;
}

/** The quota usage the rate aims at: close to full, with room for a round trip of error. */
export const TARGET_USAGE = 0.9;

/** Usage above which the limiter cuts hard: the bucket is nearly empty. */
const DANGER_USAGE = 0.95;

/** Usage changes smaller than this are noise (the header has two decimals). */
const USAGE_EPSILON = 0.005;

/** An adaptive limit on requests in flight and on the rate they are sent at. */
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
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly min: number;
  private readonly max: number;
  private readonly decrease: number;
  private readonly now: () => number;
  /** Requests per millisecond; undefined until the first round trip is measured. */
  private rate?: number;
  private srtt?: number;
  private minRtt?: number;
  private nextSendAt = Number.NEGATIVE_INFINITY;
  /** Requests sent after this instant reflect the last rate decision. */
  private lastDecisionAt = Number.NEGATIVE_INFINITY;
  private stepUsage = 0;
  private stepThrottled = 0;
  private previousUsage = 0;
  private lastUsage = 0;
  private headerSeen = false;
  /** The rate at which the quota last started to push back. */
  private edgeRate?: number;
  /** Round trips in a row near or past the edge without usage reported or a throttle. */
  private quietSteps = 0;

  constructor(options: AdaptiveLimiterOptions = {}) {
    this.min = options.min ?? 1;
    this.max = options.max ?? 400;
    this.decrease = options.decrease ?? 0.7;
    this.limitValue = Math.min(this.max, Math.max(this.min, options.initial ?? 4));
    this.now = options.now ?? Date.now;
  }

  /** The current window (requests in flight). */
  get limit(): number {
    return Math.floor(this.limitValue);
  }

  /**
   * How many writes to put in the next request: about half of what the rate sends per round
   * trip (a quarter in slow start), so that several requests share each round trip and a small
   * quota is not hit by one large batch; the window before the first round trip.
   *
   * @param max - the most one request may hold (20 for `$batch`).
   */
  batchSize(max: number): number {
    // In slow start the rate doubles each round trip: smaller requests let the first sign of
    // pressure stop it before a whole batch has hit a small quota.
    const share = this.slowStart ? 4 : 2;
    const perRoundTrip =
      this.rate !== undefined && this.srtt !== undefined
        ? Math.floor((this.rate * this.srtt) / share)
        : this.limit;
    return Math.max(1, Math.min(max, perRoundTrip));
  }

  /**
   * Waits for `n` permits: until no `Retry-After` pause is on, the pacer lets the request leave
   * and the window has room (always at least one request may run, so a batch larger than the
   * window cannot wait forever).
   *
   * @param n - permits wanted (a batch of 20 writes wants 20).
   * @returns the start time, to pass back to {@link release}.
   */
  async acquire(n = 1): Promise<number> {
    if (this.waiters.length === 0 && this.canRun(n)) {
      this.grant(n);
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
    const usage = feedback.limitPercentage ?? 0;
    this.throttledCount += throttled;
    this.completedCount += n;
    if (throttled < n) {
      // A batch is answered when its slowest processed item is; a wholly throttled one comes back
      // at once and would make the round trip look short.
      const sample = Math.max(1, now - startedAt);
      this.srtt = this.srtt === undefined ? sample : this.srtt * 0.875 + sample * 0.125;
      this.minRtt = Math.min(this.minRtt ?? sample, sample);
    }
    if (usage > 0) {
      this.headerSeen = true;
    }
    this.stepUsage = Math.max(this.stepUsage, usage);
    this.stepThrottled += throttled;

    if (throttled > 0) {
      if (feedback.retryAfterMs !== undefined && feedback.retryAfterMs > 0) {
        this.pausedUntil = Math.max(this.pausedUntil, now + feedback.retryAfterMs);
      }
      // Once per round trip: the answers to requests sent before the last cut say nothing new.
      if (startedAt > this.lastDecreaseAt) {
        this.limitValue = Math.max(this.min, this.limitValue * this.decrease);
        this.lastDecreaseAt = now;
        if (throttled > (feedback.unavailable ?? 0)) {
          if (this.slowStart) {
            this.leaveSlowStart(0.25);
          } else if (this.rate !== undefined) {
            this.edgeRate = Math.min(this.edgeRate ?? this.rate, this.rate * 0.9);
            this.setRate(this.rate * 0.7);
          }
          this.closeStep(now);
        }
      }
      this.slowStart = false;
    } else if (usage >= TARGET_USAGE) {
      if (this.slowStart) {
        this.leaveSlowStart(0.25);
        this.closeStep(now);
      }
      if (usage >= 1 && startedAt > this.lastDecreaseAt) {
        this.limitValue = Math.max(this.min, this.limitValue * 0.95);
        this.lastDecreaseAt = now;
      }
    } else if (usage > 0 && this.slowStart) {
      this.leaveSlowStart(0.25);
      this.closeStep(now);
    } else if (this.slowStart) {
      this.limitValue = Math.min(this.max, this.limitValue + n);
    } else {
      this.limitValue = Math.min(this.max, this.limitValue + n / Math.max(1, this.limitValue));
    }

    if (this.slowStart) {
      // Paced by the shortest round trip seen: the first ones carry connection set-up.
      if (this.minRtt !== undefined) {
        this.setRate(this.limitValue / this.minRtt);
      }
    } else if (startedAt >= this.lastDecisionAt) {
      this.decide(now);
    }
    this.drain();
  }

  /**
   * Gives back permits granted by {@link acquire} but not used (the work ran out while waiting),
   * with the pacing time they were charged.
   *
   * @param n - permits not used.
   */
  refund(n: number): void {
    if (n <= 0) {
      return;
    }
    this.inFlightValue = Math.max(0, this.inFlightValue - n);
    if (this.rate !== undefined) {
      this.nextSendAt = Math.max(this.now(), this.nextSendAt - n / this.rate);
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
      ...(this.rate !== undefined ? { ratePerSecond: this.rate * 1000 } : {}),
      ...(this.srtt !== undefined ? { roundTripMs: this.srtt } : {}),
      usage: this.lastUsage,
    };
  }

  /**
   * Leaves slow start at a share of the rate it had reached: that rate was doubling and the
   * signal that stopped it is a round trip old.
   */
  private leaveSlowStart(share: number): void {
    if (!this.slowStart) {
      return;
    }
    this.slowStart = false;
    // Without a round trip yet (the very first answer was throttled), a long one is assumed
    // until the next answer tells.
    this.setRate((this.limitValue / (this.srtt ?? 1_000)) * share);
  }

  /**
   * One rate decision per round trip, from the highest usage Graph reported in it and whether
   * that usage is rising (the bucket drains: sending faster than the quota refills) or falling.
   */
  private decide(now: number): void {
    if (this.rate === undefined) {
      this.closeStep(now);
      return;
    }
    const usage = this.stepUsage;
    const rising = usage > this.previousUsage + USAGE_EPSILON;
    const falling = usage < this.previousUsage - USAGE_EPSILON;
    let factor: number;
    if (this.stepThrottled > 0) {
      factor = 1; // already cut when the 429 arrived
    } else if (usage >= DANGER_USAGE) {
      factor = rising ? 0.6 : 0.9;
    } else if (usage >= TARGET_USAGE) {
      factor = rising ? 0.8 : falling ? 1 : 0.98;
    } else if (usage > 0 && this.previousUsage === 0) {
      // Usage reported again after a quiet stretch: the rate has been above the quota's for a
      // while (the bucket drained unseen), and a small bucket may have little left.
      factor = 0.85;
    } else if (usage > 0) {
      factor = rising ? 0.93 : falling ? 1.02 : 1;
    } else if (this.edgeRate !== undefined && this.rate < 0.97 * this.edgeRate) {
      // Below 80% and below the rate at which the quota last pushed back: climb back quickly,
      // slowing down on the way.
      factor = 1 + Math.max(0.01, (0.3 * (this.edgeRate - this.rate)) / this.edgeRate);
    } else {
      // Below 80% near or past the last edge (or a quota that never reports usage): probe
      // upwards, gently at first and faster the longer the usage stays low; at most 5% per round
      // trip when Graph never reports usage and only a 429 can tell.
      this.quietSteps++;
      const cap = this.headerSeen ? 0.02 : 0.05;
      factor = 1 + Math.min(cap, 0.005 * 2 ** (this.quietSteps - 1));
    }
    this.setRate(this.rate * factor);
    if (usage > 0 || this.stepThrottled > 0) {
      if (this.previousUsage === 0 || this.edgeRate === undefined) {
        // The quota pushes back again: about this rate (after the cut) is where it starts.
        this.edgeRate = this.rate;
      }
      this.quietSteps = 0;
    }
    this.closeStep(now);
  }

  private closeStep(now: number): void {
    this.previousUsage = this.stepUsage;
    this.lastUsage = this.stepUsage;
    this.stepUsage = 0;
    this.stepThrottled = 0;
    this.lastDecisionAt = now;
  }

  private setRate(rate: number): void {
    const srtt = this.srtt ?? 1_000;
    // At least a quarter of a request per round trip, at most the largest window per round trip.
    const floor = this.min / (4 * srtt);
    const ceiling = this.max / srtt;
    this.rate = Math.min(ceiling, Math.max(floor, rate));
  }

  /** The window once the rate leads: wide enough never to hold the rate back. */
  private window(): number {
    if (this.slowStart || this.rate === undefined || this.srtt === undefined) {
      return this.limit;
    }
    return Math.min(this.max, Math.max(this.limit, Math.ceil(2 * this.rate * this.srtt)));
  }

  private canRun(n: number): boolean {
    const now = this.now();
    if (now < this.pausedUntil) {
      return false;
    }
    if (this.rate !== undefined && now < this.nextSendAt) {
      return false;
    }
    return this.inFlightValue === 0 || this.inFlightValue + n <= this.window();
  }

  private grant(n: number): void {
    this.inFlightValue += n;
    if (this.rate !== undefined) {
      this.nextSendAt = Math.max(this.nextSendAt, this.now()) + n / this.rate;
    }
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      if (!head || !this.canRun(head.n)) {
        break;
      }
      this.waiters.shift();
      this.grant(head.n);
      head.resolve();
    }
    this.schedule();
  }

  /** Wakes the queue when a pause or the pacer's gap ends (nothing else would). */
  private schedule(): void {
    if (this.waiters.length === 0) {
      return;
    }
    const at = Math.max(this.pausedUntil, this.rate !== undefined ? this.nextSendAt : 0);
    const wait = at - this.now();
    if (wait <= 0) {
      // The clock may have moved past the gap since drain() looked: then nothing else would wake
      // the queue. Otherwise only the window holds it, and the next release drains it.
      const head = this.waiters[0];
      if (head && this.canRun(head.n)) {
        this.drain();
      }
      return;
    }
    if (this.timer && this.timerAt <= at) {
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.drain();
    }, wait);
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
