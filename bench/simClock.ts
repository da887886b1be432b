/**
 * A discrete-event clock for simulations: time stands still until every promise that can settle
 * has settled, then jumps to the next timer. Code under test that takes its time and timers from
 * this clock (the limiter's `clock` option, the simulated Graph's latencies) runs a scenario of
 * many emulated minutes in a fraction of a second, and the same way on every run.
 */
import type { LimiterClock } from "../shared/graph/throttle.js";

interface SimTimer {
  at: number;
  seq: number;
  callback: () => void;
  cancelled: boolean;
}

/** Simulated time in milliseconds, starting at 0. */
export class SimClock implements LimiterClock {
  private time = 0;
  private seq = 0;
  /** Pending timers, latest first, so that the next one pops off the end. */
  private readonly timers: SimTimer[] = [];

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer: SimTimer = {
      at: this.time + Math.max(0, ms),
      seq: this.seq++,
      callback,
      cancelled: false,
    };
    // Binary search for the slot: equal times keep their order of scheduling.
    let lo = 0;
    let hi = this.timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const t = this.timers[mid] as SimTimer;
      if (t.at > timer.at || (t.at === timer.at && t.seq > timer.seq)) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    this.timers.splice(lo, 0, timer);
    return timer;
  }

  clearTimeout(timer: unknown): void {
    (timer as SimTimer).cancelled = true;
  }

  /** A promise that settles `ms` simulated milliseconds from now. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.setTimeout(resolve, ms);
    });
  }

  /**
   * Runs the simulation until `work` settles and returns its value.
   *
   * @param work - the simulated activity, whose waits all go through this clock.
   * @param limitMs - simulated time after which the run is abandoned as stuck.
   * @throws Error when nothing is scheduled while `work` is still pending (a wait outside this
   *   clock), or after `limitMs`.
   */
  async run<T>(work: Promise<T>, limitMs = 24 * 3_600_000): Promise<T> {
    let settled = false;
    const watched = work.finally(() => {
      settled = true;
    });
    for (;;) {
      // Every microtask chain runs before a macrotask: after this, only timers can move things.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (settled) {
        return watched;
      }
      let next = this.timers.pop();
      while (next?.cancelled) {
        next = this.timers.pop();
      }
      if (!next) {
        throw new Error("SimClock: the simulation waits on something outside its clock.");
      }
      if (next.at > limitMs) {
        throw new Error(`SimClock: the simulation is still running after ${limitMs} ms.`);
      }
      this.time = next.at;
      next.callback();
    }
  }
}
