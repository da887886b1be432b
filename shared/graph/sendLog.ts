/**
 * What the write limiter sent and how Graph answered it, by send time: the measurements behind its
 * rate decisions. Times are the limiter's clock in milliseconds; a request is known by the time
 * its permits were granted (what `AdaptiveLimiter.acquire` returns, from {@link
 * SendLog.grantTime}): no two grants share a time, and no step opens at or before one granted
 * earlier, so a request's answer finds the step its writes were counted in. The clock ticks in
 * whole milliseconds (ten times coarser in a benchmark's scaled time) and several grants and
 * answers often fall in one tick; a step opened in the tick of an earlier grant used to take that
 * grant's answer, and the step it was counted in waited {@link STALE_STEP_MS} for it, holding
 * every later step's judgement back that long.
 *
 * Sending is cut into steps (about a round trip each, see `AdaptiveLimiter`): every write belongs
 * to the step it was sent in, and a step is finished once every write sent in it is answered (or
 * given back), a round trip or so after it closed. What Graph did with a finished step's writes
 * (accepted, refused with 429, failed) is the evidence of the rate the step was sent at.
 */

/** One step of sending: the writes sent in it, and how Graph answered them. */
export interface SendStep {
  /** When the step opened, and when the next one did (undefined while it is the current one). */
  from: number;
  to?: number;
  /** The pacing rate when the step opened, writes per millisecond (undefined before any). */
  rate?: number;
  /**
   * When the pacer would have let the next write go after the step's last one (its last grant
   * plus that grant's writes at the step's rate): where the step's sending ended, however long
   * it then stayed open because nothing more was sent (a chunk's end, writers waiting).
   */
  sentUntil?: number;
  /** Whether it was sent in slow start (it says nothing of the rate after). */
  slowStart: boolean;
  /** Writes sent (grants less refunds), answered, accepted, refused (429), failed (5xx, lost). */
  sent: number;
  answered: number;
  accepted: number;
  refused: number;
  unavailable: number;
}

/** What {@link SendLog.recentAnswers} counts. */
export interface RecentAnswers {
  answered: number;
  refused: number;
  refusedRequests: number;
  failed: number;
  failedRequests: number;
}

/**
 * A closed step still waiting for answers this long after it closed is taken as it is: a request
 * whose answer never came back (every request is released or refunded) must not stop the
 * limiter's learning.
 */
const STALE_STEP_MS = 120_000;

/** Answers kept for {@link SendLog.recentAnswers}: the latest this many, of this long. */
const KEEP_RECENT = 8;
const KEEP_RECENT_MS = 10_000;

/** The least time after `t` that is still a distinct number (a millisecond count of a date). */
function after(t: number): number {
  return t + Math.max(Number.MIN_VALUE, 2 * Math.abs(t) * Number.EPSILON);
}

/** Requests sent, answered and in flight, by send time and by step. */
export class SendLog {
  private inFlightCount = 0;
  /** When the latest permits were granted. */
  private lastGrantAt = Number.NEGATIVE_INFINITY;
  /** Permits in flight by the time they were granted. */
  private readonly inFlightSince = new Map<number, number>();
  /** Steps not finished yet, oldest first; the last is the current one. */
  private readonly steps: SendStep[] = [];
  /** Answers lately, by answer time: when their request left, writes answered, refused, failed. */
  private readonly recent: {
    at: number;
    sentAt: number;
    n: number;
    refused: number;
    failed: number;
  }[] = [];

  /** Permits in flight. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** The step writes are sent in now, if one is open. */
  get current(): SendStep | undefined {
    return this.steps[this.steps.length - 1];
  }

  /**
   * Closes the current step and opens the next.
   *
   * @param at - now.
   * @param rate - the pacing rate the step starts at.
   * @param slowStart - whether the limiter is in slow start.
   */
  openStep(at: number, rate: number | undefined, slowStart: boolean): void {
    // After every grant so far: those were counted in the steps before.
    const from = at > this.lastGrantAt ? at : after(this.lastGrantAt);
    const current = this.current;
    if (current) {
      current.to = from;
    }
    this.steps.push({
      from,
      rate,
      slowStart,
      sent: 0,
      answered: 0,
      accepted: 0,
      refused: 0,
      unavailable: 0,
    });
  }

