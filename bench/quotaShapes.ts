/**
 * Write quotas as Graph might enforce them, as pure models over simulated time (milliseconds):
 * a sliding window (N per W) and a token bucket (capacity, refill). Each answers one request at a
 * time, tells how long until a unit frees up (what `Retry-After` reports, before rounding), and how
 * full it is (what `x-ms-throttle-limit-percentage` reports).
 */

/** What a quota answers to one request. */
export type QuotaAnswer = { ok: true; usage: number } | { ok: false; waitMs: number };

/** One quota shape. */
export interface QuotaModel {
  /** Takes one unit at `t`, or says how long until one frees up. */
  take(t: number): QuotaAnswer;
  /** Multiplies the quota (its count and its refill) from `t` on: 0.5 halves it, 2 doubles it. */
  scale(t: number, factor: number): void;
  /** The most units the quota admits over [0, t]: its burst plus its refill over the time. */
  ceiling(t: number): number;
  /** The sustained rate at `t`, in units per second. */
  ratePerSecond(t: number): number;
}

/** The rate history of a quota, for its ceiling over a run. */
class RateHistory {
  private readonly steps: { from: number; perMs: number }[];

  constructor(
    private readonly burst: number,
    perMs: number,
  ) {
    this.steps = [{ from: 0, perMs }];
  }

  set(t: number, perMs: number): void {
    this.steps.push({ from: t, perMs });
  }

  at(t: number): number {
    let perMs = 0;
    for (const s of this.steps) {
      if (s.from <= t) {
        perMs = s.perMs;
      }
    }
    return perMs;
  }

  ceiling(t: number): number {
    let total = this.burst;
    this.steps.forEach((s, i) => {
      const end = Math.min(t, this.steps[i + 1]?.from ?? t);
      if (end > s.from) {
        total += (end - s.from) * s.perMs;
      }
    });
    return total;
  }
}

/** At most `limit` units in any `windowMs` (a unit counts from when it was taken). */
export class SlidingWindowQuota implements QuotaModel {
  private readonly taken: number[] = [];
  private head = 0;
  private readonly history: RateHistory;

  constructor(
    private limit: number,
    private readonly windowMs: number,
  ) {
    this.history = new RateHistory(limit, limit / windowMs);
  }

  take(t: number): QuotaAnswer {
    while (
      this.head < this.taken.length &&
      (this.taken[this.head] as number) <= t - this.windowMs
    ) {
      this.head++;
    }
    const count = this.taken.length - this.head;
    if (count >= this.limit) {
      // Free once enough of the oldest units have left the window to bring it below the limit.
      const frees = this.taken[this.head + count - this.limit] as number;
      return { ok: false, waitMs: frees + this.windowMs - t };
    }
    this.taken.push(t);
    return { ok: true, usage: (count + 1) / this.limit };
  }

  scale(t: number, factor: number): void {
    this.limit = Math.max(1, Math.round(this.limit * factor));
    this.history.set(t, this.limit / this.windowMs);
  }

  ceiling(t: number): number {
    return this.history.ceiling(t);
  }

  ratePerSecond(t: number): number {
    return this.history.at(t) * 1000;
  }
}

/** A bucket of `capacity` units, full at the start, refilled continuously at `perSecond`. */
export class TokenBucketQuota implements QuotaModel {
  private tokens: number;
  private last = 0;
  private perMs: number;
  private readonly history: RateHistory;

  constructor(
    private capacity: number,
    perSecond: number,
  ) {
    this.tokens = capacity;
    this.perMs = perSecond / 1000;
    this.history = new RateHistory(capacity, this.perMs);
  }

  take(t: number): QuotaAnswer {
    this.refill(t);
    if (this.tokens < 1) {
      return { ok: false, waitMs: (1 - this.tokens) / this.perMs };
    }
    this.tokens -= 1;
    return { ok: true, usage: 1 - this.tokens / this.capacity };
  }

  scale(t: number, factor: number): void {
    this.refill(t);
    this.capacity = Math.max(1, this.capacity * factor);
    this.tokens = Math.min(this.tokens, this.capacity);
    this.perMs *= factor;
    this.history.set(t, this.perMs);
  }

  ceiling(t: number): number {
    return this.history.ceiling(t);
  }

  ratePerSecond(t: number): number {
    return this.history.at(t) * 1000;
  }

  private refill(t: number): void {
    if (t > this.last) {
      this.tokens = Math.min(this.capacity, this.tokens + (t - this.last) * this.perMs);
      this.last = t;
    }
  }
}
