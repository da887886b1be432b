/**
 * Quota shapes: how a quota admits requests over time. Every shape counts in real (scaled)
 * milliseconds from its clock and starts full; the quota policy builds one per quota and app.
 */

/** A quota of one app+tenant: `waitFor`, then `take` when it said 0. */
export interface Quota {
  /**
   * Milliseconds until `cost` units fit; 0 when they fit now.
   *
   * @param cost - units needed (a cost above the quota's size counts as its size)
   */
  waitFor(cost: number): number;
  /**
   * Takes units (call after `waitFor` said 0).
   *
   * @param cost - units to take
   */
  take(cost: number): void;
  /** Share of the quota in use, 0..1 (for `x-ms-throttle-limit-percentage`). */
  usage(): number;
}

/** The shapes a quota can have. */
export const QUOTA_SHAPE_NAMES = ["tokenBucket", "slidingWindow", "fixedWindow"] as const;

/** The name of a quota shape. */
export type QuotaShapeName = (typeof QUOTA_SHAPE_NAMES)[number];

/** A quota's shape and size. */
export interface QuotaShape {
  shape: QuotaShapeName;
  /** Units per window. */
  limit: number;
  /** Window in real milliseconds. */
  windowMs: number;
  /** Bucket size of `tokenBucket` (the most that pass at once); default `limit`. */
  burst?: number;
}

/** A clock in epoch milliseconds. */
export type Clock = () => number;

const systemClock: Clock = () => Date.now();

/**
 * A continuously refilled token bucket: `limit` units per `windowMs`, holding at most `burst`
 * (by default `limit`, which is the documented Graph bucket).
 */
export class TokenBucket implements Quota {
  private readonly capacity: number;
  private tokens: number;
  private last: number;

  /**
   * @param limit - units per window
   * @param windowMs - window in real milliseconds
   * @param burst - bucket size; default `limit`
   * @param now - clock
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    burst: number = limit,
    private readonly now: Clock = systemClock,
  ) {
    this.capacity = burst;
    this.tokens = burst;
    this.last = now();
  }

  private refill(): void {
    const now = this.now();
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.limit) / this.windowMs);
    }
  }

  /** @inheritdoc */
  waitFor(cost: number): number {
    this.refill();
    const needed = Math.min(cost, this.capacity) - this.tokens;
    return needed <= 0 ? 0 : (needed * this.windowMs) / this.limit;
  }

  /** @inheritdoc */
  take(cost: number): void {
    this.tokens -= Math.min(cost, this.capacity);
  }

  /** @inheritdoc */
  usage(): number {
    this.refill();
    return 1 - this.tokens / this.capacity;
  }
}

/** At most `limit` units within any `windowMs` (a log of what was taken, and when). */
export class SlidingWindow implements Quota {
  private readonly times: number[] = [];
  private readonly costs: number[] = [];
  /** Index of the oldest entry still in the window. */
  private head = 0;
  private used = 0;

  /**
   * @param limit - units per window
   * @param windowMs - window in real milliseconds
   * @param now - clock
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: Clock = systemClock,
  ) {}

  /** Drops entries older than the window (and compacts the log now and then). */
  private prune(now: number): void {
    while (
      this.head < this.times.length &&
      (this.times[this.head] as number) <= now - this.windowMs
    ) {
      this.used -= this.costs[this.head] as number;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.costs.splice(0, this.head);
      this.head = 0;
    }
  }

  /** @inheritdoc */
  waitFor(cost: number): number {
    const now = this.now();
    this.prune(now);
    const excess = this.used + Math.min(cost, this.limit) - this.limit;
    if (excess <= 0) {
      return 0;
    }
    // Waits until enough of the oldest entries have left the window.
    let freed = 0;
    for (let i = this.head; i < this.times.length; i++) {
      freed += this.costs[i] as number;
      if (freed >= excess) {
        return (this.times[i] as number) + this.windowMs - now;
      }
    }
    return this.windowMs;
  }

  /** @inheritdoc */
  take(cost: number): void {
    const c = Math.min(cost, this.limit);
    this.times.push(this.now());
    this.costs.push(c);
    this.used += c;
  }

  /** @inheritdoc */
  usage(): number {
    this.prune(this.now());
    return this.used / this.limit;
  }
}

/** At most `limit` units per window; windows follow each other from the quota's start. */
export class FixedWindow implements Quota {
  private start: number;
  private used = 0;

  /**
   * @param limit - units per window
   * @param windowMs - window in real milliseconds
   * @param now - clock
   */
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: Clock = systemClock,
  ) {
    this.start = now();
  }

  private roll(now: number): void {
    if (!(this.windowMs > 0)) {
      this.start = now;
      this.used = 0;
    } else if (now - this.start >= this.windowMs) {
      this.start += Math.floor((now - this.start) / this.windowMs) * this.windowMs;
      this.used = 0;
    }
  }

  /** @inheritdoc */
  waitFor(cost: number): number {
    const now = this.now();
    this.roll(now);
    return this.used + Math.min(cost, this.limit) <= this.limit
      ? 0
      : this.start + this.windowMs - now;
  }

  /** @inheritdoc */
  take(cost: number): void {
    this.used += Math.min(cost, this.limit);
  }

  /** @inheritdoc */
  usage(): number {
    this.roll(this.now());
    return this.used / this.limit;
  }
}

/**
 * Builds a quota of a shape, full.
 *
 * @param shape - shape and size
 * @param now - clock (default: the system clock)
 */
export function createQuota(shape: QuotaShape, now: Clock = systemClock): Quota {
  switch (shape.shape) {
    case "slidingWindow":
      return new SlidingWindow(shape.limit, shape.windowMs, now);
    case "fixedWindow":
      return new FixedWindow(shape.limit, shape.windowMs, now);
    case "tokenBucket":
      return new TokenBucket(shape.limit, shape.windowMs, shape.burst ?? shape.limit, now);
  }
}
