/**
 * The orchestration engine of the local host: a DTFx-style replay loop around the real
 * durable-functions orchestrator handlers. It owns the instances, composes the parts and offers
 * the instance operations that `LocalHost` and the client API expose:
 *
 * - `scheduler.ts` picks the ready instance that runs its next episode;
 * - `orchestratorInvocation.ts` invokes the orchestrator with the extension's payload;
 * - `episode.ts` turns the answer into a journal record and new work (retries: `retries.ts`);
 * - `activityQueue.ts` runs activities with bounded concurrency;
 * - `timers.ts` keeps the (real or virtual) clock and the durable timers;
 * - `subOrchestrations.ts` starts children and reports them to their parents;
 * - `instance.ts` persists every change through the instance's journal (`store.ts`);
 * - `status.ts` shapes what status queries return.
 *
 * Flow: a delivered event is journalled into the instance's inbox and marks it ready; the
 * scheduler runs its next episode; the engine commits the plan, then dispatches the new work.
 */
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { ActivityQueue, type ActivityJob } from "./activityQueue.js";
import { pickBatch, planEpisode, type EpisodePlan } from "./episode.js";
import { eventRaised, orchestratorStarted, timerFired } from "./history.js";
import { Instance, isTerminal, loadInstances, newExecution } from "./instance.js";
import { errorText } from "./json.js";
import {
  invokeOrchestrator,
  ReplayMeter,
  triggerPayload,
  type OrchestratorAnswer,
} from "./orchestratorInvocation.js";
import { findFunction } from "./registry.js";
import { EpisodeScheduler } from "./scheduler.js";
import {
  bytesWritten,
  completionKey,
  dirNameFor,
  InstanceStore,
  type InstanceState,
  type Pending,
  type StatusFields,
} from "./store.js";
import { ensureChild, notifyParent, type SubOrchestrationHooks } from "./subOrchestrations.js";
import { listStatuses, toStatus } from "./status.js";
import { Timers, type DurableTimer } from "./timers.js";
import {
  EventType,
  type HistoryEvent,
  type HostLogger,
  type InstanceFilter,
  type InstanceStatus,
  type ReplayStats,
} from "./types.js";

/** Engine options (a subset of the host options, resolved). */
export interface EngineOptions {
  stateDir: string;
  activityConcurrency: number;
  clock: "real" | "virtual";
  /** Where the host clock starts, in ms ahead of the wall clock. */
  clockOffsetMs: number;
  deliveryBatch: number;
  compactionBytes: number;
  logger: HostLogger;
}

/** The replay engine: instances, episodes, and the parts that run their work. */
export class Engine {
  private readonly instances = new Map<string, Instance>();
  /** Episodes and activities in flight, awaited by stop(). */
  private readonly running = new Set<Promise<void>>();
  private readonly scheduler: EpisodeScheduler;
  private readonly timers: Timers;
  private readonly activities: ActivityQueue;
  private readonly subs: SubOrchestrationHooks;
  private readonly meter = new ReplayMeter();
  /** Set by stop(): no new work is dispatched. */
  private stopped = false;
  /** Set once stop() has waited for work in flight: nothing is persisted any more. */
  private closed = false;
  private readonly writtenAtStart = bytesWritten();

  /**
   * @param opts - resolved engine options
   */
  constructor(private readonly opts: EngineOptions) {
    this.scheduler = new EpisodeScheduler({
      instance: (id) => this.instances.get(id),
      deliveryBatch: opts.deliveryBatch,
      runEpisode: (inst) =>
        this.runEpisode(inst).catch((err: unknown) => this.internalError(inst, err)),
      idle: () => {
        if (this.activities.idle()) {
          this.guard(() => this.timers.advanceVirtualClock());
        }
      },
      inFlight: this.running,
    });
    this.timers = new Timers({
      clock: opts.clock,
      startOffsetMs: opts.clockOffsetMs,
      isLive: (t) => this.wants(t.instanceId, t.executionId, t.id) !== undefined,
      fire: (t) => this.fireTimer(t),
      guard: (work) => this.guard(work),
    });
    this.activities = new ActivityQueue({
      concurrency: opts.activityConcurrency,
      take: (job) => this.takeActivity(job),
      complete: (job, event) => {
        const inst = this.wants(job.instanceId, job.executionId, job.id);
        if (inst && !this.closed) {
          this.deliver(inst, event);
        }
      },
      crashed: (job, err) => {
        const owner = this.instances.get(job.instanceId);
        if (owner) {
          this.internalError(owner, err);
        }
      },
      settled: () => this.scheduler.wake(),
      nowIso: () => this.timers.nowIso(),
      inFlight: this.running,
    });
    this.subs = {
      instance: (id) => this.instances.get(id),
      deliver: (inst, e) => this.deliver(inst, e),
      startChild: (name, childId, input, parent) => {
        this.startNew(name, childId, input, parent, true);
      },
      stopped: () => this.stopped,
      nowIso: () => this.timers.nowIso(),
    };
  }

