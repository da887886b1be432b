/**
 * An adaptive limit for Graph writes, one per app+tenant per process, shared by every
 * provisioning activity that runs in the process. It bounds two things:
 *
 * - the rate at which requests leave (a pacer). Graph's quotas count requests over time (token
 *   buckets, windows), so the rate is what must match the quota;
 * - the requests in flight (a `$batch` of 20 writes holds 20 permits): a window that doubles per
 *   round trip in slow start, is cut on a 429 once per round trip and grows by about one per round
 *   trip; it is never narrower than two round trips at the rate, so it only bounds what a latency
 *   spike can pile up.
 *
 * The rate finds the quota from 429 and `Retry-After` alone: Graph most likely sends no usage
 * header for phone-method writes, and their quota may be anywhere from 0.5 to 20 writes a second.
 *
 * - Slow start doubles the rate every second (up to {@link SLOW_START_MAX}) until the first 429.
 * - A 429 pauses every caller for its `Retry-After` (counted from Graph's refusal), since the quota
 *   is shared. Once per round trip it also takes the rate the request was sent at as the ceiling
 *   and cuts the rate below it. A single write now and then, between the batches, makes the first
 *   refusal come back at once (see {@link AdaptiveLimiter.sendSize}).
 *   When the writes Graph accepted since the previous 429 came at a far lower rate than was sent
 *   all along, a bucket's savings had hidden the ceiling (as after the documented 3,000-write
 *   burst): that accepted rate is the ceiling then.
 * - The rate climbs back to just below the ceiling and holds there. Only when enough writes went
 *   through since the last 429 for one more to keep within the throttling budget, and enough time
 *   for its `Retry-After` pause to be worth it, does it probe above: slowly at first, faster while
 *   Graph keeps accepting, so that a ceiling that rose is found again. A 429 while holding lowers
 *   the ceiling, further with each one in a row; a 429 while probing puts it between the rate
 *   that held and the rate of the 429.
 * - 5xx answers and lost requests ease the rate by the share that failed: Graph struggles, which
 *   says nothing about the quota.
 *
 * When Graph does send `x-ms-throttle-limit-percentage` (documented for directory writes, above
 * 80% of a quota), it only adds: a first reading ends slow start, a full reading stops a probe
 * before it meets a 429, a reading over 100% eases the rate, and no reading for a round trip
 * after one was seen means room, so a probe need not wait for its time.
 */
import { SendLog } from "./sendLog.js";

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
  /** Time and timers (default: the system's); a simulation passes its own. */
  clock?: LimiterClock;
  /** The time alone, when only that differs from {@link clock} (tests). */
  now?: () => number;
}

/** Time as the limiter sees it: the system's, or a simulated one. */
export interface LimiterClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

