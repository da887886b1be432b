/**
 * Sub-orchestrations: starting the child a parent scheduled, and telling the parent how its
 * child ended. A child records its parent (instance, execution and task id), so a parent that
 * continued as new, finished or was purged never receives a stale child's completion, and a
 * resumed host re-attaches to a child it already started instead of starting it twice.
 */
import { subOrchestrationCompleted, subOrchestrationFailed } from "./history.js";
import { isTerminal, type Instance } from "./instance.js";
import { describe, parseJson } from "./json.js";
import type { InstanceState, Pending } from "./store.js";
import type { HistoryEvent } from "./types.js";

/** What sub-orchestration handling needs from the engine. */
export interface SubOrchestrationHooks {
  instance(id: string): Instance | undefined;
  deliver(inst: Instance, e: HistoryEvent): void;
  startChild(
    name: string,
    childId: string,
    input: string | undefined,
    parent: NonNullable<InstanceState["parent"]>,
  ): void;
  /** The host is stopping: start nothing new. */
  stopped(): boolean;
  nowIso(): string;
}

/**
 * Starts the child of a scheduled sub-orchestration, or re-attaches to it (after a restart) and
 * reports it at once if it already finished. A different instance running under the child's id
 * fails the task.
 *
 * @param hooks - engine callbacks
 * @param parent - the scheduling instance
 * @param taskId - event id of the sub-orchestration task
 * @param p - its pending entry
 */
export function ensureChild(
  hooks: SubOrchestrationHooks,
  parent: Instance,
  taskId: number,
  p: Extract<Pending, { k: "sub" }>,
): void {
  if (hooks.stopped()) {
    // The pending entry stays persisted; the next start creates the child on resume.
    return;
  }
  const ps = parent.s;
  const child = hooks.instance(p.childId);
  const ours =
    child?.s.parent?.instanceId === ps.instanceId &&
    child.s.parent.executionId === ps.executionId &&
    child.s.parent.taskId === taskId;
  if (child && ours) {
    if (isTerminal(child.s.runtimeStatus)) {
      notifyParent(hooks, child);
    }
    return;
  }
  if (child && !isTerminal(child.s.runtimeStatus)) {
    const reason = `LocalHost: a sub-orchestration with id '${p.childId}' is already running.`;
    hooks.deliver(parent, subOrchestrationFailed(taskId, reason, hooks.nowIso()));
    return;
  }
  hooks.startChild(p.name, p.childId, p.input, {
    instanceId: ps.instanceId,
    name: ps.name,
    taskId,
    executionId: ps.executionId,
  });
}

/**
 * Delivers a finished child's outcome to its parent, if that parent execution still waits.
 *
 * @param hooks - engine callbacks
 * @param child - a sub-orchestration that reached a terminal status
 */
export function notifyParent(hooks: SubOrchestrationHooks, child: Instance): void {
  const cs = child.s;
  if (!cs.parent) {
    return;
  }
  const parent = hooks.instance(cs.parent.instanceId);
  if (
    !parent ||
    parent.s.executionId !== cs.parent.executionId ||
    isTerminal(parent.s.runtimeStatus)
  ) {
    return;
  }
  const at = hooks.nowIso();
  if (cs.runtimeStatus === "Completed") {
    hooks.deliver(parent, subOrchestrationCompleted(cs.parent.taskId, cs.output ?? "null", at));
    return;
  }
  const message = describe(parseJson(cs.output));
  const reason =
    cs.runtimeStatus === "Terminated"
      ? `Sub-orchestration '${cs.instanceId}' was terminated: ${message}`
      : message;
  hooks.deliver(parent, subOrchestrationFailed(cs.parent.taskId, reason, at));
}
