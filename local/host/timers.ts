/**
 * The host clock and the durable timers waiting on it.
 *
 * With the `real` clock a single Node timer is armed for the earliest durable timer. With the
 * `virtual` clock nothing is armed: once the engine has nothing else to run it calls
 * `advanceVirtualClock`, which moves the clock to the earliest live timer and fires every timer
 * due by then, so hour-long waits take no wall time. Virtual time only moves forward, and
 * everything the host stamps (history, status times) uses this clock.
 */

/** A durable timer some instance's execution waits for. */
export interface DurableTimer {
  instanceId: string;
  executionId: string;
  /** Event id of its `TimerCreated`. */
  id: number;
  /** Due time in ms on the host clock. */
  at: number;
}

/** What the timers need from the engine. */
export interface TimerHooks {
  clock: "real" | "virtual";
  /** Where the host clock starts, in ms ahead of the wall clock (0: the wall clock). */
  startOffsetMs?: number;
  /** Whether the timer's execution still waits for it. */
  isLive(t: DurableTimer): boolean;
  /** Delivers a due timer; the hook checks itself whether it is still wanted. */
  fire(t: DurableTimer): void;
  /** Runs work from a Node timer callback, logging instead of throwing. */
  guard(work: () => void): void;
}

// Node timers cannot be armed further ahead than about 24.8 days.
const MAX_NODE_DELAY = 2_147_000_000;

/** The host clock plus the durable timers armed on it. */
export class Timers {
  private readonly timers = new Map<string, DurableTimer>();
  private realTimer: NodeJS.Timeout | undefined;
  private realTimerAt = Infinity;
  private clockOffset = 0;
  private stopped = false;

  /**
   * @param hooks - clock kind and engine callbacks
   */
  constructor(private readonly hooks: TimerHooks) {
    this.clockOffset = hooks.startOffsetMs ?? 0;
  }

  /** Current time on the host clock (virtual time may run ahead of the wall clock). */
  now(): number {
    return Date.now() + this.clockOffset;
  }

  /** {@link now} as an ISO string. */
  nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  /**
   * Arms a durable timer.
   *
   * @param t - the timer
   */
  add(t: DurableTimer): void {
    this.timers.set(`${t.instanceId}\u0000${t.executionId}\u0000${t.id}`, t);
    this.armRealTimer();
  }

  /** Stops firing timers (the host is stopping). */
  stop(): void {
    this.stopped = true;
    if (this.realTimer) {
      clearTimeout(this.realTimer);
      this.realTimer = undefined;
    }
  }

  /**
   * With a virtual clock, jumps to the earliest live timer and fires what is due. The engine
   * calls it only when nothing else can run.
   */
  advanceVirtualClock(): void {
    if (this.hooks.clock !== "virtual" || this.stopped) {
      return;
    }
    let earliest = Infinity;
    for (const [key, t] of this.timers) {
      if (!this.hooks.isLive(t)) {
        // Timers of finished, purged or continued-as-new executions must not move the clock.
        this.timers.delete(key);
        continue;
      }
      earliest = Math.min(earliest, t.at);
    }
    if (earliest === Infinity) {
      return;
    }
    if (earliest > this.now()) {
      this.clockOffset += earliest - this.now();
    }
    this.fireDue(this.now());
  }

  private armRealTimer(): void {
    if (this.hooks.clock !== "real" || this.stopped) {
      return;
    }
    let earliest = Infinity;
    for (const t of this.timers.values()) {
      earliest = Math.min(earliest, t.at);
    }
    if (earliest === Infinity || earliest >= this.realTimerAt) {
      return;
    }
    if (this.realTimer) {
      clearTimeout(this.realTimer);
    }
    this.realTimerAt = earliest;
    this.realTimer = setTimeout(
      () => {
        this.realTimer = undefined;
        this.realTimerAt = Infinity;
        this.hooks.guard(() => this.fireDue(this.now()));
        this.armRealTimer();
      },
      Math.min(Math.max(0, earliest - this.now()), MAX_NODE_DELAY),
    );
  }

  private fireDue(now: number): void {
    for (const [key, t] of this.timers) {
      if (t.at > now) {
        continue;
      }
      this.timers.delete(key);
      this.hooks.fire(t);
    }
  }
}