const systemClock: LimiterClock = {
  // Looked up at each call, so that test fake timers installed later still apply.
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** What one finished request tells the limiter. */
export interface LimiterFeedback {
  /** 429 answers among the permits being released: the quota is reached. */
  throttled?: number;
  /**
   * 5xx answers, timeouts and requests that got no answer among the permits being released:
   * Graph struggles, which eases the rate and says nothing about the quota.
   */
  unavailable?: number;
  /** Longest `Retry-After` seen, in milliseconds. */
  retryAfterMs?: number;
  /** Highest `x-ms-throttle-limit-percentage` seen (0.8 to 1.8), when Graph sent one. */
  limitPercentage?: number;
}

/**
 * What a limiter learned of the quota, for a limiter in another process to start from (see
 * {@link AdaptiveLimiter.warmStart}): provisioning moves from instance to instance, the quota
 * does not.
 */
export interface LimiterSnapshot {
  /** The pacing rate, requests per second. */
  ratePerSecond: number;
  /** Where the quota was placed, requests per second. */
  ceilingPerSecond?: number;
  /** Smoothed round trip, milliseconds. */
  roundTripMs: number;
}

/** A snapshot for status and benchmarks. */
export interface LimiterStats {
  /** The window: requests in flight allowed. */
  limit: number;
  inFlight: number;
  /** 429 answers so far. */
  throttled: number;
  completed: number;
  pausedForMs: number;
  slowStart: boolean;
  /** The pacing rate in requests per second, absent before the first round trip. */
  ratePerSecond?: number;
  /** Where the limiter places the quota, in requests per second, once it has an idea. */
  ceilingPerSecond?: number;
  /** Smoothed round trip in milliseconds, absent before the first answer. */
  roundTripMs?: number;
  /** The last `x-ms-throttle-limit-percentage` seen, 0 when the last round trip had none. */
  usage: number;
}

/** Share of the ceiling the rate holds at: close, with room for the requests' jitter. */
const HOLD_SHARE = 0.98;

/** Rate after a 429, as a share of the rate the request was sent at. */
const THROTTLE_CUT = 0.9;

/** Share of the gap to the holding rate closed per round trip while climbing back. */
const CLIMB = 0.5;

/** Slow start doubles the rate this often (besides the window's doubling per round trip). */
const SLOW_START_DOUBLING_MS = 1_000;

/**
 * Slow start stops doubling at this rate (requests per millisecond: 40 a second), twice the
 * documented sustained write quota of an app in a tenant (3,000 per 150 s). A bucket's savings
 * (3,000 writes at first) let the rate run on unseen until they are spent, and Graph tells of
 * that a round trip late (a partly refused `$batch` answers when its slowest item is done): every
 * write sent above the quota in that round trip comes back 429. Savings are used up as well at 40
 * a second as at 160; a quota above it is still found, by probing.
 */
const SLOW_START_MAX = 40 / 1000;

/**
 * Rate after the 429 that ends slow start, and the ceiling assumed then, as shares of the rate it
 * came at: the rate was doubling, so the quota lies somewhere in its last doubling.
 */
const SLOW_START_CUT = 0.5;
const SLOW_START_CEILING = 0.9;

/** Slow start ends at this share of its rate on a first usage reading (no 429 yet). */
const SLOW_START_USAGE_CUT = 0.25;

/** Window factor on 5xx answers or lost requests, once per round trip. */
const UNAVAILABLE_WINDOW_CUT = 0.9;

/** The most 5xx answers ease the rate in a round trip (when all requests failed). */
const MAX_UNAVAILABLE_EASE = 0.5;

/** Probing grows the rate by this share in its first step, doubling each step ... */
const PROBE_FIRST_STEP = 0.005;
/** ... up to this share per step. */
const PROBE_MAX_STEP = 0.05;

/**
 * A probing step takes a round trip and at least this many accepted writes: a small quota's
 * savings would hide a probe that grew every round trip until it had run far past the ceiling.
 */
const PROBE_STEP_WRITES = 10;

/** A probe steps up only while the rate is at most this multiple of what the writers send. */
const PROBE_HEADROOM = 1.25;

/** A probe goes at most this far above the rate that held before it. */
const PROBE_REACH = 2;

/**
 * Time after a 429 before the next probe: each 429 costs a `Retry-After` pause (at least a
 * second), so probing more often would cost more than holding a little below the ceiling.
 */
const PROBE_INTERVAL_MS = 20_000;

/**
 * Writes accepted per write a probe is expected to get refused before it may start: about 1% of
 * the requests, well within a 2% budget.
 */
const PROBE_BUDGET = 100;

/** Probes that keep finding the same ceiling come at most this many times further apart. */
const MAX_PROBE_SPACING = 2;

/** The most a 429 that came while holding lowers the ceiling below its rate (1%, 3%, 7% ...). */
const MAX_STRIKE_CUT = 0.2;

/**
 * A 429 at more than this multiple of the rate Graph accepted since the previous 429 was sent
 * on a bucket's savings: the accepted rate is the ceiling.
 */
const SAVINGS_FACTOR = 2;

/**
 * The same over a run of 429s that came while holding: each came at a rate thought safe, so the
 * rate was above the quota all along, and a smaller gap tells.
 */
const STRIKES_SAVINGS_FACTOR = 1.15;

/** Writes accepted between two 429s needed before their rate counts. */
const MIN_SAMPLE = 3;

/** Between two 429s at least this far apart, the accepted rate is a floor for the ceiling. */
const FLOOR_INTERVAL_MS = 30_000;

/** Answers kept from before the last mark, which a throttled answer arriving late may move. */
const KEEP_BEFORE_MARK_MS = 60_000;

/**
 * A request of a single write leaves at least this often, or eight times per round trip when
 * that is rarer (see {@link AdaptiveLimiter.sendSize}).
 */
const SINGLE_EVERY_MS = 250;
const SINGLES_PER_ROUND_TRIP = 8;

/** A batch holds what the rate sends in this share of a round trip (at least 100 ms). */
const REQUESTS_PER_ROUND_TRIP = 16;

/**
 * Usage readings at or above this mean the quota is full: a probe stops. A window quota read
 * request by request shows 95% well below its rate, so only a full reading counts.
 */
const USAGE_FULL = 1;

type Phase = "climb" | "hold" | "probe";

/** An interval between two 429s whose accepted rate is still to be measured. */
interface Interval {
  from: number;
  to: number;
  /** The lowest rate requests were sent at in it. */
  lowestRate: number;
}

/** An adaptive limit on requests in flight and on the rate they are sent at. */
export class AdaptiveLimiter {
  private limitValue: number;
  private readonly log = new SendLog();
  private pausedUntil = 0;
  /** When the last `Retry-After` pause that held a request back ended. */
  private pauseEndedAt = Number.NEGATIVE_INFINITY;
  private slowStart = true;
  /** When slow start last grew the rate. */
  private grownAt = 0;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private throttledCount = 0;
  private completedCount = 0;
  private readonly waiters: { n: number; resolve: () => void }[] = [];
  private timer?: unknown;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly min: number;
  private readonly max: number;
  private readonly decrease: number;
  private readonly now: () => number;
  /** The limiter's time and timers; whoever waits alongside it (the writer's backoff) uses them too. */
  readonly clock: LimiterClock;
  /** Requests per millisecond; undefined until the first round trip is measured. */
  private rate?: number;
  private srtt?: number;
  private minRtt?: number;
  /** The shortest time from sending a request to its answer, refused ones included. */
  private fastestAnswer = Number.POSITIVE_INFINITY;
  private nextSendAt = Number.NEGATIVE_INFINITY;
  private lastSingleAt = Number.NEGATIVE_INFINITY;
  /** Requests sent after this instant reflect the last rate decision. */
  private lastDecisionAt = Number.NEGATIVE_INFINITY;
  /** Requests sent after this instant reflect the last cut of the rate on a 429 ... */
  private lastCutAt = Number.NEGATIVE_INFINITY;
  /** ... and the one before: throttled answers sent between the two belong to the last. */
  private cutBefore = Number.NEGATIVE_INFINITY;
  private stepUsage = 0;
  private stepThrottled = 0;
  private stepUnavailable = 0;
  private stepAnswered = 0;
  private lastUsage = 0;
  private headerSeen = false;
  private phase: Phase = "climb";
  /** Requests per millisecond where the quota is taken to be. */
  private ceiling?: number;
  /** The highest rate that held long without a 429 since the quota last shrank. */
  private floor?: number;
  /** 429s in a row that came while holding, not probing. */
  private strikes = 0;
  /** Probing steps taken, and writes accepted since the last. */
  private probeSteps = 0;
  private acceptedSinceStep = 0;
  /** The ceiling when the last probe began, and how far apart probes are (1, 2, ...). */
  private probedAt?: number;
  private probeSpacing = 1;
  /** Writes accepted, and 429s, since the last 429 that cut the rate. */
  private acceptedSinceCut = 0;
  private throttledSinceCut = 0;
  /** Send time of the first throttled request of the last 429 episode. */
  private lastMark?: number;
  /** The lowest rate set since the last mark. */
  private lowestRateSinceMark = Number.POSITIVE_INFINITY;
  /** Where the current run of strikes began, and the lowest rate set since. */
  private runFrom?: number;
  private lowestRateSinceRun = Number.POSITIVE_INFINITY;
  /** The interval between the last two 429 episodes, until every request in it is answered. */
  private pendingInterval?: Interval;

  constructor(options: AdaptiveLimiterOptions = {}) {
    this.min = options.min ?? 1;
    this.max = options.max ?? 400;
    this.decrease = options.decrease ?? 0.7;
    this.limitValue = Math.min(this.max, Math.max(this.min, options.initial ?? 4));
    this.clock = options.clock ?? systemClock;
    this.now = options.now ?? (() => this.clock.now());
  }

  /** The current window (requests in flight). */
  get limit(): number {
    return Math.floor(this.limitValue);
  }

  /**
   * How many writes to put in a request: what the rate sends in a sixteenth of a round trip (at
   * least a tenth of a second), so that a window quota meets small steps, a throttled request
   * costs few writes, and a latency spike does not need more requests than a writer runs; the
   * window before the first round trip.
   *
   * @param max - the most one request may hold (20 for `$batch`).
   */
  batchSize(max: number): number {
    const perRequest =
      this.rate !== undefined && this.srtt !== undefined
        ? Math.floor(this.rate * Math.max(100, this.srtt / REQUESTS_PER_ROUND_TRIP))
        : this.limit;
    return Math.max(1, Math.min(max, perRequest));
  }

  /**
   * How many writes to put in the request about to leave (call it after {@link acquire}): the
   * {@link batchSize}, but, once the first answers have set a rate, a single write every quarter
   * of a second (an eighth of a round trip at most). Graph answers a `$batch` when its slowest item is done, so a batch that is only
   * partly refused tells of the 429 a round trip late, and a quota that keeps refilling a little
   * refuses most batches only partly. A refused single write comes back at once.
   *
   * @param max - the most one request may hold (20 for `$batch`).
   */
  sendSize(max: number): number {
    const size = this.batchSize(max);
    const now = this.now();
    const every = Math.max(SINGLE_EVERY_MS, (this.srtt ?? 0) / SINGLES_PER_ROUND_TRIP);
    if (size > 1 && (this.rate === undefined || now - this.lastSingleAt < every)) {
      // Before the first answer the window alone paces, and there is nothing to compare with.
      return size;
    }
    this.lastSingleAt = now;
    this.log.single(now);
    return 1;
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
      return this.grant(n);
    }
    return new Promise<number>((resolve) => {
      this.waiters.push({ n, resolve: () => resolve(this.grant(n)) });
      this.schedule();
    });
  }

  /**
   * Returns permits and learns from how the request went.
   *
   * @param n - permits returned.
   * @param startedAt - what {@link acquire} returned.
   * @param feedback - throttling seen in the answer.
   */
  release(n: number, startedAt: number, feedback: LimiterFeedback = {}): void {
    const now = this.now();
    const throttled = feedback.throttled ?? 0;
    const unavailable = feedback.unavailable ?? 0;
    const usage = feedback.limitPercentage ?? 0;
    const accepted = Math.max(0, n - throttled - unavailable);
    const kept = this.log.answered(
      n,
      startedAt,
      accepted,
      unavailable === 0,
      this.lastMark !== undefined,
    );
    if (!kept) {
      // No 429 for a long while: the next one starts a fresh measurement.
      this.lastMark = undefined;
    }
    this.measure(now, n, startedAt, accepted, throttled, unavailable, usage);
    if ((throttled > 0 || unavailable > 0) && (feedback.retryAfterMs ?? 0) > 0) {
      // Graph refuses a `$batch` item when the batch arrives but answers it with the batch, when
      // the slowest item is done: its Retry-After runs from the refusal, which came no later than
      // the fastest answer Graph ever gave after a request was sent.
      const refusedBy = Math.min(now, startedAt + this.fastestAnswer);
      this.pausedUntil = Math.max(this.pausedUntil, refusedBy + (feedback.retryAfterMs ?? 0));
    }
    this.adjustWindow(n, startedAt, now, throttled, unavailable, usage);
    if (throttled > 0) {
      this.onThrottled(startedAt, now, throttled);
    }
    if (this.slowStart) {
      this.growSlowStart(now, unavailable, usage);
    } else if (startedAt >= this.lastDecisionAt) {
      this.decide(now);
    }
    this.measureAcceptedRate();
    this.drain();
  }

  /**
   * Gives back permits granted by {@link acquire} but not used (the work ran out while waiting,
   * or the request left smaller), with the pacing time they were charged.
   *
   * @param n - permits not used.
   * @param startedAt - what {@link acquire} returned for them.
   */
  refund(n: number, startedAt?: number): void {
    if (n <= 0) {
      return;
    }
    this.log.returned(n, startedAt);
    if (this.rate !== undefined) {
      this.nextSendAt = Math.max(this.now(), this.nextSendAt - n / this.rate);
    }
    this.measureAcceptedRate();
    this.drain();
  }

  /** What this limiter learned, once it left slow start; see {@link LimiterSnapshot}. */
  snapshot(): LimiterSnapshot | undefined {
    if (this.slowStart || this.rate === undefined || this.srtt === undefined) {
      return undefined;
    }
    return {
      ratePerSecond: this.rate * 1000,
      ...(this.ceiling !== undefined ? { ceilingPerSecond: this.ceiling * 1000 } : {}),
      roundTripMs: this.srtt,
    };
  }

  /**
   * Starts where another limiter left off instead of in slow start: at its rate (below its
   * ceiling), holding, with a probe only after the usual wait, as after a 429. Only a limiter that
   * has sent nothing takes it: one that has, knows better; unless the caller knows the snapshot
   * is newer than what this limiter found (`replace`), which it then forgets. Never with a request
   * in flight: its answer would be judged against the other limiter's rate.
   *
   * @param learned - another limiter's {@link snapshot}.
   * @param options - `replace`: take it even after sending.
   * @returns whether the snapshot was taken.
   */
  warmStart(learned: LimiterSnapshot, options: { replace?: boolean } = {}): boolean {
    const fresh = this.slowStart && this.completedCount === 0;
    if ((!fresh && options.replace !== true) || this.log.inFlight > 0) {
      return false;
    }
    const now = this.now();
    if (!fresh) {
      // Its own findings (floor, 429 episodes, probes, the round trip's signals) are older.
      this.floor = undefined;
      this.strikes = 0;
      this.lastMark = undefined;
      this.runFrom = undefined;
      this.pendingInterval = undefined;
      this.lowestRateSinceMark = Number.POSITIVE_INFINITY;
      this.lowestRateSinceRun = Number.POSITIVE_INFINITY;
      this.probeSteps = 0;
      this.probedAt = undefined;
      this.probeSpacing = 1;
      this.acceptedSinceStep = 0;
      this.acceptedSinceCut = 0;
      this.throttledSinceCut = 0;
      this.closeStep(now);
    }
    this.slowStart = false;
    this.srtt = learned.roundTripMs;
    this.minRtt = learned.roundTripMs;
    this.ceiling =
      learned.ceilingPerSecond !== undefined ? learned.ceilingPerSecond / 1000 : undefined;
    const rate = learned.ratePerSecond / 1000;
    this.setRate(this.ceiling !== undefined ? Math.min(rate, this.ceiling * HOLD_SHARE) : rate);
    this.limitValue = this.window();
    this.phase = "hold";
    this.lastCutAt = now;
    this.lastDecisionAt = now;
    this.grownAt = now;
    return true;
  }

  /** A snapshot for status lines and benchmarks. */
  stats(): LimiterStats {
    return {
      limit: this.limit,
      inFlight: this.log.inFlight,
      throttled: this.throttledCount,
      completed: this.completedCount,
      pausedForMs: Math.max(0, this.pausedUntil - this.now()),
      slowStart: this.slowStart,
      ...(this.rate !== undefined ? { ratePerSecond: this.rate * 1000 } : {}),
      ...(this.ceiling !== undefined ? { ceilingPerSecond: this.ceiling * 1000 } : {}),
      ...(this.srtt !== undefined ? { roundTripMs: this.srtt } : {}),
      usage: this.lastUsage,
    };
  }

  /** Counts, round trips and the signals of the current step (one round trip). */
  private measure(
    now: number,
    n: number,
    startedAt: number,
    accepted: number,
    throttled: number,
    unavailable: number,
    usage: number,
  ): void {
    this.throttledCount += throttled;
    this.completedCount += n;
    this.acceptedSinceCut += accepted;
    this.acceptedSinceStep += accepted;
    this.throttledSinceCut += throttled;
    const sample = Math.max(1, now - startedAt);
    this.fastestAnswer = Math.min(this.fastestAnswer, sample);
    if (accepted > 0) {
      // A batch is answered when its slowest processed item is; a wholly refused one comes back
      // at once and would make the round trip look short.
      this.srtt = this.srtt === undefined ? sample : this.srtt * 0.875 + sample * 0.125;
      this.minRtt = Math.min(this.minRtt ?? sample, sample);
    }
    if (usage > 0) {
      this.headerSeen = true;
    }
    this.stepUsage = Math.max(this.stepUsage, usage);
    this.stepThrottled += throttled;
    this.stepUnavailable += unavailable;
    this.stepAnswered += n;
  }

  /**
   * The window (requests in flight): AIMD, cut once per round trip on a 429, gently on a 5xx or
   * a reading over the limit, doubled per round trip in slow start.
   */
  private adjustWindow(
    n: number,
    startedAt: number,
    now: number,
    throttled: number,
    unavailable: number,
    usage: number,
  ): void {
    if (throttled > 0 || unavailable > 0) {
      if (startedAt > this.lastDecreaseAt) {
        const factor = throttled > 0 ? this.decrease : UNAVAILABLE_WINDOW_CUT;
        this.limitValue = Math.max(this.min, this.limitValue * factor);
        this.lastDecreaseAt = now;
      }
    } else if (usage >= USAGE_FULL) {
      if (usage > 1 && startedAt > this.lastDecreaseAt) {
        this.limitValue = Math.max(this.min, this.limitValue * 0.95);
        this.lastDecreaseAt = now;
      }
    } else if (this.slowStart && usage === 0) {
      this.limitValue = Math.min(this.max, this.limitValue + n);
    } else if (!this.slowStart) {
      this.limitValue = Math.min(this.max, this.limitValue + n / Math.max(1, this.limitValue));
    }
  }

  /**
   * Slow start: the rate is at least the window per shortest round trip seen (the first ones
   * carry connection set-up) and doubles every second besides, since with Graph's latency of
   * seconds doubling per round trip alone would take half a minute to reach 20 writes a second.
   * A usage reading ends it, and so does {@link SLOW_START_MAX}; a 5xx holds it back.
   */
  private growSlowStart(now: number, unavailable: number, usage: number): void {
    if (unavailable > 0) {
      return;
    }
    if (usage > 0) {
      this.leaveSlowStart(SLOW_START_USAGE_CUT);
      this.closeStep(now);
      return;
    }
    if (this.minRtt === undefined) {
      return;
    }
    const grown =
      this.rate === undefined
        ? 0
        : this.rate * 2 ** ((now - this.grownAt) / SLOW_START_DOUBLING_MS);
    this.grownAt = now;
    this.setRate(Math.max(this.limitValue / this.minRtt, grown));
    if ((this.rate ?? 0) >= SLOW_START_MAX) {
      // Far enough: beyond, only probes go, after a pause as after a 429.
      this.setRate(SLOW_START_MAX);
      this.slowStart = false;
      this.ceiling = SLOW_START_MAX / HOLD_SHARE;
      this.phase = "hold";
      this.lastCutAt = now;
      this.closeStep(now);
    }
  }

  /** Leaves slow start on a usage reading: at a share of its rate, below the rate it reached. */
  private leaveSlowStart(share: number): void {
    this.slowStart = false;
    // Without a round trip yet, a long one is assumed until the next answer tells.
    const reached = this.rate ?? this.limitValue / (this.srtt ?? 1_000);
    this.ceiling = reached;
    this.setRate(reached * share);
    this.phase = "climb";
  }

  /**
   * A 429: once per round trip (answers to requests sent before the last cut say nothing new),
   * the rate it was sent at places the ceiling and the rate drops below it.
   */
  private onThrottled(startedAt: number, now: number, throttled: number): void {
    if (startedAt <= this.lastCutAt) {
      // The same episode: a request sent before the cut and answered late started it earlier.
      if (this.lastMark !== undefined && startedAt < this.lastMark && startedAt > this.cutBefore) {
        this.lastMark = startedAt;
        if (this.pendingInterval) {
          this.pendingInterval.to = Math.min(this.pendingInterval.to, startedAt);
        }
      }
      return;
    }
    if (this.lastMark !== undefined && startedAt <= this.lastCutAt + (this.srtt ?? 1_000)) {
      // Within a round trip of the cut the quota still holds what was sent before it (a window
      // slides): the same episode, unless Graph accepted far less than was sent.
      this.checkSavings(
        { from: this.lastMark, to: startedAt, lowestRate: this.lowestRateSinceMark },
        false,
      );
      return;
    }
    // The pacer's rate; in slow start the window held requests back, so what actually left.
    const rateAt =
      !this.slowStart && this.rate !== undefined ? this.rate : this.sentRate(startedAt);
    const aboveFloor = this.floor !== undefined && rateAt > this.floor;
    this.strikes = this.phase === "probe" || aboveFloor ? 0 : this.strikes + 1;
    if (this.lastMark !== undefined && !this.slowStart) {
      // Measured since the first of a run of strikes, for more writes to count.
      const fromRun = this.strikes >= 2 && this.runFrom !== undefined;
      this.pendingInterval = {
        from: fromRun ? (this.runFrom as number) : this.lastMark,
        to: startedAt,
        lowestRate: Math.min(fromRun ? this.lowestRateSinceRun : this.lowestRateSinceMark, rateAt),
      };
    }
    if (this.strikes <= 1) {
      this.runFrom = startedAt;
      this.lowestRateSinceRun = Number.POSITIVE_INFINITY;
    }
    this.cutBefore = this.lastCutAt;
    this.lastMark = startedAt;
    this.lastCutAt = now;
    this.acceptedSinceCut = 0;
    this.throttledSinceCut = throttled;
    const wasSlowStart = this.slowStart;
    this.slowStart = false;
    this.ceiling = this.placeCeiling(rateAt, wasSlowStart, aboveFloor);
    const cut = wasSlowStart ? SLOW_START_CUT : THROTTLE_CUT;
    this.setRate(Math.min(rateAt * cut, this.ceiling * HOLD_SHARE));
    this.phase = "climb";
    this.lowestRateSinceMark = this.rate ?? Number.POSITIVE_INFINITY;
    if (this.pendingInterval) {
      // What is answered so far, with what is still in flight counted as accepted, bounds the
      // accepted rate from above: enough to act on at once when the rate was far above it.
      this.checkSavings(this.pendingInterval, false);
    }
    this.closeStep(now);
  }

  /** Where a 429 at `rateAt` places the quota. */
  private placeCeiling(rateAt: number, wasSlowStart: boolean, aboveFloor: boolean): number {
    if (wasSlowStart) {
      // The rate was doubling: the quota lies somewhere in its last doubling.
      return rateAt * SLOW_START_CEILING;
    }
    if (aboveFloor) {
      // A probe above a rate that held for a while: the ceiling lies between. The probe may have
      // run far past it on a bucket's savings, so halve the gap rather than trust the 429's rate.
      return ((this.floor as number) + rateAt) / 2;
    }
    // While holding, or at or below a rate that held before (the quota shrank): each strike in a
    // row lowers the ceiling further below the rate it came at.
    this.floor = undefined;
    return rateAt * (1 - Math.min(MAX_STRIKE_CUT, 0.01 * (2 ** this.strikes - 1)));
  }

  /** Once every request sent between the last two 429 episodes is answered: checkSavings. */
  private measureAcceptedRate(): void {
    const pending = this.pendingInterval;
    if (!pending || this.log.oldestInFlight() < pending.to) {
      return;
    }
    this.pendingInterval = undefined;
    this.checkSavings(pending, true);
    // A request answered late may still move the next mark back a little.
    this.log.forgetAnswersBefore(
      Math.min(pending.to, this.runFrom ?? pending.to) - KEEP_BEFORE_MARK_MS,
    );
  }

  /**
   * The rate Graph accepted between two 429s. When even the lowest rate sent at in that time was
   * far above it, Graph accepted less than was sent all along: a bucket, empty at both ends, that
   * refills at that rate, whose savings carried the rate past it unseen. The accepted rate is the
   * ceiling then. Otherwise it says little: a window quota loses what is not used, so the
   * accepted rate follows what was sent; over a long stretch it is still a floor.
   *
   * @param final - whether every request sent in the interval is answered; if not, those in
   *   flight count as accepted (an upper bound), and single writes give a quicker estimate.
   */
  private checkSavings(interval: Interval, final: boolean): void {
    const accepted = this.log.accepted(interval.from, interval.to, !final);
    let acceptedRate = accepted / Math.max(1, interval.to - interval.from);
    if (!final && Number.isFinite(this.fastestAnswer)) {
      const decidedBefore = this.now() - 3 * this.fastestAnswer;
      const sampled = this.log.sampledAcceptedRate(interval.from, interval.to, decidedBefore);
      acceptedRate = Math.min(acceptedRate, sampled ?? acceptedRate);
    }
    if (final && interval.to - interval.from >= FLOOR_INTERVAL_MS && acceptedRate > 0) {
      // Over a long stretch between two 429s Graph accepted this much: the quota allows at least
      // about that (a bucket exactly that, if it never overflowed).
      this.floor = Math.max(this.floor ?? 0, acceptedRate);
    }
    const factor = this.strikes >= 2 ? STRIKES_SAVINGS_FACTOR : SAVINGS_FACTOR;
    // The pacer's rate is only what could leave: a Retry-After pause or the writers may have held
    // requests back. Unless Graph also refused most of what did leave, it took what came, and the
    // quota (a window, say) may be far above the accepted rate.
    const sentRate = this.log.covers(interval.from)
      ? this.log.sentRate(interval.from, interval.to)
      : interval.lowestRate;
    if (
      accepted >= MIN_SAMPLE &&
      acceptedRate > 0 &&
      Math.min(interval.lowestRate, sentRate) > factor * acceptedRate
    ) {
      this.ceiling = Math.min(this.ceiling ?? acceptedRate, acceptedRate);
      if (this.rate !== undefined && this.rate > THROTTLE_CUT * acceptedRate) {
        this.setRate(THROTTLE_CUT * acceptedRate);
        this.phase = "climb";
      }
    }
  }

  /**
   * The rate requests left at over the round trip before `at` (in slow start the window holds
   * them back behind the pacer), in requests per millisecond. Time spent in a `Retry-After`
   * pause does not count.
   */
  private sentRate(at: number): number {
    const pacer = this.rate ?? this.limitValue / (this.minRtt ?? 1_000);
    const from = Math.max(at - Math.max(1_000, this.srtt ?? 1_000), this.pauseEndedAt);
    if (at - from < 250 || this.minRtt === undefined || !this.log.covers(from)) {
      // Too short a stretch to measure, or nothing answered yet to pace by.
      return pacer;
    }
    return Math.min(pacer, this.log.sentRate(from, at));
  }

  /** Writes per millisecond that left over the last round trip (at least a second), if known. */
  private recentlySent(now: number): number | undefined {
    const from = now - Math.max(1_000, this.srtt ?? 1_000);
    return this.log.covers(from) ? this.log.sentRate(from, now) : undefined;
  }

  /**
   * One rate decision per round trip outside slow start: ease on failures, climb back to just
   * below the ceiling, hold there, and probe above it when {@link mayProbe} allows.
   */
  private decide(now: number): void {
    if (this.rate === undefined || this.stepThrottled > 0) {
      // A 429 in this round trip already cut the rate.
      this.closeStep(now);
      return;
    }
    const usage = this.stepUsage;
    const ceiling = this.ceiling ?? this.rate;
    const target = HOLD_SHARE * ceiling;
    if (this.stepUnavailable > 0) {
      // 5xx answers or lost requests: ease by the share of a round trip's requests that failed
      // (a step may close after few answers), then climb back. An outage drives the rate down
      // round trip by round trip; a stray 503 barely moves it.
      const perRoundTrip = Math.max(this.stepAnswered, this.rate * (this.srtt ?? 1_000));
      const failed = Math.min(MAX_UNAVAILABLE_EASE, this.stepUnavailable / perRoundTrip);
      this.setRate(this.rate * (1 - failed));
    } else if (usage > 1) {
      // Over the limit without a 429 yet: ease down, and remember where.
      this.ceiling = Math.min(ceiling, this.rate);
      this.setRate(this.rate * Math.max(0.6, HOLD_SHARE / usage));
      this.phase = "climb";
    } else if (this.rate < 0.99 * target) {
      // Back to just below the ceiling: a share of the gap per round trip, the last percent at
      // once.
      const next = this.rate + CLIMB * (target - this.rate);
      this.setRate(next >= 0.99 * target ? target : next);
    } else if (this.phase === "climb") {
      this.phase = "hold";
    } else if (this.phase === "hold") {
      if (usage < USAGE_FULL && this.mayProbe(now, usage === 0, ceiling)) {
        // Held since the last 429 without another: Graph accepts at least this rate.
        this.floor = Math.max(this.floor ?? 0, this.rate);
        this.phase = "probe";
        this.probeSteps = 0;
        this.acceptedSinceStep = 0;
        this.strikes = 0;
      }
    } else if (usage >= USAGE_FULL) {
      // Probing, and Graph reports the quota full: hold here.
      this.ceiling = this.rate / HOLD_SHARE;
      this.phase = "hold";
    } else if (this.acceptedSinceStep >= PROBE_STEP_WRITES) {
      this.probe(now, ceiling);
    }
    this.closeStep(now);
  }

  /** One probing step: a little faster, more so each step, up to {@link PROBE_REACH}. */
  private probe(now: number, ceiling: number): void {
    const rate = this.rate as number;
    this.acceptedSinceStep = 0;
    const sent = this.recentlySent(now);
    if (sent !== undefined && rate > PROBE_HEADROOM * sent) {
      // The writers do not fill the rate: probing above it would prove nothing.
      return;
    }
    const step = Math.min(PROBE_MAX_STEP, PROBE_FIRST_STEP * 2 ** this.probeSteps);
    this.probeSteps++;
    // Every write sent above the ceiling in the round trip before a 429 comes back refused, and a
    // bucket's savings may hide the ceiling for long.
    const top = PROBE_REACH * (this.floor ?? rate);
    this.setRate(Math.min(top, rate * (1 + step)));
    if ((this.rate as number) >= top) {
      this.phase = "hold";
      this.lastCutAt = now;
    }
    this.ceiling = Math.max(ceiling, (this.rate as number) / HOLD_SHARE);
  }

  /**
   * Whether holding has lasted long enough for a probe: enough writes went through since the
   * last 429 for the next one to keep within the throttling budget, and (unless the usage header
   * reports room) enough time passed for the `Retry-After` pause it may cost to be worth it.
   *
   * @param quiet - no usage reading in the last round trip; with the header seen before, Graph
   *   reports room. The budget holds even then: a small quota's room may be a single request.
   */
  private mayProbe(now: number, quiet: boolean, ceiling: number): boolean {
    // A probe costs about the writes of a request or two: a slow start or a bucket's savings may
    // have cost far more, which says nothing about the next probe.
    const cost = Math.max(1, Math.min(this.throttledSinceCut, 2 * this.batchSize(20)));
    // A probe that found the same ceiling as the one before makes the next one wait longer.
    const same =
      this.probedAt !== undefined && Math.abs(ceiling - this.probedAt) < 0.05 * this.probedAt;
    const room = quiet && this.headerSeen;
    const spacing = room || !same ? 1 : Math.min(MAX_PROBE_SPACING, 2 * this.probeSpacing);
    const allowed =
      this.acceptedSinceCut >= PROBE_BUDGET * spacing * cost &&
      (room || now - this.lastCutAt >= PROBE_INTERVAL_MS * spacing);
    if (allowed) {
      this.probeSpacing = spacing;
      this.probedAt = ceiling;
    }
    return allowed;
  }

  private closeStep(now: number): void {
    this.lastUsage = this.stepUsage;
    this.stepUsage = 0;
    this.stepThrottled = 0;
    this.stepUnavailable = 0;
    this.stepAnswered = 0;
    this.lastDecisionAt = now;
  }

  private setRate(rate: number): void {
    const srtt = this.srtt ?? 1_000;
    // At least a quarter of a request per round trip, at most the largest window per round trip.
    const floor = this.min / (4 * srtt);
    const ceiling = this.max / srtt;
    this.rate = Math.min(ceiling, Math.max(floor, rate));
    this.lowestRateSinceMark = Math.min(this.lowestRateSinceMark, this.rate);
    this.lowestRateSinceRun = Math.min(this.lowestRateSinceRun, this.rate);
  }

  /** The window once the rate is known: wide enough never to hold the rate back. */
  private window(): number {
    if (this.rate === undefined || this.srtt === undefined) {
      return this.limit;
    }
    return Math.min(this.max, Math.max(this.limit, Math.ceil(2 * this.rate * this.srtt)));
  }

  private canRun(n: number): boolean {
    const now = this.now();
    if (now < this.pausedUntil) {
      this.pauseEndedAt = this.pausedUntil;
      return false;
    }
    if (this.rate !== undefined && now < this.nextSendAt) {
      return false;
    }
    const inFlight = this.log.inFlight;
    return inFlight === 0 || inFlight + n <= this.window();
  }

  private grant(n: number): number {
    const now = this.now();
    this.log.granted(now, n);
    if (this.rate !== undefined) {
      this.nextSendAt = Math.max(this.nextSendAt, now) + n / this.rate;
    }
    return now;
  }

  private drain(): void {
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      if (!head || !this.canRun(head.n)) {
        break;
      }
      this.waiters.shift();
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
    if (this.timer !== undefined && this.timerAt <= at) {
      return;
    }
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
    }
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
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