  /**
   * The time to grant permits at, `now` unless permits were granted at `now` already: then just
   * after it, so that every request is known by a time of its own.
   */
  grantTime(now: number): number {
    return now > this.lastGrantAt ? now : after(this.lastGrantAt);
  }

  /** Permits granted at `at` (from {@link grantTime}). */
  granted(at: number, n: number): void {
    this.lastGrantAt = Math.max(this.lastGrantAt, at);
    this.inFlightCount += n;
    this.inFlightSince.set(at, (this.inFlightSince.get(at) ?? 0) + n);
    const step = this.stepAt(at);
    if (step) {
      step.sent += n;
      step.sentUntil = Math.max(step.sentUntil ?? at, at + (step.rate ? n / step.rate : 0));
    }
  }

  /**
   * Permits granted but not sent.
   *
   * @param at - when they were granted; the latest grant when unknown.
   */
  returned(n: number, at: number | undefined): void {
    const taken = this.untrack(n, at);
    const step = at !== undefined ? this.stepAt(at) : this.current;
    if (step) {
      step.sent = Math.max(step.answered, step.sent - taken);
    }
  }

  /**
   * The request granted at `at` is answered: `accepted` of its `n` writes went through,
   * `refused` came back 429, `unavailable` failed (5xx, no answer).
   *
   * @param now - when the answer came.
   */
  answered(
    now: number,
    n: number,
    at: number,
    outcome: { accepted: number; refused: number; unavailable: number },
  ): void {
    this.untrack(n, at);
    const step = this.stepAt(at);
    if (step) {
      step.answered += n;
      step.accepted += outcome.accepted;
      step.refused += outcome.refused;
      step.unavailable += outcome.unavailable;
    }
    this.recent.push({
      at: now,
      sentAt: at,
      n,
      refused: outcome.refused,
      failed: outcome.unavailable,
    });
    while (this.recent.length > KEEP_RECENT || (this.recent[0]?.at ?? now) < now - KEEP_RECENT_MS) {
      this.recent.shift();
    }
  }

  /**
   * Takes the steps whose writes are all answered, oldest first; a step that is still open or
   * waits for an answer holds back the ones after it, so steps come out in order.
   *
   * @param now - the time (a step waiting far too long is taken as it is).
   */
  takeFinished(now: number): SendStep[] {
    const finished: SendStep[] = [];
    while (this.steps.length > 1) {
      const step = this.steps[0] as SendStep;
      if (step.answered < step.sent && (step.to ?? now) > now - STALE_STEP_MS) {
        break;
      }
      finished.push(step);
      this.steps.shift();
    }
    return finished;
  }

  /**
   * Among the latest eight answers of the last ten seconds, those to requests sent after
   * `sentAfter`: writes answered, refused (429) and failed (5xx, lost), and the requests with a
   * refusal or a failure.
   */
  recentAnswers(sentAfter: number): RecentAnswers {
    const sum: RecentAnswers = {
      answered: 0,
      refused: 0,
      refusedRequests: 0,
      failed: 0,
      failedRequests: 0,
    };
    for (const a of this.recent) {
      if (a.sentAt > sentAfter) {
        sum.answered += a.n;
        sum.refused += a.refused;
        sum.refusedRequests += a.refused > 0 ? 1 : 0;
        sum.failed += a.failed;
        sum.failedRequests += a.failed > 0 ? 1 : 0;
      }
    }
    return sum;
  }

  /** Forgets the steps and the latest answers (another limiter's findings replace them). */
  forgetSteps(): void {
    this.steps.length = 0;
    this.recent.length = 0;
  }

  /** When the oldest request still in flight was sent (infinity when none is). */
  oldestInFlight(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const at of this.inFlightSince.keys()) {
      oldest = Math.min(oldest, at);
    }
    return oldest;
  }

  /** The step a request sent at `at` belongs to. */
  private stepAt(at: number): SendStep | undefined {
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const step = this.steps[i] as SendStep;
      if (step.from <= at) {
        return step;
      }
    }
    return undefined;
  }

  /** Forgets permits in flight, those granted at `at` first, then the oldest; how many it found. */
  private untrack(n: number, at: number | undefined): number {
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
    return n - left;
  }
}
