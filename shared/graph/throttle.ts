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
 * - Slow start doubles the rate every second, up to {@link RATE_CAP}, until the first 429.
 * - Sending is cut into steps of at least a round trip and 20 writes. Once every write of a step
 *   is answered, what Graph did with them is the evidence: when it refused some, the share it
 *   accepted times the rate the step was sent at is the quota's rate (a window or an empty bucket
 *   takes exactly its rate from whatever is sent above it), and the rate is set just above that,
 *   so that about {@link TARGET_REFUSED} of the writes are refused while the quota is used whole;
 *   the ceiling follows that evidence halfway. A step sent well below the rate with a few of its
 *   writes refused is no evidence: they bunched. A step Graph took whole lets the rate grow: back
 *   to the ceiling quickly, beyond it slowly at first and faster while Graph keeps accepting, so
 *   that a quota that rose is found.
 * - A refused write waits its own `Retry-After` (the writer defers it); the others go on at the
 *   rate. A refusal says the quota is full now, not that it is closed: pausing every caller for a
 *   `Retry-After` (whole seconds) would waste up to a second of quota per refusal. Only when Graph
 *   refuses whole requests one after the other does everyone wait for the `Retry-After` (and the
 *   rate halves, unless a quick cut has just answered the same refusals).
 * - Steps are judged a round trip late; refusals piling up meanwhile among the latest answers to
 *   requests sent since the last cut (a bucket's savings spent, a quota that halved) cut the rate
 *   at once, at most once a second.
 * - 5xx answers and lost requests piling up among the latest answers (Graph struggles, an outage
 *   begins) ease the rate by the share that failed, halve it when whole requests fail, and a
 *   `Retry-After` then pauses every caller. A failure on its own (Graph answers a stray 503 or
 *   504 now and then) says nothing about the quota or Graph's health: the writer retries that
 *   write after its own backoff, and the rate stays.
 *
 * When Graph does send `x-ms-throttle-limit-percentage` (documented for directory writes, above
 * 80% of a quota), it only adds: a first reading ends slow start, a full reading stops the rate
 * from growing, and a reading over 100% eases it.
 */
import { SendLog, type SendStep } from "./sendLog.js";

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

/**
 * Share of the writes the rate lets Graph refuse while it presses on the quota: the price of
 * using the quota whole, well within a 2% budget. A step with at most this share refused is at
 * the quota; the rate stays.
 */
const TARGET_REFUSED = 0.01;

/**
 * The rate never goes above this (requests per millisecond: 40 a second), twice the documented
 * sustained write quota of an app in a tenant (3,000 per 150 s). A bucket's savings (3,000 writes
 * at first) let the rate run on unseen until they are spent, and every write sent above the quota
 * until the limiter hears of it comes back 429; savings are used up as well at 40 a second as at
 * 160.
 */
const RATE_CAP = 40 / 1000;

/** Slow start doubles the rate this often (besides the window's doubling per round trip). */
const SLOW_START_DOUBLING_MS = 1_000;

/** Rate after the 429 that ends slow start, as a share of the rate it came at (a doubling). */
const SLOW_START_CUT = 0.5;

/** A `Retry-After` this long ending slow start tells of a small quota (see growSlowStart). */
const SMALL_QUOTA_RETRY_AFTER_MS = 3_000;

/** Growth per step after the 429 that ended slow start, from half the rate it reached. */
const SLOW_START_GROWTH = 0.04;

/** Slow start ends at this share of its rate on a first usage reading (no 429 yet). */
const SLOW_START_USAGE_CUT = 0.25;

/** A step lasts at least this long and a round trip ... */
const STEP_MIN_MS = 1_000;
/**
 * ... and holds at least this many writes (one refused is 5%), unless it has lasted this long: at
 * 0.5 writes a second a step of a round trip would hold one write, and its one refusal 100%.
 */
const STEP_MIN_WRITES = 20;
const STEP_MAX_MS = 30_000;

/** Growth per step while Graph takes everything: first this share, doubling each step ... */
const GROWTH_FIRST = 0.01;
/** ... up to this share per step. */
const GROWTH_MAX = 0.15;

/** Below the ceiling, each step closes this share of the gap ... */
const RECOVER = 0.5;
/** ... up to this share of that rate, from where growth starts over slowly. */
const RECOVER_TO = 0.99;

/**
 * Just above the ceiling, growth stays at its first share: a bucket's savings
 * hide a ceiling for a while, and a rate that grew faster would run far past it meanwhile. Past
 * this multiple of that rate the quota rose, and growth speeds up again.
 */
const ROSE = 1.1;

/** Growth doubles at most once per this many writes accepted. */
const GROWTH_DOUBLING_WRITES = 20;

/** The rate grows only while the writers send at least this share of it. */
const FILLED = 0.8;

/**
 * Among the latest eight answers, refusals in at least this many requests that make at least this
 * share of the writes answered cut the rate at once, before their step is judged (one partly
 * refused batch is jitter, not a quota that moved), at most once a second (or round trip, when
 * longer).
 */
const FAST_WINDOW_MS = 1_000;
const FAST_MIN_REFUSED = 3;
const FAST_SHARE = 0.25;

/**
 * Failures (5xx, lost requests) slow anything only when Graph struggles: among the latest eight
 * answers, at least this many requests failed, making at least half of their writes. Graph's
 * stray failures (the hostile profile fails 3.5% of requests at random) put three failed requests
 * among eight now and then, and a quarter of the writes with them; an outage fails nearly all.
 */
const STRUGGLING_MIN_FAILED = 3;
const STRUGGLING_SHARE = 0.5;

/** A quick cut takes the rate down by the share refused, at least 15%, at most half. */
const FAST_CUT = 0.85;
const FAST_CUT_MOST = 0.5;

/**
 * At or above the ceiling, the rate grows only after this many writes went
 * through since the last refusal: each step above the quota costs a refused write or more, which
 * keeps growth under a 1% share of the writes whatever the quota's rate (at 0.5 a second, a step
 * up every 300 s; at 20, every 7.5 s).
 */
const WRITES_PER_STEP_UP = 150;

/** Requests refused whole one after the other before every caller waits for `Retry-After`. */
const BLOCKED_IN_A_ROW = 4;

/** Window factor on 5xx answers or lost requests, once per round trip. */
const UNAVAILABLE_WINDOW_CUT = 0.9;

/** The most one answer of 5xx or lost requests eases the rate (all of a round trip failed). */
const MAX_UNAVAILABLE_EASE = 0.5;

/**
 * A request of a single write leaves at least this often, or eight times per round trip when
 * that is rarer (see {@link AdaptiveLimiter.sendSize}).
 */
const SINGLE_EVERY_MS = 250;
const SINGLES_PER_ROUND_TRIP = 8;

/** The most the pacer makes up for requests that left late (a burst of 2 writes at 20 a second). */
const PACER_CATCH_UP_MS = 100;

/** A batch holds what the rate sends in this share of a round trip (at least 100 ms). */
const REQUESTS_PER_ROUND_TRIP = 16;

/**
 * Usage readings at or above this mean the quota is full: the rate stops growing. A window quota
 * read request by request shows 95% well below its rate, so only a full reading counts.
 */
const USAGE_FULL = 1;

/** An adaptive limit on requests in flight and on the rate they are sent at. */
export class AdaptiveLimiter {
  private limitValue: number;
  private readonly log = new SendLog();
  private pausedUntil = 0;
  private slowStart = true;
  /** When slow start last grew the rate. */
  private grownAt = 0;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private throttledCount = 0;
  private completedCount = 0;
  /** Writes Graph accepted in all, and when the first request left. */
  private acceptedCount = 0;
  private firstSentAt = Number.POSITIVE_INFINITY;
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
  /**
   * Where the quota is taken to be, per millisecond: what steps Graph refused in part showed it
   * takes, each one moving it halfway.
   */
  private ceiling?: number;
  /**
   * Whether a step with refusals was judged since slow start: the first still carries slow
   * start's overshoot (a burst that bunched), so it sets the rate but not the ceiling.
   */
  private judgedSinceSlowStart = false;
  /** Growth of the next step Graph takes whole. */
  private growth = GROWTH_FIRST;
  /** When the last quick cut was made. */
  private fastCutAt = Number.NEGATIVE_INFINITY;
  /** When Graph last refused a write. */
  private refusedAt = Number.NEGATIVE_INFINITY;
  /** Writes Graph accepted since it last refused one, and their count when growth last doubled. */
  private acceptedSinceRefusal = 0;
  private grewAtAccepted = 0;
  /** Requests refused whole since the last that Graph took at least in part. */
  private refusedInARow = 0;
  /** When a request that failed whole last halved the rate (once per round trip). */
  private unavailableCutAt = Number.NEGATIVE_INFINITY;
  /** When a reading over 100% last eased the rate. */
  private usageEasedAt = Number.NEGATIVE_INFINITY;
  /** Highest usage reading since the last step was judged, and the last step's. */
  private stepUsage = 0;
  private lastUsage = 0;

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
   * of a second (an eighth of a round trip at most). Graph answers a `$batch` when its slowest
   * item is done, so a batch that is only partly refused tells of the 429 a round trip late; a
   * refused single write comes back at once, in time for a quick cut.
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
    const throttled = Math.min(n, feedback.throttled ?? 0);
    const unavailable = Math.min(n - throttled, feedback.unavailable ?? 0);
    const usage = feedback.limitPercentage ?? 0;
    const accepted = n - throttled - unavailable;
    this.log.answered(now, n, startedAt, { accepted, refused: throttled, unavailable });
    this.measure(now, n, startedAt, accepted, throttled, usage);
    this.refusedInARow =
      throttled === n ? this.refusedInARow + 1 : accepted > 0 ? 0 : this.refusedInARow;
    const retryAfterMs = feedback.retryAfterMs ?? 0;
    const blocked = this.refusedInARow >= BLOCKED_IN_A_ROW;
    // Among the latest answers, whatever cuts they made already: while Graph struggles, a request
    // that failed whole halves the rate once per round trip (see ease).
    const recent = this.log.recentAnswers(Number.NEGATIVE_INFINITY);
    const struggling =
      unavailable > 0 &&
      recent.failedRequests >= STRUGGLING_MIN_FAILED &&
      recent.failed >= STRUGGLING_SHARE * recent.answered;
    if (
      blocked &&
      !this.slowStart &&
      this.rate !== undefined &&
      now >= this.pausedUntil &&
      now - this.fastCutAt >= this.quickCutEvery()
    ) {
      // Far above what Graph takes: half the rate, once per pause; unless a quick cut just
      // answered the same refusals (four small requests refused in a row follow one often at a
      // few writes a second, and both cuts together took the rate to a quarter).
      this.setRate(this.rate * FAST_CUT_MOST);
      this.fastCutAt = now;
    }
    if (retryAfterMs > 0 && (struggling || blocked)) {
      // Graph struggles, or refuses everything: everyone waits. Graph refuses a `$batch` item
      // when the batch arrives but answers it with the batch, when the slowest item is done: its
      // Retry-After runs from the refusal, which came no later than the fastest answer Graph ever
      // gave after a request was sent.
      const refusedBy = Math.min(now, startedAt + this.fastestAnswer);
      this.pausedUntil = Math.max(this.pausedUntil, refusedBy + retryAfterMs);
    }
    this.adjustWindow(n, startedAt, now, throttled, unavailable, usage);
    if (this.slowStart) {
      this.growSlowStart(now, throttled, unavailable, usage, retryAfterMs);
    } else {
      this.ease(now, startedAt, n, { throttled, unavailable, usage, struggling });
    }
    this.judgeFinishedSteps(now);
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
    this.judgeFinishedSteps(this.now());
    this.drain();
  }

  /**
   * What this limiter learned, once it left slow start or reached {@link RATE_CAP} in it; see
   * {@link LimiterSnapshot}.
   */
  snapshot(): LimiterSnapshot | undefined {
    if (this.rate === undefined || this.srtt === undefined) {
      return undefined;
    }
    if (this.slowStart && this.rate < RATE_CAP) {
      return undefined;
    }
    return {
      ratePerSecond: this.rate * 1000,
      ...(this.ceiling !== undefined ? { ceilingPerSecond: this.ceiling * 1000 } : {}),
      roundTripMs: this.srtt,
    };
  }

  /**
   * Starts where another limiter left off instead of in slow start: at its rate and with its
   * ceiling, growing slowly from there. The rate is taken as it was, above the ceiling too: a rate
   * that grew past it did so on writes Graph took, and cutting it back to the ceiling at every
   * handover (every chunk, when instances take turns) would lose that growth each time, so that a
   * ceiling placed low would never be corrected. Only a limiter that has sent nothing takes
   * it: one that has, knows better; unless the caller knows the snapshot is newer than what this
   * limiter found (`replace`), which it then forgets. Never with a request in flight: its answer
   * would be judged against the other limiter's rate.
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
    if (!fresh) {
      // Its own findings (the steps sent, refusals lately, the growth) are older.
      this.log.forgetSteps();
      this.refusedInARow = 0;
      this.acceptedSinceRefusal = 0;
      this.fastCutAt = Number.NEGATIVE_INFINITY;
      this.stepUsage = 0;
    }
    this.slowStart = false;
    this.srtt = learned.roundTripMs;
    this.minRtt = learned.roundTripMs;
    this.ceiling =
      learned.ceilingPerSecond !== undefined ? learned.ceilingPerSecond / 1000 : undefined;
    this.setRate(learned.ratePerSecond / 1000);
    this.limitValue = this.window();
    this.growth = GROWTH_FIRST;
    this.grownAt = this.now();
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

  /** Counts, round trips and the highest usage reading of the current step. */
  private measure(
    now: number,
    n: number,
    startedAt: number,
    accepted: number,
    throttled: number,
    usage: number,
  ): void {
    this.throttledCount += throttled;
    this.completedCount += n;
    this.acceptedCount += accepted;
    this.acceptedSinceRefusal = throttled > 0 ? 0 : this.acceptedSinceRefusal + accepted;
    if (throttled > 0) {
      this.refusedAt = now;
    }
    this.grewAtAccepted = Math.min(this.grewAtAccepted, this.acceptedSinceRefusal);
    const sample = Math.max(1, now - startedAt);
    this.fastestAnswer = Math.min(this.fastestAnswer, sample);
    if (accepted > 0) {
      // A batch is answered when its slowest processed item is; a wholly refused one comes back
      // at once and would make the round trip look short.
      this.srtt = this.srtt === undefined ? sample : this.srtt * 0.875 + sample * 0.125;
      this.minRtt = Math.min(this.minRtt ?? sample, sample);
    }
    this.stepUsage = Math.max(this.stepUsage, usage);
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
   * A 429 ends it at half the rate it came at (the quota lies in the last doubling), and so does a
   * usage reading; a 5xx holds it back.
   */
  private growSlowStart(
    now: number,
    throttled: number,
    unavailable: number,
    usage: number,
    retryAfterMs: number,
  ): void {
    if (throttled > 0) {
      // The quota lies in the last doubling: from half the rate reached, growth finds it (the
      // refusals of that doubling, sent in slow start, are not judged). A Retry-After of several
      // seconds after a few writes tells of a small quota (the reports limit frees a request
      // every 2 s): at most what Graph took so far, over the time until it takes another.
      const reached = this.rate ?? this.limitValue / (this.srtt ?? 1_000);
      const small =
        retryAfterMs >= SMALL_QUOTA_RETRY_AFTER_MS
          ? this.acceptedCount / Math.max(1, now - this.firstSentAt + retryAfterMs)
          : Number.POSITIVE_INFINITY;
      this.ceiling = undefined;
      this.setRate(Math.min(reached * SLOW_START_CUT, small));
      this.fastCutAt = now;
      this.endSlowStart(now);
      this.growth = SLOW_START_GROWTH;
      return;
    }
    if (unavailable > 0) {
      return;
    }
    if (usage > 0) {
      // Without a round trip yet, a long one is assumed until the next answer tells.
      const reached = this.rate ?? this.limitValue / (this.srtt ?? 1_000);
      this.ceiling = reached;
      this.setRate(reached * SLOW_START_USAGE_CUT);
      this.endSlowStart(now);
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
    // At RATE_CAP it stays there, still in slow start: the first 429 (a bucket's savings spent)
    // then halves the rate as it would have below.
    this.setRate(Math.max(this.limitValue / this.minRtt, grown));
  }

  /** Slow start is over: what is sent from now on is judged, at the rate it now has. */
  private endSlowStart(now: number): void {
    this.slowStart = false;
    this.growth = GROWTH_FIRST;
    this.log.openStep(now, this.rate, false);
  }

  /**
   * What an answer says at once, before its step is judged: 5xx answers and lost requests piling
   * up among the latest answers ease the rate by their share of a round trip's writes, and halve
   * it when a request failed whole, once per round trip (an outage drives it down round trip by
   * round trip; a stray 503 does not move it); a reading over 100% eases it, once per round trip;
   * and refusals piling up among the latest answers (a bucket's savings spent, a quota that
   * halved) cut it, at most every half second. Judging the step sets the rate from the evidence
   * again.
   */
  private ease(
    now: number,
    startedAt: number,
    n: number,
    answer: { throttled: number; unavailable: number; usage: number; struggling: boolean },
  ): void {
    const { throttled, unavailable, usage } = answer;
    if (this.rate === undefined) {
      return;
    }
    if (answer.struggling && unavailable === n && startedAt > this.unavailableCutAt) {
      // Nothing of the request went through: as if a round trip's writes all failed.
      this.setRate(this.rate * (1 - MAX_UNAVAILABLE_EASE));
      this.unavailableCutAt = now;
      this.growth = GROWTH_FIRST;
    } else if (answer.struggling) {
      const perRoundTrip = Math.max(n, this.rate * (this.srtt ?? 1_000));
      this.setRate(this.rate * (1 - Math.min(MAX_UNAVAILABLE_EASE, unavailable / perRoundTrip)));
      this.growth = GROWTH_FIRST;
    }
    if (usage > 1 && startedAt > this.usageEasedAt) {
      // Over the limit without a 429 yet: ease down, and remember where.
      this.ceiling = Math.min(this.ceiling ?? this.rate, this.rate);
      this.setRate(this.rate * Math.max(0.6, 1 / usage));
      this.usageEasedAt = now;
    }
    const window = this.quickCutEvery();
    // Only answers to requests sent since the last cut: those sent before it are what the cut
    // answered, however late they come back (slow start's overshoot at a doubled latency is a
    // round trip of refusals still in flight when the 429 that ended it arrives).
    const recent = this.log.recentAnswers(this.fastCutAt);
    if (
      throttled > 0 &&
      now - this.fastCutAt >= window &&
      recent.refusedRequests >= FAST_MIN_REFUSED &&
      recent.refused >= FAST_SHARE * recent.answered
    ) {
      const share = recent.refused / Math.max(1, recent.answered);
      this.setRate(this.rate * Math.max(FAST_CUT_MOST, Math.min(FAST_CUT, 1 - share)));
      this.fastCutAt = now;
      this.growth = GROWTH_FIRST;
    }
  }

  /** Judges every step whose writes are all answered, in the order they were sent. */
  private judgeFinishedSteps(now: number): void {
    for (const step of this.log.takeFinished(now)) {
      if (!step.slowStart) {
        this.judge(step);
      }
    }
  }

  /**
   * What a finished step says of the rate: ease on failures; when Graph refused some, the rate is
   * what it accepted, a little above; when it took them all, grow.
   */
  private judge(step: SendStep): void {
    const usage = this.stepUsage;
    this.lastUsage = usage;
    this.stepUsage = 0;
    const sentAt = step.rate;
    if (this.rate === undefined || sentAt === undefined || step.answered === 0) {
      return;
    }
    if (step.unavailable >= STRUGGLING_SHARE * step.answered) {
      // Graph struggled: the answers eased the rate already, and refusals meanwhile say little.
      return;
    }
    // Until its sending ended: a step left open while nothing was sent (a chunk's end, the
    // Durable gap before the next one) would read as sent slowly, and its refusals would set the
    // rate to that.
    const lasted = Math.max(
      1,
      Math.min(step.to ?? this.now(), step.sentUntil ?? step.from) - step.from,
    );
    // The rate the step's writes actually left at: the pacer's, unless the writers, a pause or a
    // quick cut held them back.
    const sent = Math.min(sentAt, step.sent / lasted);
    // Stray failures are neither accepted nor refused: the rest is the evidence.
    const refused = step.refused / Math.max(1, step.answered - step.unavailable);
    if (refused > 0 && refused < FAST_SHARE && sent < FILLED * sentAt) {
      // Sent well below the rate (the writers held back, the event loop stalled, a pause) and
      // refused in part: requests bunched past the quota, which tells nothing of its rate. Taking
      // what Graph accepted of so slow a step as the rate cut it to half the quota and dragged the
      // ceiling down with it. A quota that really fell refuses more, and the quick cut answers it.
      return;
    }
    if (refused > 0) {
      // A window or an empty bucket took its rate of what was sent and refused the rest: that,
      // a little above, is the rate. What a step shows moves with its jitter (a busy moment
      // bunches requests), so the ceiling the rate climbs back to follows it halfway.
      const accepted = sent * Math.min(1, (1 - refused) * (1 + TARGET_REFUSED));
      if (this.judgedSinceSlowStart) {
        this.ceiling = this.ceiling === undefined ? accepted : (this.ceiling + accepted) / 2;
      }
      this.judgedSinceSlowStart = true;
      this.setRate(accepted);
      this.growth = GROWTH_FIRST;
      return;
    }
    if (this.refusedAt >= (step.to ?? this.now())) {
      // Graph refused a write sent after this step: growing on older news would run the rate
      // past the quota before that refusal's step is judged.
      return;
    }
    if (usage >= USAGE_FULL || sent < FILLED * sentAt || this.rate < sentAt) {
      // Quota reported full, the writers did not fill the rate (growing would prove nothing), or
      // a later cut already spoke.
      return;
    }
    this.grow();
  }

  /** Graph took a whole step: back towards the ceiling, or beyond it, slowly. */
  private grow(): void {
    const rate = this.rate as number;
    const recoverTo = this.ceiling !== undefined ? RECOVER_TO * this.ceiling : 0;
    if (rate < recoverTo) {
      const next = rate + RECOVER * (recoverTo - rate);
      this.setRate(next >= 0.99 * recoverTo ? recoverTo : next);
      return;
    }
    if (this.ceiling !== undefined && this.acceptedSinceRefusal < WRITES_PER_STEP_UP) {
      return;
    }
    this.setRate(rate * (1 + this.growth));
    const far = this.ceiling === undefined || (this.rate as number) > ROSE * this.ceiling;
    if (far && this.acceptedSinceRefusal >= this.grewAtAccepted + GROWTH_DOUBLING_WRITES) {
      // Far from the ceiling, or well past it (the quota rose): faster each step, but not
      // faster than the writes tell (at 0.5 a second a step of 30 s holds fifteen).
      this.growth = Math.min(GROWTH_MAX, 2 * this.growth);
      this.grewAtAccepted = this.acceptedSinceRefusal;
    }
  }

  private setRate(rate: number): void {
    const srtt = this.srtt ?? 1_000;
    // At least a quarter of a request per round trip, at most the largest window per round trip.
    const floor = this.min / (4 * srtt);
    const ceiling = Math.min(RATE_CAP, this.max / srtt);
    this.rate = Math.min(ceiling, Math.max(floor, rate));
  }

  /** The window once the rate is known: wide enough never to hold the rate back. */
  private window(): number {
    if (this.rate === undefined || this.srtt === undefined) {
      return this.limit;
    }
    return Math.min(this.max, Math.max(this.limit, Math.ceil(2 * this.rate * this.srtt)));
  }

  /** How often a quick cut may come at most: once a round trip, at most once a second. */
  private quickCutEvery(): number {
    return Math.max(FAST_WINDOW_MS, this.srtt ?? 0);
  }

  /** How long a step lasts at least: a round trip, at least a second. */
  private stepMs(): number {
    return Math.max(STEP_MIN_MS, this.srtt ?? STEP_MIN_MS);
  }

  private canRun(n: number): boolean {
    const now = this.now();
    if (now < this.pausedUntil) {
      return false;
    }
    if (this.rate !== undefined && now < this.nextSendAt) {
      return false;
    }
    const inFlight = this.log.inFlight;
    return inFlight === 0 || inFlight + n <= this.window();
  }

  private grant(n: number): number {
    const now = this.log.grantTime(this.now());
    this.firstSentAt = Math.min(this.firstSentAt, now);
    const step = this.log.current;
    const age = step === undefined ? Number.POSITIVE_INFINITY : now - step.from;
    const full = (step?.sent ?? 0) >= STEP_MIN_WRITES || age >= STEP_MAX_MS;
    if (age >= this.stepMs() && full) {
      this.log.openStep(now, this.rate, this.slowStart);
    }
    this.log.granted(now, n);
    if (this.rate !== undefined) {
      // A timer fires late now and then (the event loop was busy): a request that left a little
      // late keeps the schedule, or the rate actually sent would fall short of the rate set.
      // After a quiet spell the schedule starts over from now.
      const late = now - this.nextSendAt;
      this.nextSendAt = (late <= PACER_CATCH_UP_MS ? this.nextSendAt : now) + n / this.rate;
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
