/**
 * The activity queue: one FIFO across all instances, at most `concurrency` activities running at
 * once (the host's `activityConcurrency`, like `maxConcurrentActivityFunctions`), each invoked
 * through its real registration and answered with a `TaskCompleted` or `TaskFailed` event.
 */
import { taskCompleted, taskFailed } from "./history.js";
import { describe } from "./json.js";
import { findFunction, fromTypedData, invokeFunction, type RpcTypedData } from "./registry.js";
import type { HistoryEvent } from "./types.js";

/** One scheduled activity call. */
export interface ActivityJob {
  instanceId: string;
  executionId: string;
  /** Event id of its `TaskScheduled`. */
  id: number;
  name: string;
  /** JSON text of the input. */
  input?: string;
}

/** What the queue needs from the engine. */
export interface ActivityHooks {
  concurrency: number;
  /** Called as a job leaves the queue; false drops it (its execution no longer wants it). */
  take(job: ActivityJob): boolean;
  /** Delivers the completion of a job that ran. */
  complete(job: ActivityJob, event: HistoryEvent): void;
  /** The host itself failed while running a job. */
  crashed(job: ActivityJob, err: unknown): void;
  /** Called after every job that ran, once a slot is free again. */
  settled(): void;
  /** ISO time on the host clock. */
  nowIso(): string;
  /** Work in flight, awaited when the host stops. */
  inFlight: Set<Promise<void>>;
}

function resultText(data: RpcTypedData | null | undefined): string {
  if (!data) {
    return "null";
  }
  if (data.json !== undefined && data.json !== null) {
    return data.json;
  }
  const value = fromTypedData(data);
  if (Buffer.isBuffer(value)) {
    return JSON.stringify(value.toString("base64"));
  }
  return JSON.stringify(value ?? null);
}

/**
 * Runs one activity through its registration.
 *
 * @param job - the call
 * @param nowIso - host clock, read when the activity ends
 * @returns its completion event (a failure when it threw or is not registered)
 */
export async function runActivity(job: ActivityJob, nowIso: () => string): Promise<HistoryEvent> {
  const fn = findFunction(job.name);
  if (!fn || fn.trigger !== "activityTrigger") {
    const reason = `LocalHost: no activity function named '${job.name}' is registered.`;
    return taskFailed(job.id, reason, "", nowIso());
  }
  try {
    const response = await invokeFunction(fn, {
      [fn.triggerBindingName]: job.input === undefined ? undefined : { string: job.input },
    });
    return taskCompleted(job.id, resultText(response.returnValue), nowIso());
  } catch (err) {
    const reason =
      err instanceof Error
        ? `Activity function '${job.name}' failed: ${err.message}`
        : `LocalHost: activity '${job.name}' threw a non-Error value: ${describe(err)}.`;
    const details = err instanceof Error ? (err.stack ?? "") : "";
    return taskFailed(job.id, reason, details, nowIso());
  }
}

/** Bounded concurrent activity execution across all instances. */
export class ActivityQueue {
  private readonly queue: ActivityJob[] = [];
  private head = 0;
  private active = 0;
  private stopped = false;

  /**
   * @param hooks - concurrency and engine callbacks
   */
  constructor(private readonly hooks: ActivityHooks) {}

  /**
   * Queues a job and starts what the concurrency limit allows.
   *
   * @param job - the call
   */
  push(job: ActivityJob): void {
    this.queue.push(job);
    this.pump();
  }

  /** No activity is running or waiting. */
  idle(): boolean {
    return this.active === 0 && this.head >= this.queue.length;
  }

  /** Starts nothing new (the host is stopping). */
  stop(): void {
    this.stopped = true;
  }

  private pump(): void {
    while (!this.stopped && this.active < this.hooks.concurrency && this.head < this.queue.length) {
      const job = this.queue[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      if (!this.hooks.take(job)) {
        continue;
      }
      this.active++;
      // Each activity starts in its own macrotask, as a worker receiving it over gRPC would, so
      // episodes interleave with completions instead of waiting for a whole microtask chain.
      const run = new Promise<void>((r) => setImmediate(r))
        .then(async () => this.hooks.complete(job, await runActivity(job, this.hooks.nowIso)))
        .catch((err: unknown) => this.hooks.crashed(job, err))
        .finally(() => {
          this.active--;
          this.hooks.inFlight.delete(run);
          this.pump();
          this.hooks.settled();
        });
      this.hooks.inFlight.add(run);
    }
  }
}
