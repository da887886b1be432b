/**
 * One episode of an instance, from the inbox events it consumes to the journal record it
 * commits. `pickBatch` chooses the events; `planEpisode` turns the orchestrator's answer into
 * history, new pending work and a status, without side effects: the engine commits the record
 * and then dispatches the work.
 *
 * Order inside an episode follows the SDK's task-id counter: first the retry timers and attempts
 * the delivered events cause, then the new leaf actions in the order the code yielded them
 * (activities, sub-orchestrations and timers share the counter). The leaf actions of earlier
 * episodes must come back unchanged (same signature at the same index), else the instance fails
 * as non-deterministic.
 */
import {
  actionSignature,
  ActionType,
  flattenActions,
  preStringified,
  type SdkAction,
  type SdkState,
} from "./actions.js";
import {
  executionCompleted,
  orchestratorCompleted,
  subOrchestrationCreated,
  taskScheduled,
  timerCreated,
} from "./history.js";
import type { EpisodeRecord } from "./instance.js";
import { isRetryEvent, retryFollowUp } from "./retries.js";
import { completionKey, type InstanceState, type Pending, type StatusFields } from "./store.js";
import type { HistoryEvent } from "./types.js";

/** How an episode leaves the instance. */
export type EpisodeOutcome = "running" | "completed" | "failed" | "continue";

/** What the engine commits and does after an episode. */
export interface EpisodePlan {
  record: EpisodeRecord;
  /** New work (activities, timers, sub-orchestrations) by event id, to dispatch after commit. */
  toDispatch: [number, Pending][];
  outcome: EpisodeOutcome;
  /** JSON text of the next execution's input when the outcome is `continue`. */
  continueInput?: string;
}

/**
 * The inbox events the next episode gets: everything up to the next retry event, or a retry
 * event alone (see `retries.ts`).
 *
 * @param s - instance state with a non-empty inbox
 */
export function pickBatch(s: InstanceState): HistoryEvent[] {
  const first = s.inbox[0]!;
  if (isRetryEvent(s, first)) {
    return [first];
  }
  let n = 1;
  while (n < s.inbox.length && !isRetryEvent(s, s.inbox[n]!)) {
    n++;
  }
  return s.inbox.slice(0, n);
}

/** Collects the history, pending changes and new work of one episode. */
class EpisodeBuilder {
  readonly add: HistoryEvent[];
  /** Pending work by key: set when scheduled, null when settled or cancelled. */
  readonly pend: Record<string, Pending | null> = {};
  readonly toDispatch: [number, Pending][] = [];

  /**
   * @param seq - next free event id
   * @param started - the episode's `OrchestratorStarted`
   * @param batch - the delivered events
   */
  constructor(
    public seq: number,
    readonly started: HistoryEvent,
    batch: HistoryEvent[],
  ) {
    this.add = [{ ...started, IsPlayed: true }, ...batch.map((e) => ({ ...e, IsPlayed: true }))];
  }

  get nowIso(): string {
    return this.started.Timestamp;
  }

  schedule(id: number, p: Pending): void {
    this.pend[String(id)] = p;
    this.toDispatch.push([id, p]);
    if (p.k === "act") {
      this.add.push(taskScheduled(id, p.name, p.input, this.nowIso));
    } else if (p.k === "timer") {
      this.add.push(timerCreated(id, p.fireAt, this.nowIso));
    } else {
      this.add.push(subOrchestrationCreated(id, p.name, p.childId, p.input, this.nowIso));
    }
  }
}

/** Retry bookkeeping comes first: the SDK allocates these ids while it replays the batch. */
function scheduleRetries(
  b: EpisodeBuilder,
  s: InstanceState,
  batch: HistoryEvent[],
  now: number,
): void {
  for (const e of batch) {
    const key = completionKey(e);
    if (key === undefined) {
      continue;
    }
    const p = s.pending[key];
    b.pend[key] = null;
    if (!p) {
      continue;
    }
    const next = retryFollowUp(s.instanceId, p, e, now, b.seq);
    if (next) {
      b.schedule(b.seq++, next);
    }
  }
}

