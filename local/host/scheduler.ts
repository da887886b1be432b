/**
 * Which instance gets its next episode, and when. An instance with inbox events is "ready"; it
 * runs once `deliveryBatch` events wait for it or none of its activities is still queued (so a
 * fan-out's completions arrive in few episodes, as the Azure Storage provider batches the
 * messages that arrived while an orchestration was busy). Episodes run one at a time, with a
 * macrotask between them so activities and clients get their turn. When nothing is runnable the engine is told it is idle, which
 * is when a virtual clock moves on.
 */
import { isTerminal, type Instance } from "./instance.js";

/** What the scheduler needs from the engine. */
export interface SchedulerHooks {
  instance(id: string): Instance | undefined;
  /** Inbox size at which an instance runs although some of its activities are still queued. */
  deliveryBatch: number;
  /** Runs one episode of the instance; never rejects. */
  runEpisode(inst: Instance): Promise<void>;
  /** Nothing is runnable any more. */
  idle(): void;
  /** Work in flight, awaited when the host stops. */
  inFlight: Set<Promise<void>>;
}

/** The ready set and the loop that runs episodes from it. */
export class EpisodeScheduler {
  /** Instances with inbox events, in the order they became ready. */
  private readonly ready = new Set<string>();
  private pumpScheduled = false;
  private pumping = false;
  private stopped = false;

  /**
   * @param hooks - delivery batch and engine callbacks
   */
  constructor(private readonly hooks: SchedulerHooks) {}

  /**
   * Marks an instance as having inbox events and makes sure the loop runs.
   *
   * @param inst - the instance
   */
  markReady(inst: Instance): void {
    this.ready.add(inst.s.instanceId);
    this.wake();
  }

  /**
   * Drops an instance from the ready set (it finished or was removed).
   *
   * @param id - instance id
   */
  forget(id: string): void {
    this.ready.delete(id);
  }

  /** Runs the loop in a coming macrotask, unless it is already due. */
  wake(): void {
    if (this.pumpScheduled || this.stopped) {
      return;
    }
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  /** Runs no further episodes (the host is stopping). */
  stop(): void {
    this.stopped = true;
  }

  private runnable(inst: Instance | undefined): inst is Instance {
    return inst !== undefined && !isTerminal(inst.s.runtimeStatus) && inst.s.inbox.length > 0;
  }

  private nextReady(): Instance | undefined {
    for (const id of this.ready) {
      const inst = this.hooks.instance(id);
      if (!this.runnable(inst)) {
        this.ready.delete(id);
        continue;
      }
      if (inst.busy) {
        continue;
      }
      if (inst.queued === 0 || inst.s.inbox.length >= this.hooks.deliveryBatch) {
        this.ready.delete(id);
        return inst;
      }
    }
    return undefined;
  }

  private async pump(): Promise<void> {
    if (this.pumping) {
      return;
    }
    this.pumping = true;
    try {
      while (!this.stopped) {
        const inst = this.nextReady();
        if (!inst) {
          break;
        }
        const run = this.hooks.runEpisode(inst);
        this.hooks.inFlight.add(run);
        try {
          await run;
        } finally {
          this.hooks.inFlight.delete(run);
        }
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.pumping = false;
    }
    if (![...this.ready].some((id) => this.runnable(this.hooks.instance(id)))) {
      this.hooks.idle();
    }
  }
}
