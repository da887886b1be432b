/**
 * DTFx history events as the Durable extension writes them (PascalCase, numeric `EventType`),
 * one builder per event the host records, and the summary the status API shows.
 *
 * Events the host writes into history after an episode have `IsPlayed: true`; events delivered
 * to an instance (completions, timer firings, external events) start with `IsPlayed: false` and
 * are marked played once an episode consumed them. Every id-carrying event uses the event id the
 * SDK gave the task (`EventId` when scheduled, `TaskScheduledId`/`TimerId` when it completes).
 */
import { parseJson } from "./json.js";
import { EventType, type HistoryEntry, type HistoryEvent } from "./types.js";

/** The parent of a sub-orchestration, as its `ExecutionStarted` event names it. */
export interface ParentRef {
  name: string;
  instanceId: string;
}

// ---------------------------------------------------------------- episode boundaries

/**
 * Opens an episode; its timestamp is the orchestrator's `currentUtcDateTime`.
 *
 * @param at - ISO time of the episode
 */
export function orchestratorStarted(at: string): HistoryEvent {
  return { EventType: EventType.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: at };
}

/**
 * Closes an episode in history.
 *
 * @param at - ISO time of the episode
 */
export function orchestratorCompleted(at: string): HistoryEvent {
  return { EventType: EventType.OrchestratorCompleted, EventId: -1, IsPlayed: true, Timestamp: at };
}

/**
 * First event of every execution: the orchestrator name, its input and its parent.
 *
 * @param o - instance id, execution id, name, input JSON text and parent of the execution
 * @param at - ISO creation time
 */
export function executionStarted(
  o: {
    instanceId: string;
    executionId: string;
    name: string;
    input: string | undefined;
    parent: ParentRef | undefined;
  },
  at: string,
): HistoryEvent {
  return {
    EventType: EventType.ExecutionStarted,
    EventId: -1,
    IsPlayed: false,
    Timestamp: at,
    Name: o.name,
    ...(o.input !== undefined ? { Input: o.input } : {}),
    OrchestrationInstance: { InstanceId: o.instanceId, ExecutionId: o.executionId },
    ParentInstance: o.parent
      ? { Name: o.parent.name, OrchestrationInstance: { InstanceId: o.parent.instanceId } }
      : null,
  };
}

/**
 * Last event of an execution that completed or failed.
 *
 * @param outcome - how it ended
 * @param result - JSON text of the output or of the failure message
 * @param at - ISO time
 */
export function executionCompleted(
  outcome: "completed" | "failed",
  result: string | undefined,
  at: string,
): HistoryEvent {
  return {
    EventType: EventType.ExecutionCompleted,
    EventId: -1,
    IsPlayed: true,
    Timestamp: at,
    // DTFx OrchestrationStatus: 1 Completed, 3 Failed.
    OrchestrationStatus: outcome === "completed" ? 1 : 3,
    ...(result !== undefined ? { Result: result } : {}),
  };
}

// ---------------------------------------------------------------- scheduling (written after an episode)

/**
 * An activity the code scheduled.
 *
 * @param id - its event id
 * @param name - activity name
 * @param input - JSON text of the input
 * @param at - ISO time of the episode
 */
export function taskScheduled(
  id: number,
  name: string,
  input: string | undefined,
  at: string,
): HistoryEvent {
  return {
    EventType: EventType.TaskScheduled,
    EventId: id,
    IsPlayed: true,
    Timestamp: at,
    Name: name,
    ...(input !== undefined ? { Input: input } : {}),
  };
}

/**
 * A timer the code (or a retry) created.
 *
 * @param id - its event id
 * @param fireAt - when it fires
 * @param at - ISO time of the episode
 */
export function timerCreated(id: number, fireAt: string, at: string): HistoryEvent {
  return {
    EventType: EventType.TimerCreated,
    EventId: id,
    IsPlayed: true,
    Timestamp: at,
    FireAt: fireAt,
  };
}

