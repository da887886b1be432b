/**
 * Invoking an orchestrator for one episode the way the Durable extension does: the trigger
 * payload it sends (the whole history plus the new events), and reading back the SDK's state, or
 * the failure the SDK reports by throwing with the state appended to the message.
 */
import { reYieldedLeaves, type SdkState } from "./actions.js";
import { errorText } from "./json.js";
import { invokeFunction, type RegisteredFunction } from "./registry.js";
import type { InstanceState } from "./store.js";
import type { HistoryEvent, ReplayCounters, ReplayStats } from "./types.js";

// The SDK appends its state to an unhandled failure's message after this marker.
const FAILURE_TAIL = "\n\n$OutOfProcData$:";

/** What one orchestrator invocation answered. */
export interface OrchestratorAnswer {
  /** The SDK's state; undefined when the invocation failed without one. */
  state?: SdkState;
  /** Why the orchestrator failed, or why the host fails it, when it does. */
  failure?: string;
}

/**
 * The orchestration trigger payload, as the extension's `OrchestrationContextToString` writes it.
 *
 * @param s - instance state (input, ids, parent)
 * @param histJson - committed history as comma-joined JSON
 * @param fresh - this episode's new events (`OrchestratorStarted` first)
 */
export function triggerPayload(s: InstanceState, histJson: string, fresh: HistoryEvent[]): string {
  const freshJson = fresh.map((e) => JSON.stringify(e)).join(",");
  const history = histJson ? `${histJson},${freshJson}` : freshJson;
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

function failureOf(name: string, message: string): OrchestratorAnswer {
  const at = message.indexOf(FAILURE_TAIL);
  if (at < 0) {
    return { failure: `LocalHost: orchestrator '${name}' could not be invoked: ${message}.` };
  }
  let state: SdkState | undefined;
  try {
    state = JSON.parse(message.slice(at + FAILURE_TAIL.length)) as SdkState;
  } catch {
    state = undefined;
  }
  // The SDK puts `orchestratorReturned` (a boolean) before the tail; the error is in the state.
  const reason = state?.error ?? message.slice(0, at);
  const failure = reason.includes("programming constraint violation")
    ? `LocalHost: orchestrator '${name}' yielded a value that is not a durable task. ${reason}`
    : `Orchestrator function '${name}' failed: ${reason}`;
  return state ? { state, failure } : { failure };
}

function reYieldFailure(name: string, index: number): string {
  return (
    `LocalHost: orchestrator '${name}' yielded an already scheduled task again inside Task.all or Task.any (action #${index}). ` +
    "The SDK lists its action a second time, so the extension would schedule it again and shift the event ids of later tasks; yield each task once."
  );
}

/**
 * Runs one episode of an orchestrator. Never throws: a failure comes back in the answer. A task
 * yielded again after it was scheduled fails the instance (see `reYieldedLeaves`).
 *
 * @param fn - the orchestrator registration
 * @param name - orchestrator name, for messages
 * @param payload - see {@link triggerPayload}
 * @param recordedActions - leaf actions recorded by earlier episodes (their re-yields were seen)
 */
export async function invokeOrchestrator(
  fn: RegisteredFunction,
  name: string,
  payload: string,
  recordedActions: number,
): Promise<OrchestratorAnswer> {
  let reYielded: number[] = [];
  let answer: OrchestratorAnswer;
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
    answer = { state: JSON.parse(text) as SdkState };
  } catch (err) {
    answer = failureOf(name, errorText(err));
  }
  const newReYield = reYielded.find((i) => i >= recordedActions);
  if (answer.failure === undefined && newReYield !== undefined) {
    answer.failure = reYieldFailure(name, newReYield);
  }
  return answer;
}

function emptyCounters(): ReplayCounters {
  return { episodes: 0, eventsReplayed: 0, bytesShipped: 0, ms: 0 };
}

/** Replay cost of orchestrator invocations, per instance and in total. */
export class ReplayMeter {
  private readonly counters = new Map<string, ReplayCounters>();
  private readonly total = emptyCounters();

  /**
   * Counts one invocation.
   *
   * @param id - instance id
   * @param ms - time spent in the invocation
   * @param bytes - UTF-8 bytes of the trigger payload
   * @param events - history events shipped
   */
  record(id: string, ms: number, bytes: number, events: number): void {
    let c = this.counters.get(id);
    if (!c) {
      c = emptyCounters();
      this.counters.set(id, c);
    }
    for (const x of [c, this.total]) {
      x.episodes++;
      x.eventsReplayed += events;
      x.bytesShipped += bytes;
      x.ms += ms;
    }
  }

  /** Copies of the counters. */
  snapshot(): Omit<ReplayStats, "persistedBytes"> {
    return {
      total: { ...this.total },
      instances: Object.fromEntries([...this.counters.entries()].map(([k, v]) => [k, { ...v }])),
    };
  }
}
