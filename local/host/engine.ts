/**
 * The orchestration engine of the local host: a DTFx-style replay loop around the real
 * durable-functions orchestrator handlers.
 *
 * Each episode ships the whole history plus the newly delivered events to the orchestrator (as
 * the Durable extension does), reads back the cumulative action list, checks the replayed
 * prefix against what history recorded (non-determinism), gives new actions their event ids
 * (the same counter the SDK uses: activities, timers and sub-orchestrations share it), persists
 * the episode, then dispatches the new work. Retries follow DTFx's RetryInterceptor: a timer
 * after every failed attempt, then a fresh attempt with the next id; a retried failure and its
 * timer are delivered alone in their episode so both sides allocate ids in the same order.
 */
import * as path from "node:path";
import * as fs from "node:fs";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { findFunction, fromTypedData, invokeFunction, type RpcTypedData } from "./registry.js";
import {
  applyRecord,
  bytesWritten,
  completionKey,
  dirNameFor,
  InstanceStore,
  type InstanceState,
  type JournalRecord,
  type Pending,
  type RetryInfo,
  type StatusFields,
} from "./store.js";
import {
  EventType,
  type HistoryEntry,
  type HistoryEvent,
  type HostLogger,
  type InstanceFilter,
  type InstanceStatus,
  type ReplayCounters,
  type ReplayStats,
  type RuntimeStatus,
} from "./types.js";

const TERMINAL: RuntimeStatus[] = ["Completed", "Failed", "Terminated"];
const FAILURE_TAIL = "\n\n$OutOfProcData$:";

/** Action as the SDK serialises it in `OrchestratorState.actions`. */
interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  retryOptions?: RetryInfo["options"];
  compoundActions?: SdkAction[];
}

interface SdkState {
  isDone: boolean;
  actions: SdkAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

interface Instance {
  s: InstanceState;
  store: InstanceStore;
  busy: boolean;
  /** Activities of this instance waiting in the queue (not started). */
  queued: number;
  /** Completion keys present in the inbox, to drop duplicate deliveries. */
  inboxKeys: Set<string>;
  /** Committed history as comma-joined JSON, so episodes do not re-serialise it. */
  histJson: string;
  waiters: (() => void)[];
  /** True once a finished instance's history was dropped from memory (it stays on disk). */
  released?: boolean;
}

interface ActivityJob {
  instanceId: string;
  executionId: string;
  id: number;
  name: string;
  input?: string;
}

/** Engine options (a subset of the host options, resolved). */
export interface EngineOptions {
  stateDir: string;
  activityConcurrency: number;
  clock: "real" | "virtual";
  deliveryBatch: number;
  compactionBytes: number;
  logger: HostLogger;
}

function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL.includes(status);
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) {
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function describe(value: unknown): string {
  try {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text === undefined ? String(value) : text.slice(0, 200);
  } catch {
    return String(value);
  }
}

/**
 * Indexes (in flattened order) of leaf actions that are the very same object as an earlier leaf:
 * a task the code yielded again after it was scheduled. Only visible on the live state object,
 * before serialisation loses object identity.
 */
function reYieldedLeaves(result: unknown): number[] {
  const actions = (result as { actions?: unknown } | undefined)?.actions;
  if (!Array.isArray(actions)) {
    return [];
  }
  const seen = new Set<unknown>();
  const out: number[] = [];
  let index = 0;
  const walk = (a: SdkAction): void => {
    if ((a.actionType === 11 || a.actionType === 12) && a.compoundActions) {
      a.compoundActions.forEach(walk);
      return;
    }
    if (seen.has(a)) {
      out.push(index);
    }
    seen.add(a);
    index++;
  };
  for (const group of actions as SdkAction[][]) {
    group.forEach(walk);
  }
  return out;
}

function flatten(actions: SdkAction[][], out: SdkAction[] = []): SdkAction[] {
  const walk = (a: SdkAction): void => {
    if ((a.actionType === 11 || a.actionType === 12) && a.compoundActions) {
      a.compoundActions.forEach(walk);
    } else {
      out.push(a);
    }
  };
  for (const group of actions) {
    group.forEach(walk);
  }
  return out;
}

const ACTION_NAMES: Record<number, string> = {
  0: "CallActivity",
  1: "CallActivityWithRetry",
  2: "CallSubOrchestrator",
  3: "CallSubOrchestratorWithRetry",
  4: "ContinueAsNew",
  5: "CreateTimer",
  6: "WaitForExternalEvent",
  7: "CallEntity",
  8: "CallHttp",
  9: "SignalEntity",
};

function signature(a: SdkAction): string {
  const kind = ACTION_NAMES[a.actionType] ?? `action type ${a.actionType}`;
  if (a.functionName !== undefined) {
    return `${kind} '${a.functionName}'`;
  }
  if (a.externalEventName !== undefined) {
    return `${kind} '${a.externalEventName}'`;
  }
  return kind;
}

/** Activity and continueAsNew inputs arrive pre-stringified when they are strings. */
function preStringified(input: unknown): string | undefined {
  if (input === undefined) {
    return undefined;
  }
  return typeof input === "string" ? input : JSON.stringify(input);
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

function retryDelay(retry: RetryInfo): number {
  const o = retry.options;
  let delay =
    o.firstRetryIntervalInMilliseconds * Math.pow(o.backoffCoefficient ?? 1, retry.attempt - 1);
  if (o.maxRetryIntervalInMilliseconds && o.maxRetryIntervalInMilliseconds > 0) {
    delay = Math.min(delay, o.maxRetryIntervalInMilliseconds);
  }
  return delay;
}

function emptyCounters(): ReplayCounters {
  return { episodes: 0, eventsReplayed: 0, bytesShipped: 0, ms: 0 };
}

const EVENT_NAMES = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));

