/**
 * Token buckets for the documented Graph quotas, in real (scaled) time.
 */

/** A continuously refilled token bucket: `capacity` tokens per `windowMs`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param capacity - tokens per window (also the burst size)
   * @param windowMs - window in real milliseconds
   */
  constructor(
    private readonly capacity: number,
    private readonly windowMs: number,
  ) {
    this.tokens = capacity;
    this.last = Date.now();
  }

  private refill(): void {
    const now = Date.now();
    const elapsed = now - this.last;
    this.last = now;
    if (elapsed > 0) {
      this.tokens = Math.min(
        this.capacity,
        this.tokens + (elapsed * this.capacity) / this.windowMs,
      );
    }
  }

  /**
   * Milliseconds until `cost` tokens are available; 0 when they are now.
   *
   * @param cost - tokens needed
   */
  waitFor(cost: number): number {
    this.refill();
    const needed = Math.min(cost, this.capacity) - this.tokens;
    return needed <= 0 ? 0 : (needed * this.windowMs) / this.capacity;
  }

  /**
   * Takes tokens (call after `waitFor` said 0).
   *
   * @param cost - tokens to take
   */
  take(cost: number): void {
    this.tokens -= Math.min(cost, this.capacity);
  }

  /** Share of the quota in use, 0..1. */
  usage(): number {
    this.refill();
    return 1 - this.tokens / this.capacity;
  }
}