  // ---------------------------------------------------------------- public operations

  /** Loads every instance in the state directory and resumes the unfinished ones. */
  resumeAll(): void {
    const loaded = loadInstances(
      this.opts.stateDir,
      this.opts.compactionBytes,
      this.opts.logger,
      () => this.timers.nowIso(),
    );
    for (const [id, inst] of loaded) {
      this.instances.set(id, inst);
    }
    for (const inst of this.instances.values()) {
      if (isTerminal(inst.s.runtimeStatus)) {
        inst.store.close();
        inst.release();
        continue;
      }
      for (const [key, p] of Object.entries(inst.s.pending)) {
        if (!inst.inboxKeys.has(key)) {
          this.dispatch(inst, Number(key), p);
        }
      }
      this.scheduler.markReady(inst);
    }
    this.scheduler.wake();
  }

  /**
   * Creates an instance (replacing a finished one with the same id).
   *
   * @param name - orchestrator function name
   * @param instanceId - instance id; a random one when omitted
   * @param input - input value (must be JSON-serialisable, else the instance fails)
   * @param parent - set for sub-orchestrations
   * @param inputIsJson - `input` is already JSON text (sub-orchestration inputs from history)
   * @returns the instance id
   */
  startNew(
    name: string,
    instanceId: string | undefined,
    input: unknown,
    parent?: InstanceState["parent"],
    inputIsJson = false,
  ): string {
    if (this.stopped) {
      throw new Error("LocalHost: the host is stopped and accepts no new instances.");
    }
    const id = instanceId ?? randomUUID().replace(/-/g, "");
    const existing = this.instances.get(id);
    if (existing && !isTerminal(existing.s.runtimeStatus)) {
      throw new Error(
        `LocalHost: an instance with id '${id}' is already ${existing.s.runtimeStatus}.`,
      );
    }
    if (existing) {
      this.removeInstance(existing);
    }
    let inputText: string | undefined;
    let inputError: string | undefined;
    if (inputIsJson) {
      inputText = input as string | undefined;
    } else {
      try {
        inputText = input === undefined ? undefined : JSON.stringify(input);
      } catch (err) {
        inputError = `LocalHost: the input of instance '${id}' is not JSON-serialisable: ${(err as Error).message}.`;
      }
    }
    const s = newExecution(id, name, inputText, parent, this.timers.nowIso());
    const dir = path.join(this.opts.stateDir, "instances", dirNameFor(id));
    const inst = new Instance(s, new InstanceStore(dir), this.opts.compactionBytes);
    this.instances.set(id, inst);
    inst.commit({ k: "init", s });
    if (inputError) {
      this.fail(inst, inputError);
      return id;
    }
    const fn = findFunction(name);
    if (!fn || fn.trigger !== "orchestrationTrigger") {
      this.fail(inst, `LocalHost: no orchestrator function named '${name}' is registered.`);
      return id;
    }
    this.scheduler.markReady(inst);
    return id;
  }

  /**
   * Status of one instance.
   *
   * @param id - instance id
   * @param showHistory - include a summarised history
   * @param showInput - include the input (default true)
   */
  getStatus(id: string, showHistory = false, showInput = true): InstanceStatus | undefined {
    const inst = this.instances.get(id);
    return inst ? toStatus(inst, showHistory, showInput) : undefined;
  }

  /**
   * Instances matching a filter, oldest first.
   *
   * @param filter - optional status/time/prefix filter
   */
  list(filter: InstanceFilter = {}): InstanceStatus[] {
    return listStatuses(this.instances.values(), filter);
  }

  /**
   * Queues an external event for an instance.
   *
   * @param id - instance id
   * @param name - event name
   * @param data - event payload
   * @returns false when the instance does not exist, "gone" when it already finished
   */
  raiseEvent(id: string, name: string, data: unknown): boolean | "gone" {
    const inst = this.instances.get(id);
    if (!inst) {
      return false;
    }
    if (isTerminal(inst.s.runtimeStatus)) {
      return "gone";
    }
    const input = data === undefined ? undefined : JSON.stringify(data);
    this.deliver(inst, eventRaised(name, input, this.timers.nowIso()));
    return true;
  }

