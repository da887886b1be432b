/**
 * What the write limiter sent and what Graph accepted, by send time: the measurements behind its
 * rate decisions. Times are the limiter's clock in milliseconds; a request is known by the time
 * its permits were granted (what `AdaptiveLimiter.acquire` returns).
 */

/** Grants and single-write answers kept for rates over the last round trip or two. */
const KEEP_RECENT_MS = 10_000;

/** Answers kept at most (about an hour at 20 writes a second in batches of four). */
const MAX_ANSWERS = 20_000;

/** Single-write answers needed before their accepted share counts. */
const MIN_SINGLES = 4;

/** Requests sent, answered and in flight, by send time. */
export class SendLog {
  private inFlightCount = 0;
  /** Permits in flight by the time they were granted. */
  private readonly inFlightSince = new Map<number, number>();
  /** Permits granted lately (refunds taken off). */
  private readonly grants: { at: number; n: number }[] = [];
  /** Answered requests by send time, with how many of their writes Graph accepted. */
  private readonly answers: { at: number; accepted: number }[] = [];
  /** Single-write requests in flight, and how the answered ones went (see sampledAcceptedRate). */
  private readonly singlesInFlight = new Set<number>();
  private readonly singles: { at: number; accepted: boolean }[] = [];

  /** Permits in flight. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Permits granted at `at`. */
  granted(at: number, n: number): void {
    this.inFlightCount += n;
    this.inFlightSince.set(at, (this.inFlightSince.get(at) ?? 0) + n);
    this.grants.push({ at, n });
    while ((this.grants[0]?.at ?? at) < at - KEEP_RECENT_MS) {
      this.grants.shift();
    }
  }

  /** The request granted at `at` leaves with a single write. */
  single(at: number): void {
    this.singlesInFlight.add(at);
  }

  /**
   * Permits granted but not sent.
   *
   * @param at - when they were granted; the latest grant when unknown.
   */
  returned(n: number, at: number | undefined): void {
    this.untrack(n, at);
    for (let i = this.grants.length - 1; i >= 0; i--) {
      const grant = this.grants[i] as { at: number; n: number };
      if (at === undefined || grant.at === at) {
        grant.n = Math.max(0, grant.n - n);
        break;
      }
    }
    if (at !== undefined && !this.inFlightSince.has(at)) {
      this.singlesInFlight.delete(at);
    }
  }

  /**
   * The request granted at `at` is answered.
   *
   * @param accepted - its writes Graph accepted.
   * @param decided - whether Graph decided on the quota (no 5xx, no lost answer).
   * @param keep - keep the answer for {@link accepted} (the limiter does from the first 429 on).
   * @returns false when too many answers had piled up and were dropped.
   */
  answered(n: number, at: number, accepted: number, decided: boolean, keep: boolean): boolean {
    this.untrack(n, at);
    if (n === 1 && this.singlesInFlight.delete(at) && decided) {
      this.singles.push({ at, accepted: accepted > 0 });
      while ((this.singles[0]?.at ?? at) < at - KEEP_RECENT_MS) {
        this.singles.shift();
      }
    }
    if (!keep) {
      return true;
    }
    this.answers.push({ at, accepted });
    if (this.answers.length <= MAX_ANSWERS) {
      return true;
    }
    this.answers.length = 0;
    return false;
  }

  /** Drops the answers of requests sent before `at`. */
  forgetAnswersBefore(at: number): void {
    const kept = this.answers.filter((a) => a.at >= at);
    this.answers.length = 0;
    this.answers.push(...kept);
  }

  /** When the oldest request still in flight was sent (infinity when none is). */
  oldestInFlight(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const at of this.inFlightSince.keys()) {
      oldest = Math.min(oldest, at);
    }
    return oldest;
  }

  /** Whether grants from `from` on are still kept. */
  covers(from: number): boolean {
    const oldest = this.grants[0]?.at;
    return oldest !== undefined && oldest <= from;
  }

  /** Writes sent in [from, to] per millisecond (from grants kept, see {@link covers}). */
  sentRate(from: number, to: number): number {
    let sent = 0;
    for (const grant of this.grants) {
      if (grant.at >= from && grant.at <= to) {
        sent += grant.n;
      }
    }
    return sent / Math.max(1, to - from);
  }

  /**
   * Writes Graph accepted among those sent in [from, to).
   *
   * @param countInFlight - count the writes still in flight as accepted (an upper bound).
   */
  accepted(from: number, to: number, countInFlight: boolean): number {
    let accepted = 0;
    for (const answer of this.answers) {
      if (answer.at >= from && answer.at < to) {
        accepted += answer.accepted;
      }
    }
    if (countInFlight) {
      for (const [at, n] of this.inFlightSince) {
        if (at >= from && at < to) {
          accepted += n;
        }
      }
    }
    return accepted;
  }

  /**
   * The rate Graph accepted writes sent in [from, to) at, from the single-write requests among
   * them: the share of those it accepted times the rate writes were sent at. A refused single
   * write is answered at once, an accepted one only after the create latency, so one still in
   * flight when `decidedBefore` has passed was accepted: the share is known long before a round
   * trip of batches has come back, since a partly refused batch answers only when its slowest item
   * is done. Undefined with fewer than four singles, or when the grants of the interval are gone.
   *
   * @param decidedBefore - singles sent before this and still in flight count as accepted.
   */
  sampledAcceptedRate(from: number, to: number, decidedBefore: number): number | undefined {
    if (!this.covers(from)) {
      return undefined;
    }
    let sampled = 0;
    let took = 0;
    for (const single of this.singles) {
      if (single.at >= from && single.at < to) {
        sampled++;
        took += single.accepted ? 1 : 0;
      }
    }
    for (const at of this.singlesInFlight) {
      if (at >= from && at < to && at < decidedBefore) {
        sampled++;
        took++;
      }
    }
    if (sampled < MIN_SINGLES) {
      return undefined;
    }
    let sent = 0;
    for (const grant of this.grants) {
      if (grant.at >= from && grant.at < to) {
        sent += grant.n;
      }
    }
    return ((took + 0.5) / (sampled + 1)) * (sent / Math.max(1, to - from));
  }

  /** Forgets permits in flight, those granted at `at` first, then the oldest. */
  private untrack(n: number, at: number | undefined): void {
    this.inFlightCount = Math.max(0, this.inFlightCount - n);
    let left = n;
    const take = (since: number): void => {
      const held = this.inFlightSince.get(since) ?? 0;
      const taken = Math.min(held, left);
      left -= taken;
      if (held - taken > 0) {
        this.inFlightSince.set(since, held - taken);
      } else {
        this.inFlightSince.delete(since);
      }
    };
    if (at !== undefined) {
      take(at);
    }
    for (const since of this.inFlightSince.keys()) {
      if (left <= 0) {
        break;
      }
      take(since);
    }
  }
}