/** The replay engine: instances, activity pool, timers and persistence. */
export class Engine {
  private readonly instances = new Map<string, Instance>();
  private readonly ready = new Set<string>();
  private readonly queue: ActivityJob[] = [];
  private queueHead = 0;
  private active = 0;
  private readonly timers = new Map<
    string,
    { instanceId: string; executionId: string; id: number; at: number }
  >();
  private realTimer: NodeJS.Timeout | undefined;
  private realTimerAt = Infinity;
  private pumpScheduled = false;
  private pumping = false;
  /** Set by stop(): no new work is dispatched. */
  private stopped = false;
  /** Set once stop() has waited for work in flight: nothing is persisted any more. */
  private closed = false;
  private clockOffset = 0;
  private readonly counters = new Map<string, ReplayCounters>();
  private readonly total = emptyCounters();
  private readonly running = new Set<Promise<void>>();
  private readonly writtenAtStart = bytesWritten();

  /**
   * @param opts - resolved engine options
   */
  constructor(private readonly opts: EngineOptions) {}

  /** Current time on the host clock (virtual time may run ahead of the wall clock). */
  now(): number {
    return Date.now() + this.clockOffset;
  }

  private nowIso(): string {
    return new Date(this.now()).toISOString();
  }

  private instanceDir(id: string): string {
    return path.join(this.opts.stateDir, "instances", dirNameFor(id));
  }

  // ---------------------------------------------------------------- persistence

  private commit(inst: Instance, rec: JournalRecord): void {
    inst.store.append(rec);
    inst.s = applyRecord(inst.s, rec);
    if (rec.k === "in") {
      const key = completionKey(rec.e);
      if (key !== undefined) {
        inst.inboxKeys.add(key);
      }
    }
    const limit = Math.max(this.opts.compactionBytes, inst.store.snapshotBytes * 2);
    if (inst.store.journalBytes > limit) {
      inst.store.compact(inst.s);
    }
  }

  private rebuildCaches(inst: Instance): void {
    inst.histJson = inst.s.history.map((e) => JSON.stringify(e)).join(",");
    inst.inboxKeys = new Set(
      inst.s.inbox.map(completionKey).filter((k): k is string => k !== undefined),
    );
  }

  /** Loads every instance in the state directory and resumes the unfinished ones. */
  resumeAll(): void {
    const root = path.join(this.opts.stateDir, "instances");
    fs.mkdirSync(root, { recursive: true });
    for (const dir of fs.readdirSync(root)) {
      const instanceId = decodeURIComponent(dir);
      const store = new InstanceStore(path.join(root, dir));
      const loaded = store.load();
      let s = loaded.state;
      if (!s || loaded.error) {
        const message = `LocalHost: the state of instance '${instanceId}' is corrupt: ${loaded.error ?? "unknown reason"}.`;
        this.opts.logger.error(message);
        store.quarantine();
        const now = this.nowIso();
        s = this.blankState(instanceId, s?.name ?? "unknown", undefined, undefined, now);
        s.runtimeStatus = "Failed";
        s.output = JSON.stringify(message);
        s.inbox = [];
        store.compact(s);
      }
      const inst: Instance = {
        s,
        store,
        busy: false,
        queued: 0,
        inboxKeys: new Set(),
        histJson: "",
        waiters: [],
      };
      this.rebuildCaches(inst);
      this.instances.set(instanceId, inst);
    }
    for (const inst of this.instances.values()) {
      if (isTerminal(inst.s.runtimeStatus)) {
        inst.store.close();
        this.release(inst);
        continue;
      }
      for (const [key, p] of Object.entries(inst.s.pending)) {
        if (!inst.inboxKeys.has(key)) {
          this.dispatch(inst, Number(key), p);
        }
      }
      this.markReady(inst);
    }
    this.schedulePump();
  }

  private blankState(
    instanceId: string,
    name: string,
    input: string | undefined,
    parent: InstanceState["parent"],
    now: string,
  ): InstanceState {
    const executionId = randomUUID();
    return {
      v: 1,
      instanceId,
      name,
      executionId,
      ...(input !== undefined ? { input } : {}),
      ...(parent ? { parent } : {}),
      runtimeStatus: "Pending",
      createdTime: now,
      lastUpdatedTime: now,
      history: [],
      inbox: [
        {
          EventType: EventType.ExecutionStarted,
          EventId: -1,
          IsPlayed: false,
          Timestamp: now,
          Name: name,
          ...(input !== undefined ? { Input: input } : {}),
          OrchestrationInstance: { InstanceId: instanceId, ExecutionId: executionId },
          ParentInstance: parent
            ? { Name: parent.name, OrchestrationInstance: { InstanceId: parent.instanceId } }
            : null,
        },
      ],
      nextSeq: 0,
      actionSigs: [],
      actionIds: [],
      pending: {},
    };
  }