  /**
   * Terminates a running instance. Its sub-orchestrations keep running; their completions
   * are then dropped, because the parent no longer waits.
   *
   * @param id - instance id
   * @param reason - stored as the output
   * @returns false when unknown, "gone" when already finished
   */
  terminate(id: string, reason: string): boolean | "gone" {
    const inst = this.instances.get(id);
    if (!inst) {
      return false;
    }
    if (isTerminal(inst.s.runtimeStatus)) {
      return "gone";
    }
    this.finish(inst, {
      runtimeStatus: "Terminated",
      output: JSON.stringify(reason),
      lastUpdatedTime: this.timers.nowIso(),
    });
    return true;
  }

  /**
   * Deletes an instance and its files.
   *
   * @param id - instance id
   * @returns whether it existed
   */
  purge(id: string): boolean {
    const inst = this.instances.get(id);
    if (!inst) {
      return false;
    }
    this.removeInstance(inst);
    return true;
  }

  /**
   * Resolves when the instance reaches Completed, Failed or Terminated.
   *
   * @param id - instance id
   * @param timeoutMs - rejects after this long
   */
  waitFor(id: string, timeoutMs: number): Promise<InstanceStatus> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const inst = this.instances.get(id);
        if (!inst) {
          reject(new Error(`LocalHost: no instance with id '${id}' exists.`));
          return true;
        }
        if (isTerminal(inst.s.runtimeStatus)) {
          resolve(toStatus(inst, false, true));
          return true;
        }
        return false;
      };
      if (check()) {
        return;
      }
      const timer = setTimeout(() => {
        reject(new Error(`LocalHost: instance '${id}' did not finish within ${timeoutMs} ms.`));
      }, timeoutMs);
      this.instances.get(id)?.waiters.push(() => {
        clearTimeout(timer);
        check();
      });
    });
  }

  /** Replay statistics per instance and in total. */
  stats(): ReplayStats {
    return { persistedBytes: bytesWritten() - this.writtenAtStart, ...this.meter.snapshot() };
  }

  /**
   * Stops dispatching, waits up to `graceMs` for running activities and the current episode,
   * then snapshots every instance.
   *
   * @param graceMs - how long to wait for work in flight
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    this.scheduler.stop();
    this.timers.stop();
    this.activities.stop();
    const deadline = new Promise<void>((r) => setTimeout(r, graceMs).unref());
    await Promise.race([Promise.allSettled([...this.running]).then(() => undefined), deadline]);
    this.closed = true;
    for (const inst of this.instances.values()) {
      if (inst.store.journalBytes > 0) {
        inst.store.compact(inst.s);
      }
      inst.store.close();
    }
  }

  // ---------------------------------------------------------------- delivery and dispatch

  /** The instance if its execution still waits for the work with this event id. */
  private wants(instanceId: string, executionId: string, id: number): Instance | undefined {
    const inst = this.instances.get(instanceId);
    const wanted =
      inst !== undefined &&
      inst.s.executionId === executionId &&
      !isTerminal(inst.s.runtimeStatus) &&
      inst.s.pending[String(id)] !== undefined &&
      !inst.inboxKeys.has(String(id));
    return wanted ? inst : undefined;
  }

  /** Journals an event into the inbox (duplicates and unexpected completions are dropped). */
  private deliver(inst: Instance, e: HistoryEvent): void {
    if (this.closed) {
      return;
    }
    const key = completionKey(e);
    if (key !== undefined && (inst.inboxKeys.has(key) || !inst.s.pending[key])) {
      return;
    }
    inst.commit({ k: "in", e });
    this.scheduler.markReady(inst);
  }

  /** Hands scheduled work to the part that runs it. */
  private dispatch(inst: Instance, id: number, p: Pending): void {
    const s = inst.s;
    if (p.k === "act") {
      inst.queued++;
      const job: ActivityJob = {
        instanceId: s.instanceId,
        executionId: s.executionId,
        id,
        name: p.name,
      };
      if (p.input !== undefined) {
        job.input = p.input;
      }
      this.activities.push(job);
    } else if (p.k === "timer") {
      this.timers.add({
        instanceId: s.instanceId,
        executionId: s.executionId,
        id,
        at: Date.parse(p.fireAt),
      });
    } else {
      ensureChild(this.subs, inst, id, p);
    }
  }

  /** An activity leaves the queue: its instance may now be ready; stale jobs are dropped. */
  private takeActivity(job: ActivityJob): boolean {
    const inst = this.instances.get(job.instanceId);
    if (inst) {
      inst.queued = Math.max(0, inst.queued - 1);
      if (inst.queued === 0 && inst.s.inbox.length > 0) {
        this.scheduler.markReady(inst);
      }
    }
    return this.wants(job.instanceId, job.executionId, job.id) !== undefined;
  }

  private fireTimer(t: DurableTimer): void {
    const inst = this.wants(t.instanceId, t.executionId, t.id);
    if (!inst) {
      return;
    }
    const p = inst.s.pending[String(t.id)];
    const fireAt = p?.k === "timer" ? p.fireAt : new Date(t.at).toISOString();
    this.deliver(inst, timerFired(t.id, fireAt, this.timers.nowIso()));
  }

  // ---------------------------------------------------------------- episodes

  private async runEpisode(inst: Instance): Promise<void> {
    const s = inst.s;
    const fn = findFunction(s.name);
    if (!fn || fn.trigger !== "orchestrationTrigger") {
      this.fail(inst, `LocalHost: no orchestrator function named '${s.name}' is registered.`);
      return;
    }
    const batch = pickBatch(s);
    const now = this.timers.now();
    const started = orchestratorStarted(new Date(now).toISOString());
    const fresh = [started, ...batch.map((e) => ({ ...e, IsPlayed: false }))];
    const payload = triggerPayload(s, inst.histJson, fresh);
    const executionId = s.executionId;
    inst.busy = true;
    const t0 = performance.now();
    let answer: OrchestratorAnswer;
    try {
      answer = await invokeOrchestrator(fn, s.name, payload, s.actionSigs.length);
    } finally {
      inst.busy = false;
      const events = s.history.length + fresh.length;
      this.meter.record(s.instanceId, performance.now() - t0, Buffer.byteLength(payload), events);
    }
    if (
      this.closed ||
      this.instances.get(s.instanceId) !== inst ||
      inst.s.executionId !== executionId ||
      isTerminal(inst.s.runtimeStatus)
    ) {
      return;
    }
    const plan = planEpisode(inst.s, batch, started, now, answer.state, answer.failure);
    this.applyPlan(inst, batch, plan);
  }

  private applyPlan(inst: Instance, batch: HistoryEvent[], plan: EpisodePlan): void {
    inst.commitEpisode(plan.record, batch);
    if (plan.outcome === "failed" || plan.outcome === "completed") {
      this.finish(inst, {});
      return;
    }
    if (plan.outcome === "continue") {
      this.continueAsNew(inst, plan.continueInput);
      return;
    }
    for (const [id, p] of plan.toDispatch) {
      this.dispatch(inst, id, p);
    }
    if (inst.s.inbox.length > 0) {
      this.scheduler.markReady(inst);
    }
  }

  // ---------------------------------------------------------------- endings

  private continueAsNew(inst: Instance, input: string | undefined): void {
    const old = inst.s;
    const s = newExecution(old.instanceId, old.name, input, old.parent, this.timers.nowIso());
    s.createdTime = old.createdTime;
    s.runtimeStatus = "Running";
    if (old.customStatus !== undefined) {
      s.customStatus = old.customStatus;
    }
    // External events that arrived after the last episode belong to the new execution.
    s.inbox.push(...old.inbox.filter((e) => e.EventType === EventType.EventRaised));
    inst.commit({ k: "init", s });
    inst.store.compact(inst.s);
    inst.rebuildCaches();
    this.scheduler.markReady(inst);
  }

  private fail(inst: Instance, message: string): void {
    this.opts.logger.warn(message);
    this.finish(inst, {
      runtimeStatus: "Failed",
      output: JSON.stringify(message),
      lastUpdatedTime: this.timers.nowIso(),
    });
  }

  /** Ends an instance: clears its pending work, snapshots it, tells its parent and waiters. */
  private finish(inst: Instance, st: StatusFields): void {
    inst.commit({ k: "st", st, clear: true });
    inst.inboxKeys.clear();
    inst.store.compact(inst.s);
    inst.store.close();
    inst.release();
    this.scheduler.forget(inst.s.instanceId);
    notifyParent(this.subs, inst);
    for (const w of inst.waiters.splice(0)) {
      w();
    }
    this.scheduler.wake();
  }

  private removeInstance(inst: Instance): void {
    inst.store.remove();
    this.instances.delete(inst.s.instanceId);
    this.scheduler.forget(inst.s.instanceId);
  }

  /** A host fault (e.g. a failed disk write) fails the instance it hit, never the process. */
  private internalError(inst: Instance, err: unknown): void {
    const message = `LocalHost: internal error while running instance '${inst.s.instanceId}': ${errorText(err)}.`;
    this.opts.logger.error(message);
    if (!isTerminal(inst.s.runtimeStatus) && !this.closed) {
      this.guard(() => this.fail(inst, message));
    }
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.opts.logger.error(`LocalHost: internal error: ${errorText(err)}.`);
    }
  }
}