function nonDeterminism(s: InstanceState, sigs: string[]): string | undefined {
  const recorded = s.actionSigs;
  for (let i = 0; i < recorded.length; i++) {
    if (i >= sigs.length || sigs[i] !== recorded[i]) {
      return (
        `LocalHost: non-deterministic orchestration '${s.name}' (instance '${s.instanceId}'): ` +
        `action #${i} was ${recorded[i]} in history, but the code now ${i >= sigs.length ? "scheduled nothing" : `scheduled ${sigs[i]}`}.`
      );
    }
  }
  return undefined;
}

/** Activities, sub-orchestrations and timers take the next event id; other actions none. */
function takesEventId(a: SdkAction): boolean {
  switch (a.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry:
    case ActionType.CreateTimer:
      return true;
    default:
      return false;
  }
}

/** Schedules one id-taking action; throws when its input cannot be serialised. */
function scheduleTask(b: EpisodeBuilder, s: InstanceState, a: SdkAction, id: number): void {
  const retry = a.retryOptions ? { retry: { options: a.retryOptions, attempt: 1 } } : {};
  switch (a.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      b.schedule(id, {
        k: "act",
        name: a.functionName ?? "",
        ...(a.input !== undefined ? { input: preStringified(a.input) } : {}),
        ...(a.actionType === ActionType.CallActivityWithRetry ? retry : {}),
      });
      return;
    case ActionType.CallSubOrchestrator:
    case ActionType.CallSubOrchestratorWithRetry: {
      // Sub-orchestration inputs arrive raw, not pre-stringified.
      const input = a.input === undefined ? undefined : JSON.stringify(a.input);
      b.schedule(id, {
        k: "sub",
        name: a.functionName ?? "",
        ...(input !== undefined ? { input } : {}),
        childId: a.instanceId || `${s.instanceId}:${id}`,
        ...(a.instanceId ? { explicitId: a.instanceId } : {}),
        ...(a.actionType === ActionType.CallSubOrchestratorWithRetry ? retry : {}),
      });
      return;
    }
    case ActionType.CreateTimer:
      if (!a.isCanceled) {
        b.schedule(id, { k: "timer", fireAt: new Date(a.fireAt ?? b.nowIso).toISOString() });
      } else {
        // Cancelled before this episode recorded it: history gets it, nothing waits for it.
        b.add.push(timerCreated(id, a.fireAt ?? b.nowIso, b.nowIso));
      }
      return;
  }
}

interface NewActions {
  sigs: string[];
  ids: (number | null)[];
  problem?: string;
  continueAsNew: boolean;
  continueInput?: string;
}

function scheduleNewActions(
  b: EpisodeBuilder,
  s: InstanceState,
  leaves: SdkAction[],
  sigs: string[],
): NewActions {
  const out: NewActions = { sigs: [], ids: [], continueAsNew: false };
  for (let i = s.actionSigs.length; i < leaves.length && out.problem === undefined; i++) {
    const a = leaves[i]!;
    out.sigs.push(sigs[i]!);
    const id = takesEventId(a) ? b.seq++ : null;
    try {
      if (id !== null) {
        scheduleTask(b, s, a, id);
      } else if (a.actionType === ActionType.ContinueAsNew) {
        out.continueAsNew = true;
        out.continueInput = preStringified(a.input);
      } else if (a.actionType !== ActionType.WaitForExternalEvent) {
        out.problem = `LocalHost: orchestrator '${s.name}' used ${sigs[i]}, which the local host does not emulate (entities and callHttp are not supported).`;
      }
    } catch (err) {
      out.problem = `LocalHost: orchestrator '${s.name}' scheduled ${sigs[i]} with an input that is not JSON-serialisable: ${(err as Error).message}.`;
    }
    out.ids.push(id);
  }
  return out;
}