  // ---------------------------------------------------------------- public operations

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
    const now = this.nowIso();
    const s = this.blankState(id, name, inputText, parent, now);
    const inst: Instance = {
      s,
      store: new InstanceStore(this.instanceDir(id)),
      busy: false,
      queued: 0,
      inboxKeys: new Set(),
      histJson: "",
      waiters: [],
    };
    this.instances.set(id, inst);
    this.commit(inst, { k: "init", s });
    if (inputError) {
      this.fail(inst, inputError);
      return id;
    }
    const fn = findFunction(name);
    if (!fn || fn.trigger !== "orchestrationTrigger") {
      this.fail(inst, `LocalHost: no orchestrator function named '${name}' is registered.`);
      return id;
    }
    this.markReady(inst);
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
    return inst ? this.toStatus(inst, showHistory, showInput) : undefined;
  }

  private toStatus(inst: Instance, showHistory: boolean, showInput: boolean): InstanceStatus {
    const s = inst.s;
    const status: InstanceStatus = {
      name: s.name,
      instanceId: s.instanceId,
      createdTime: s.createdTime,
      lastUpdatedTime: s.lastUpdatedTime,
      input: showInput ? parseJson(s.input) : null,
      output: parseJson(s.output),
      runtimeStatus: s.runtimeStatus,
      customStatus: parseJson(s.customStatus),
    };
    if (showHistory) {
      const history = inst.released
        ? (new InstanceStore(inst.store.dir).load(true).state?.history ?? [])
        : s.history;
      status.history = history
        .filter(
          (e) =>
            e.EventType !== EventType.OrchestratorStarted &&
            e.EventType !== EventType.OrchestratorCompleted,
        )
        .map((e) => {
          const entry: HistoryEntry = {
            EventType: EVENT_NAMES[e.EventType] ?? String(e.EventType),
            Timestamp: e.Timestamp,
          };
          if (e.Name !== undefined) {
            entry.Name = e.Name;
          }
          if (e.Result !== undefined) {
            entry.Result = parseJson(e.Result);
          }
          if (e.Reason !== undefined) {
            entry.FailureDetails = e.Reason;
          }
          if (e.FireAt !== undefined) {
            entry.FireAt = e.FireAt;
          }
          return entry;
        });
    }
    return status;
  }

  /**
   * Instances matching a filter, oldest first.
   *
   * @param filter - optional status/time/prefix filter
   */
  list(filter: InstanceFilter = {}): InstanceStatus[] {
    const from = filter.createdTimeFrom?.getTime() ?? -Infinity;
    const to = filter.createdTimeTo?.getTime() ?? Infinity;
    return [...this.instances.values()]
      .filter((inst) => {
        const s = inst.s;
        const created = Date.parse(s.createdTime);
        return (
          (!filter.runtimeStatus ||
            filter.runtimeStatus.length === 0 ||
            filter.runtimeStatus.includes(s.runtimeStatus)) &&
          created >= from &&
          created <= to &&
          (!filter.instanceIdPrefix || s.instanceId.startsWith(filter.instanceIdPrefix))
        );
      })
      .sort(
        (a, b) =>
          a.s.createdTime.localeCompare(b.s.createdTime) ||
          a.s.instanceId.localeCompare(b.s.instanceId),
      )
      .map((inst) => this.toStatus(inst, false, true));
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
    this.deliver(inst, {
      EventType: EventType.EventRaised,
      EventId: -1,
      IsPlayed: false,
      Timestamp: this.nowIso(),
      Name: name,
      ...(input !== undefined ? { Input: input } : {}),
    });
    return true;
  }

  /**
   * Terminates a running instance.
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
    this.finish(
      inst,
      {
        runtimeStatus: "Terminated",
        output: JSON.stringify(reason),
        lastUpdatedTime: this.nowIso(),
      },
      true,
    );
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

  private removeInstance(inst: Instance): void {
    inst.store.remove();
    this.instances.delete(inst.s.instanceId);
    this.ready.delete(inst.s.instanceId);
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
          resolve(this.toStatus(inst, false, true));
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
      const inst = this.instances.get(id);
      inst?.waiters.push(() => {
        clearTimeout(timer);
        check();
      });
    });
  }

  /** Replay statistics per instance and in total. */
  stats(): ReplayStats {
    return {
      persistedBytes: bytesWritten() - this.writtenAtStart,
      total: { ...this.total },
      instances: Object.fromEntries([...this.counters.entries()].map(([k, v]) => [k, { ...v }])),
    };
  }

  /**
   * Stops dispatching, waits up to `graceMs` for running activities and the current episode,
   * then snapshots every instance.
   *
   * @param graceMs - how long to wait for work in flight
   */
  async stop(graceMs = 2000): Promise<void> {
    this.stopped = true;
    if (this.realTimer) {
      clearTimeout(this.realTimer);
      this.realTimer = undefined;
    }
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

  private deliver(inst: Instance, e: HistoryEvent): void {
    if (this.closed) {
      return;
    }
    const key = completionKey(e);
    if (key !== undefined && (inst.inboxKeys.has(key) || !inst.s.pending[key])) {
      return;
    }
    this.commit(inst, { k: "in", e });
    this.markReady(inst);
  }

  private markReady(inst: Instance): void {
    this.ready.add(inst.s.instanceId);
    this.schedulePump();
  }

  private dispatch(inst: Instance, id: number, p: Pending): void {
    const s = inst.s;
    if (p.k === "act") {
      this.queue.push({
        instanceId: s.instanceId,
        executionId: s.executionId,
        id,
        name: p.name,
        ...(p.input !== undefined ? { input: p.input } : {}),
      });
      inst.queued++;
      this.pumpActivities();
    } else if (p.k === "timer") {
      const at = Date.parse(p.fireAt);
      this.timers.set(`${s.instanceId}\u0000${s.executionId}\u0000${id}`, {
        instanceId: s.instanceId,
        executionId: s.executionId,
        id,
        at,
      });
      this.armRealTimer();
    } else {
      this.ensureChild(inst, id, p);
    }
  }

  private ensureChild(parent: Instance, taskId: number, p: Extract<Pending, { k: "sub" }>): void {
    if (this.stopped) {
      // The pending entry stays persisted; the next start creates the child on resume.
      return;
    }
    const ps = parent.s;
    const child = this.instances.get(p.childId);
    const ours =
      child?.s.parent?.instanceId === ps.instanceId &&
      child.s.parent.executionId === ps.executionId &&
      child.s.parent.taskId === taskId;
    if (child && ours) {
      if (isTerminal(child.s.runtimeStatus)) {
        this.notifyParent(child);
      }
      return;
    }
    if (child && !isTerminal(child.s.runtimeStatus)) {
      this.deliver(parent, {
        EventType: EventType.SubOrchestrationInstanceFailed,
        EventId: -1,
        IsPlayed: false,
        Timestamp: this.nowIso(),
        TaskScheduledId: taskId,
        Reason: `LocalHost: a sub-orchestration with id '${p.childId}' is already running.`,
        Details: "",
      });
      return;
    }
    this.startNew(
      p.name,
      p.childId,
      p.input,
      {
        instanceId: ps.instanceId,
        name: ps.name,
        taskId,
        executionId: ps.executionId,
      },
      true,
    );
  }

  private notifyParent(child: Instance): void {
    const cs = child.s;
    if (!cs.parent) {
      return;
    }
    const parent = this.instances.get(cs.parent.instanceId);
    if (
      !parent ||
      parent.s.executionId !== cs.parent.executionId ||
      isTerminal(parent.s.runtimeStatus)
    ) {
      return;
    }
    const base = {
      EventId: -1,
      IsPlayed: false,
      Timestamp: this.nowIso(),
      TaskScheduledId: cs.parent.taskId,
    };
    if (cs.runtimeStatus === "Completed") {
      this.deliver(parent, {
        ...base,
        EventType: EventType.SubOrchestrationInstanceCompleted,
        Result: cs.output ?? "null",
      });
    } else {
      const message = describe(parseJson(cs.output));
      this.deliver(parent, {
        ...base,
        EventType: EventType.SubOrchestrationInstanceFailed,
        Reason:
          cs.runtimeStatus === "Terminated"
            ? `Sub-orchestration '${cs.instanceId}' was terminated: ${message}`
            : message,
        Details: "",
      });
    }
  }

  private pumpActivities(): void {
    while (
      !this.stopped &&
      this.active < this.opts.activityConcurrency &&
      this.queueHead < this.queue.length
    ) {
      const job = this.queue[this.queueHead++]!;
      if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      const inst = this.instances.get(job.instanceId);
      if (inst) {
        inst.queued = Math.max(0, inst.queued - 1);
        if (inst.queued === 0 && inst.s.inbox.length > 0) {
          this.markReady(inst);
        }
      }
      if (!inst || !this.stillWanted(inst, job.executionId, job.id)) {
        continue;
      }
      this.active++;
      // Each activity starts in its own macrotask, as a worker receiving it over gRPC would, so
      // episodes interleave with completions instead of waiting for a whole microtask chain.
      const run = new Promise<void>((r) => setImmediate(r))
        .then(() => this.runActivity(job))
        .catch((err: unknown) => {
          const owner = this.instances.get(job.instanceId);
          if (owner) {
            this.internalError(owner, err);
          }
        })
        .finally(() => {
          this.active--;
          this.running.delete(run);
          this.pumpActivities();
          this.schedulePump();
        });
      this.running.add(run);
    }
  }

  private stillWanted(inst: Instance, executionId: string, id: number): boolean {
    return (
      inst.s.executionId === executionId &&
      !isTerminal(inst.s.runtimeStatus) &&
      inst.s.pending[String(id)] !== undefined &&
      !inst.inboxKeys.has(String(id))
    );
  }

  private async runActivity(job: ActivityJob): Promise<void> {
    const base = { EventId: -1, IsPlayed: false, TaskScheduledId: job.id };
    let event: HistoryEvent;
    const fn = findFunction(job.name);
    if (!fn || fn.trigger !== "activityTrigger") {
      event = {
        ...base,
        EventType: EventType.TaskFailed,
        Timestamp: this.nowIso(),
        Reason: `LocalHost: no activity function named '${job.name}' is registered.`,
        Details: "",
      };
    } else {
      try {
        const response = await invokeFunction(fn, {
          [fn.triggerBindingName]: job.input === undefined ? undefined : { string: job.input },
        });
        event = {
          ...base,
          EventType: EventType.TaskCompleted,
          Timestamp: this.nowIso(),
          Result: resultText(response.returnValue),
        };
      } catch (err) {
        const reason =
          err instanceof Error
            ? `Activity function '${job.name}' failed: ${err.message}`
            : `LocalHost: activity '${job.name}' threw a non-Error value: ${describe(err)}.`;
        event = {
          ...base,
          EventType: EventType.TaskFailed,
          Timestamp: this.nowIso(),
          Reason: reason,
          Details: err instanceof Error ? (err.stack ?? "") : "",
        };
      }
    }
    const inst = this.instances.get(job.instanceId);
    if (inst && !this.closed && this.stillWanted(inst, job.executionId, job.id)) {
      this.deliver(inst, event);
    }
  }

  // ---------------------------------------------------------------- clock

  private armRealTimer(): void {
    if (this.opts.clock !== "real" || this.stopped) {
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
        this.guard(() => this.fireDue(this.now()));
        this.armRealTimer();
      },
      Math.min(Math.max(0, earliest - this.now()), 2_147_000_000),
    );
  }

  private fireDue(now: number): void {
    for (const [key, t] of this.timers) {
      if (t.at > now) {
        continue;
      }
      this.timers.delete(key);
      const inst = this.instances.get(t.instanceId);
      if (!inst || !this.stillWanted(inst, t.executionId, t.id)) {
        continue;
      }
      const p = inst.s.pending[String(t.id)];
      this.deliver(inst, {
        EventType: EventType.TimerFired,
        EventId: -1,
        IsPlayed: false,
        Timestamp: this.nowIso(),
        TimerId: t.id,
        FireAt: p?.k === "timer" ? p.fireAt : new Date(t.at).toISOString(),
      });
    }
  }

  /** With a virtual clock, jumps to the earliest timer once nothing else can run. */
  private advanceVirtualClock(): void {
    if (
      this.opts.clock !== "virtual" ||
      this.stopped ||
      this.active > 0 ||
      this.queueHead < this.queue.length
    ) {
      return;
    }
    let earliest = Infinity;
    for (const [key, t] of this.timers) {
      const inst = this.instances.get(t.instanceId);
      if (!inst || !this.stillWanted(inst, t.executionId, t.id)) {
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

  // ---------------------------------------------------------------- episodes

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) {
      return;
    }
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      void this.pump();
    });
  }

  private nextReady(): Instance | undefined {
    for (const id of this.ready) {
      const inst = this.instances.get(id);
      if (!inst || isTerminal(inst.s.runtimeStatus) || inst.s.inbox.length === 0) {
        this.ready.delete(id);
        continue;
      }
      if (inst.busy) {
        continue;
      }
      if (inst.queued === 0 || inst.s.inbox.length >= this.opts.deliveryBatch) {
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
        const run = this.runEpisode(inst).catch((err: unknown) => this.internalError(inst, err));
        this.running.add(run);
        try {
          await run;
        } finally {
          this.running.delete(run);
        }
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.pumping = false;
    }
    if (this.ready.size === 0 || !this.nextReadyExists()) {
      this.guard(() => this.advanceVirtualClock());
    }
  }

  private nextReadyExists(): boolean {
    for (const id of this.ready) {
      const inst = this.instances.get(id);
      if (inst && !isTerminal(inst.s.runtimeStatus) && inst.s.inbox.length > 0) {
        return true;
      }
    }
    return false;
  }

  private counter(id: string): ReplayCounters {
    let c = this.counters.get(id);
    if (!c) {
      c = emptyCounters();
      this.counters.set(id, c);
    }
    return c;
  }

  private isRetryEvent(s: InstanceState, e: HistoryEvent): boolean {
    const key = completionKey(e);
    const p = key === undefined ? undefined : s.pending[key];
    if (!p) {
      return false;
    }
    if (
      e.EventType === EventType.TaskFailed ||
      e.EventType === EventType.SubOrchestrationInstanceFailed
    ) {
      return p.k !== "timer" && p.retry !== undefined;
    }
    return e.EventType === EventType.TimerFired && p.k === "timer" && p.retryOf !== undefined;
  }

  private pickBatch(s: InstanceState): HistoryEvent[] {
    const first = s.inbox[0]!;
    if (this.isRetryEvent(s, first)) {
      return [first];
    }
    let n = 1;
    while (n < s.inbox.length && !this.isRetryEvent(s, s.inbox[n]!)) {
      n++;
    }
    return s.inbox.slice(0, n);
  }

  private buildPayload(inst: Instance, fresh: HistoryEvent[]): string {
    const s = inst.s;
    const freshJson = fresh.map((e) => JSON.stringify(e)).join(",");
    const history = inst.histJson ? `${inst.histJson},${freshJson}` : freshJson;
    return (
      `{"history":[${history}]` +
      (s.input !== undefined ? `,"input":${s.input}` : "") +
      `,"instanceId":${JSON.stringify(s.instanceId)}` +
      `,"isReplaying":${s.history.length > 0}` +
      `,"parentInstanceId":${s.parent ? JSON.stringify(s.parent.instanceId) : "null"}` +
      `,"upperSchemaVersion":1,"upperSchemaVersionNew":2` +
      // Long timers are split by the SDK beyond this duration; the host does not emulate the
      // extension's long-timer bookkeeping, so it keeps every timer "short" (100 years).
      `,"longRunningTimerIntervalDuration":"3.00:00:00","maximumShortTimerDuration":"36500.00:00:00"` +
      `,"defaultHttpAsyncRequestSleepTimeMillseconds":30000}`
    );
  }

  private async runEpisode(inst: Instance): Promise<void> {
    const s = inst.s;
    const fn = findFunction(s.name);
    if (!fn || fn.trigger !== "orchestrationTrigger") {
      this.fail(inst, `LocalHost: no orchestrator function named '${s.name}' is registered.`);
      return;
    }
    const batch = this.pickBatch(s);
    const now = this.now();
    const nowIso = new Date(now).toISOString();
    const started: HistoryEvent = {
      EventType: EventType.OrchestratorStarted,
      EventId: -1,
      IsPlayed: false,
      Timestamp: nowIso,
    };
    const fresh = [started, ...batch.map((e) => ({ ...e, IsPlayed: false }))];
    const payload = this.buildPayload(inst, fresh);
    const executionId = s.executionId;

    let state: SdkState | undefined;
    let failure: string | undefined;
    let reYielded: number[] = [];
    inst.busy = true;
    const t0 = performance.now();
    try {
      const response = await invokeFunction(
        fn,
        { [fn.triggerBindingName]: { string: payload } },
        (result) => {
          reYielded = reYieldedLeaves(result);
        },
      );
      const value = response.returnValue;
      const text = value?.json ?? value?.string;
      if (text === undefined) {
        throw new Error("the orchestrator returned no state");
      }
      state = JSON.parse(text) as SdkState;
    } catch (err) {
      const message = err instanceof Error ? err.message : describe(err);
      const at = message.indexOf(FAILURE_TAIL);
      if (at >= 0) {
        try {
          state = JSON.parse(message.slice(at + FAILURE_TAIL.length)) as SdkState;
        } catch {
          state = undefined;
        }
        // The SDK puts `orchestratorReturned` (a boolean) before the tail; the error is in the state.
        const reason = state?.error ?? message.slice(0, at);
        failure = reason.includes("programming constraint violation")
          ? `LocalHost: orchestrator '${s.name}' yielded a value that is not a durable task. ${reason}`
          : `Orchestrator function '${s.name}' failed: ${reason}`;
      } else {
        failure = `LocalHost: orchestrator '${s.name}' could not be invoked: ${message}.`;
      }
    } finally {
      inst.busy = false;
      const ms = performance.now() - t0;
      const bytes = Buffer.byteLength(payload);
      const events = s.history.length + fresh.length;
      for (const c of [this.counter(s.instanceId), this.total]) {
        c.episodes++;
        c.eventsReplayed += events;
        c.bytesShipped += bytes;
        c.ms += ms;
      }
    }
    if (
      this.closed ||
      this.instances.get(s.instanceId) !== inst ||
      inst.s.executionId !== executionId ||
      isTerminal(inst.s.runtimeStatus)
    ) {
      return;
    }
    const newReYields = reYielded.filter((i) => i >= s.actionSigs.length);
    if (failure === undefined && newReYields.length > 0) {
      failure =
        `LocalHost: orchestrator '${s.name}' yielded an already scheduled task again inside Task.all or Task.any (action #${newReYields[0]}). ` +
        "The SDK lists its action a second time, so the extension would schedule it again and shift the event ids of later tasks; yield each task once.";
    }
    this.applyEpisode(inst, batch, started, now, state, failure);
  }

  private applyEpisode(
    inst: Instance,
    batch: HistoryEvent[],
    started: HistoryEvent,
    now: number,
    state: SdkState | undefined,
    failure: string | undefined,
  ): void {
    const s = inst.s;
    const nowIso = started.Timestamp;
    const add: HistoryEvent[] = [
      { ...started, IsPlayed: true },
      ...batch.map((e) => ({ ...e, IsPlayed: true })),
    ];
    const pend: Record<string, Pending | null> = {};
    const toDispatch: [number, Pending][] = [];
    let seq = s.nextSeq;
    const schedule = (id: number, p: Pending): void => {
      pend[String(id)] = p;
      toDispatch.push([id, p]);
      if (p.k === "act") {
        add.push({
          EventType: EventType.TaskScheduled,
          EventId: id,
          IsPlayed: true,
          Timestamp: nowIso,
          Name: p.name,
          ...(p.input !== undefined ? { Input: p.input } : {}),
        });
      } else if (p.k === "timer") {
        add.push({
          EventType: EventType.TimerCreated,
          EventId: id,
          IsPlayed: true,
          Timestamp: nowIso,
          FireAt: p.fireAt,
        });
      } else {
        add.push({
          EventType: EventType.SubOrchestrationInstanceCreated,
          EventId: id,
          IsPlayed: true,
          Timestamp: nowIso,
          Name: p.name,
          InstanceId: p.childId,
          ...(p.input !== undefined ? { Input: p.input } : {}),
        });
      }
    };

    // Retry bookkeeping first: the SDK allocates these ids while it replays the delivered event.
    for (const e of batch) {
      const key = completionKey(e);
      if (key === undefined) {
        continue;
      }
      const p = s.pending[key];
      pend[key] = null;
      if (!p) {
        continue;
      }
      const failed =
        e.EventType === EventType.TaskFailed ||
        e.EventType === EventType.SubOrchestrationInstanceFailed;
      if (failed && p.k !== "timer" && p.retry) {
        schedule(seq++, {
          k: "timer",
          fireAt: new Date(now + retryDelay(p.retry)).toISOString(),
          retryOf: {
            kind: p.k,
            name: p.name,
            ...(p.input !== undefined ? { input: p.input } : {}),
            ...(p.k === "sub" && p.explicitId ? { explicitId: p.explicitId } : {}),
            retry: p.retry,
          },
        });
      } else if (
        e.EventType === EventType.TimerFired &&
        p.k === "timer" &&
        p.retryOf &&
        p.retryOf.retry.attempt < p.retryOf.retry.options.maxNumberOfAttempts
      ) {
        const o = p.retryOf;
        const id = seq++;
        const retry = { options: o.retry.options, attempt: o.retry.attempt + 1 };
        if (o.kind === "act") {
          schedule(id, {
            k: "act",
            name: o.name,
            ...(o.input !== undefined ? { input: o.input } : {}),
            retry,
          });
        } else {
          schedule(id, {
            k: "sub",
            name: o.name,
            ...(o.input !== undefined ? { input: o.input } : {}),
            childId: o.explicitId ?? `${s.instanceId}:${id}`,
            ...(o.explicitId ? { explicitId: o.explicitId } : {}),
            retry,
          });
        }
      }
    }

    const leaves = state ? flatten(state.actions ?? []) : [];
    const sigs = leaves.map(signature);
    let problem: string | undefined;
    const recorded = s.actionSigs;
    if (state) {
      for (let i = 0; i < recorded.length; i++) {
        if (i >= sigs.length || sigs[i] !== recorded[i]) {
          problem =
            `LocalHost: non-deterministic orchestration '${s.name}' (instance '${s.instanceId}'): ` +
            `action #${i} was ${recorded[i]} in history, but the code now ${i >= sigs.length ? "scheduled nothing" : `scheduled ${sigs[i]}`}.`;
          break;
        }
      }
    }
    const newSigs: string[] = [];
    const newIds: (number | null)[] = [];
    let continueInput: string | undefined;
    let continueAsNew = false;
    if (!problem && state) {
      for (let i = recorded.length; i < leaves.length && !problem; i++) {
        const a = leaves[i]!;
        newSigs.push(sigs[i]!);
        let id: number | null = null;
        try {
          switch (a.actionType) {
            case 0:
            case 1:
              id = seq++;
              schedule(id, {
                k: "act",
                name: a.functionName ?? "",
                ...(a.input !== undefined ? { input: preStringified(a.input) } : {}),
                ...(a.actionType === 1 && a.retryOptions
                  ? { retry: { options: a.retryOptions, attempt: 1 } }
                  : {}),
              });
              break;
            case 2:
            case 3: {
              id = seq++;
              const input = a.input === undefined ? undefined : JSON.stringify(a.input);
              schedule(id, {
                k: "sub",
                name: a.functionName ?? "",
                ...(input !== undefined ? { input } : {}),
                childId: a.instanceId || `${s.instanceId}:${id}`,
                ...(a.instanceId ? { explicitId: a.instanceId } : {}),
                ...(a.actionType === 3 && a.retryOptions
                  ? { retry: { options: a.retryOptions, attempt: 1 } }
                  : {}),
              });
              break;
            }
            case 5:
              id = seq++;
              if (!a.isCanceled) {
                schedule(id, { k: "timer", fireAt: new Date(a.fireAt ?? nowIso).toISOString() });
              } else {
                add.push({
                  EventType: EventType.TimerCreated,
                  EventId: id,
                  IsPlayed: true,
                  Timestamp: nowIso,
                  FireAt: a.fireAt ?? nowIso,
                });
              }
              break;
            case 4:
              continueAsNew = true;
              continueInput = preStringified(a.input);
              break;
            case 6:
              break;
            default:
              problem = `LocalHost: orchestrator '${s.name}' used ${signature(a)}, which the local host does not emulate (entities and callHttp are not supported).`;
          }
        } catch (err) {
          problem = `LocalHost: orchestrator '${s.name}' scheduled ${signature(a)} with an input that is not JSON-serialisable: ${(err as Error).message}.`;
        }
        newIds.push(id);
      }
      // A cancelled timer is dropped so a virtual clock does not jump to it for nothing.
      for (let i = 0; i < recorded.length; i++) {
        const a = leaves[i]!;
        const id = s.actionIds[i];
        if (
          a.actionType === 5 &&
          a.isCanceled &&
          id !== null &&
          id !== undefined &&
          s.pending[String(id)]?.k === "timer"
        ) {
          pend[String(id)] = null;
        }
      }
    }

    const st: StatusFields = { lastUpdatedTime: nowIso };
    if (state && state.customStatus !== undefined) {
      try {
        st.customStatus = JSON.stringify(state.customStatus);
      } catch (err) {
        problem ??= `LocalHost: the custom status of instance '${s.instanceId}' is not JSON-serialisable: ${(err as Error).message}.`;
      }
    }
    const message = problem ?? failure;
    let outcome: "running" | "completed" | "failed" | "continue" = "running";
    if (message !== undefined) {
      outcome = "failed";
      st.runtimeStatus = "Failed";
      st.output = JSON.stringify(message);
    } else if (state?.isDone) {
      if (continueAsNew) {
        outcome = "continue";
      } else {
        outcome = "completed";
        st.runtimeStatus = "Completed";
        try {
          st.output = state.output === undefined ? undefined : JSON.stringify(state.output);
        } catch (err) {
          outcome = "failed";
          st.runtimeStatus = "Failed";
          st.output = JSON.stringify(
            `LocalHost: the output of instance '${s.instanceId}' is not JSON-serialisable: ${(err as Error).message}.`,
          );
        }
      }
    } else {
      st.runtimeStatus = "Running";
    }
    if (outcome === "failed" || outcome === "completed") {
      add.push({
        EventType: EventType.ExecutionCompleted,
        EventId: -1,
        IsPlayed: true,
        Timestamp: nowIso,
        OrchestrationStatus: outcome === "completed" ? 1 : 3,
        ...(st.output !== undefined ? { Result: st.output } : {}),
      });
    }
    add.push({
      EventType: EventType.OrchestratorCompleted,
      EventId: -1,
      IsPlayed: true,
      Timestamp: nowIso,
    });

    const histBefore = s.history.length;
    this.commit(inst, { k: "ep", add, n: batch.length, seq, sigs: newSigs, ids: newIds, pend, st });
    if (inst.s.history.length === histBefore + add.length) {
      const json = add.map((e) => JSON.stringify(e)).join(",");
      inst.histJson = inst.histJson ? `${inst.histJson},${json}` : json;
    } else {
      this.rebuildCaches(inst);
    }
    for (const e of batch) {
      const key = completionKey(e);
      if (key !== undefined) {
        inst.inboxKeys.delete(key);
      }
    }

    if (outcome === "failed" || outcome === "completed") {
      this.finish(inst, {}, true);
      return;
    }
    if (outcome === "continue") {
      this.continueAsNew(inst, continueInput);
      return;
    }
    for (const [id, p] of toDispatch) {
      this.dispatch(inst, id, p);
    }
    if (inst.s.inbox.length > 0) {
      this.markReady(inst);
    }
  }

  private continueAsNew(inst: Instance, input: string | undefined): void {
    const old = inst.s;
    const now = this.nowIso();
    const s = this.blankState(old.instanceId, old.name, input, old.parent, now);
    s.createdTime = old.createdTime;
    s.runtimeStatus = "Running";
    if (old.customStatus !== undefined) {
      s.customStatus = old.customStatus;
    }
    // External events that arrived after the last episode belong to the new execution.
    s.inbox.push(...old.inbox.filter((e) => e.EventType === EventType.EventRaised));
    this.commit(inst, { k: "init", s });
    inst.store.compact(inst.s);
    this.rebuildCaches(inst);
    this.markReady(inst);
  }

  /** A host fault (e.g. a failed disk write) fails the instance it hit, never the process. */
  private internalError(inst: Instance, err: unknown): void {
    const message = `LocalHost: internal error while running instance '${inst.s.instanceId}': ${err instanceof Error ? err.message : describe(err)}.`;
    this.opts.logger.error(message);
    if (!isTerminal(inst.s.runtimeStatus) && !this.closed) {
      this.guard(() => this.fail(inst, message));
    }
  }

  private guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.opts.logger.error(
        `LocalHost: internal error: ${err instanceof Error ? err.message : describe(err)}.`,
      );
    }
  }

  /**
   * Drops a finished instance's history, actions and pending work from memory: they are in its
   * snapshot, nothing changes them any more, and a state directory full of finished large runs
   * would otherwise all sit in memory. `showHistory` reads them back from disk.
   */
  private release(inst: Instance): void {
    inst.s.history = [];
    inst.s.inbox = [];
    inst.s.actionSigs = [];
    inst.s.actionIds = [];
    inst.s.pending = {};
    inst.histJson = "";
    inst.released = true;
  }

  private fail(inst: Instance, message: string): void {
    this.opts.logger.warn(message);
    this.finish(
      inst,
      { runtimeStatus: "Failed", output: JSON.stringify(message), lastUpdatedTime: this.nowIso() },
      true,
    );
  }

  private finish(inst: Instance, st: StatusFields, clear: boolean): void {
    if (Object.keys(st).length > 0 || clear) {
      this.commit(inst, { k: "st", st, clear });
    }
    inst.inboxKeys.clear();
    inst.store.compact(inst.s);
    inst.store.close();
    this.release(inst);
    this.ready.delete(inst.s.instanceId);
    this.notifyParent(inst);
    const waiters = inst.waiters.splice(0);
    for (const w of waiters) {
      w();
    }
    this.schedulePump();
  }
}