/**
 * A sub-orchestration the code started.
 *
 * @param id - its event id
 * @param name - orchestrator name
 * @param instanceId - the child's instance id
 * @param input - JSON text of the input
 * @param at - ISO time of the episode
 */
export function subOrchestrationCreated(
  id: number,
  name: string,
  instanceId: string,
  input: string | undefined,
  at: string,
): HistoryEvent {
  return {
    EventType: EventType.SubOrchestrationInstanceCreated,
    EventId: id,
    IsPlayed: true,
    Timestamp: at,
    Name: name,
    InstanceId: instanceId,
    ...(input !== undefined ? { Input: input } : {}),
  };
}

// ---------------------------------------------------------------- deliveries (inbox events)

/**
 * An activity returned.
 *
 * @param taskId - event id of its `TaskScheduled`
 * @param result - JSON text of the result
 * @param at - ISO time
 */
export function taskCompleted(taskId: number, result: string, at: string): HistoryEvent {
  return {
    EventType: EventType.TaskCompleted,
    EventId: -1,
    IsPlayed: false,
    Timestamp: at,
    TaskScheduledId: taskId,
    Result: result,
  };
}

/**
 * An activity threw (or could not run).
 *
 * @param taskId - event id of its `TaskScheduled`
 * @param reason - the message the orchestrator sees
 * @param details - stack or empty
 * @param at - ISO time
 */
export function taskFailed(
  taskId: number,
  reason: string,
  details: string,
  at: string,
): HistoryEvent {
  return {
    EventType: EventType.TaskFailed,
    EventId: -1,
    IsPlayed: false,
    Timestamp: at,
    TaskScheduledId: taskId,
    Reason: reason,
    Details: details,
  };
}

/**
 * A timer fired.
 *
 * @param timerId - event id of its `TimerCreated`
 * @param fireAt - when it was due
 * @param at - ISO time
 */
export function timerFired(timerId: number, fireAt: string, at: string): HistoryEvent {
  return {
    EventType: EventType.TimerFired,
    EventId: -1,
    IsPlayed: false,
    Timestamp: at,
    TimerId: timerId,
    FireAt: fireAt,
  };
}

/**
 * A sub-orchestration completed.
 *
 * @param taskId - event id of its `SubOrchestrationInstanceCreated`
 * @param result - JSON text of its output
 * @param at - ISO time
 */
export function subOrchestrationCompleted(
  taskId: number,
  result: string,
  at: string,
): HistoryEvent {
  return {
    EventType: EventType.SubOrchestrationInstanceCompleted,
    EventId: -1,
    IsPlayed: false,
    Timestamp: at,
    TaskScheduledId: taskId,
    Result: result,
  };
}

/**
 * A sub-orchestration failed, was terminated or could not start.
 *
 * @param taskId - event id of its `SubOrchestrationInstanceCreated`
 * @param reason - the message the orchestrator sees
 * @param at - ISO time
 */
export function subOrchestrationFailed(taskId: number, reason: string, at: string): HistoryEvent {
  return {
    EventType: EventType.SubOrchestrationInstanceFailed,
    EventId: -1,
    IsPlayed: false,
    Timestamp: at,
    TaskScheduledId: taskId,
    Reason: reason,
    Details: "",
  };
}

/**
 * An external event raised through the client API.
 *
 * @param name - event name
 * @param input - JSON text of the payload
 * @param at - ISO time
 */
export function eventRaised(name: string, input: string | undefined, at: string): HistoryEvent {
  return {
    EventType: EventType.EventRaised,
    EventId: -1,
    IsPlayed: false,
    Timestamp: at,
    Name: name,
    ...(input !== undefined ? { Input: input } : {}),
  };
}

// ---------------------------------------------------------------- status view

const EVENT_NAMES = Object.fromEntries(Object.entries(EventType).map(([k, v]) => [v, k]));

/**
 * History as the status API shows it with `showHistory`: episode boundaries left out, event
 * types by name, results parsed.
 *
 * @param history - the instance's history
 */
export function summarizeHistory(history: HistoryEvent[]): HistoryEntry[] {
  return history
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