/** A cancelled timer is dropped so a virtual clock does not jump to it for nothing. */
function dropCancelledTimers(b: EpisodeBuilder, s: InstanceState, leaves: SdkAction[]): void {
  for (let i = 0; i < s.actionSigs.length; i++) {
    const a = leaves[i]!;
    const id = s.actionIds[i];
    if (
      a.actionType === ActionType.CreateTimer &&
      a.isCanceled &&
      id !== null &&
      id !== undefined &&
      s.pending[String(id)]?.k === "timer"
    ) {
      b.pend[String(id)] = null;
    }
  }
}

/** The status fields and outcome of an episode; `problem` (a host finding) wins over `failure`. */
function settleStatus(
  s: InstanceState,
  state: SdkState | undefined,
  problem: string | undefined,
  failure: string | undefined,
  continueAsNew: boolean,
  nowIso: string,
): { st: StatusFields; outcome: EpisodeOutcome } {
  const st: StatusFields = { lastUpdatedTime: nowIso };
  if (state && state.customStatus !== undefined) {
    try {
      st.customStatus = JSON.stringify(state.customStatus);
    } catch (err) {
      problem ??= `LocalHost: the custom status of instance '${s.instanceId}' is not JSON-serialisable: ${(err as Error).message}.`;
    }
  }
  const message = problem ?? failure;
  if (message !== undefined) {
    return {
      st: { ...st, runtimeStatus: "Failed", output: JSON.stringify(message) },
      outcome: "failed",
    };
  }
  if (!state?.isDone) {
    return { st: { ...st, runtimeStatus: "Running" }, outcome: "running" };
  }
  if (continueAsNew) {
    return { st, outcome: "continue" };
  }
  try {
    const output = state.output === undefined ? undefined : JSON.stringify(state.output);
    return { st: { ...st, runtimeStatus: "Completed", output }, outcome: "completed" };
  } catch (err) {
    const output = JSON.stringify(
      `LocalHost: the output of instance '${s.instanceId}' is not JSON-serialisable: ${(err as Error).message}.`,
    );
    return { st: { ...st, runtimeStatus: "Failed", output }, outcome: "failed" };
  }
}

/**
 * Plans one episode from the orchestrator's answer.
 *
 * @param s - instance state before the episode
 * @param batch - the inbox events delivered (see {@link pickBatch})
 * @param started - the episode's `OrchestratorStarted` event
 * @param now - episode time in ms (the host clock)
 * @param state - the SDK's answer, undefined when the invocation failed without one
 * @param failure - why the orchestrator failed, if it did
 */
export function planEpisode(
  s: InstanceState,
  batch: HistoryEvent[],
  started: HistoryEvent,
  now: number,
  state: SdkState | undefined,
  failure: string | undefined,
): EpisodePlan {
  const b = new EpisodeBuilder(s.nextSeq, started, batch);
  scheduleRetries(b, s, batch, now);
  const leaves = state ? flattenActions(state.actions ?? []) : [];
  const sigs = leaves.map(actionSignature);
  let problem = state ? nonDeterminism(s, sigs) : undefined;
  let actions: NewActions = { sigs: [], ids: [], continueAsNew: false };
  if (!problem && state) {
    actions = scheduleNewActions(b, s, leaves, sigs);
    problem = actions.problem;
    dropCancelledTimers(b, s, leaves);
  }
  const { st, outcome } = settleStatus(s, state, problem, failure, actions.continueAsNew, b.nowIso);
  if (outcome === "failed" || outcome === "completed") {
    b.add.push(executionCompleted(outcome, st.output, b.nowIso));
  }
  b.add.push(orchestratorCompleted(b.nowIso));
  return {
    record: {
      k: "ep",
      add: b.add,
      n: batch.length,
      seq: b.seq,
      sigs: actions.sigs,
      ids: actions.ids,
      pend: b.pend,
      st,
    },
    toDispatch: b.toDispatch,
    outcome,
    ...(outcome === "continue" ? { continueInput: actions.continueInput } : {}),
  };
}
