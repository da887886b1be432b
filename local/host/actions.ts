/**
 * What the durable-functions SDK answers after an episode: its `OrchestratorState` and the
 * action list in it, with the action type numbers named as the SDK's `ActionType` names them.
 *
 * `actions` holds every action scheduled since the execution began, not only the new ones, with
 * `Task.all`/`Task.any` as compound actions (`WhenAll`/`WhenAny`). The host flattens them into
 * leaf actions; a leaf's position in that list is what the host compares across episodes.
 */
import type { RetryInfo } from "./store.js";

/**
 * Action type numbers of `OrchestratorState.actions`. Entity lock actions (13, 14) are left out:
 * the host does not emulate entities, and messages name unknown types by number.
 */
export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
} as const;

const ACTION_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(ActionType).map(([name, n]) => [n, name]),
);

/** Action as the SDK serialises it in `OrchestratorState.actions`. */
export interface SdkAction {
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

/** The SDK's `OrchestratorState`, as far as the host reads it. */
export interface SdkState {
  isDone: boolean;
  actions: SdkAction[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
}

function isCompound(a: SdkAction): boolean {
  return (
    (a.actionType === ActionType.WhenAny || a.actionType === ActionType.WhenAll) &&
    Boolean(a.compoundActions)
  );
}

/**
 * Leaf actions in the order the SDK gave them their task ids.
 *
 * @param actions - `OrchestratorState.actions`
 */
export function flattenActions(actions: SdkAction[][]): SdkAction[] {
  const out: SdkAction[] = [];
  const walk = (a: SdkAction): void => {
    if (isCompound(a)) {
      a.compoundActions!.forEach(walk);
    } else {
      out.push(a);
    }
  };
  for (const group of actions) {
    group.forEach(walk);
  }
  return out;
}

/**
 * Indexes (in flattened order) of leaf actions that are the very same object as an earlier leaf:
 * a task the code yielded again after it was scheduled. Only visible on the live state object,
 * before serialisation loses object identity.
 *
 * @param result - the orchestrator's live return value
 */
export function reYieldedLeaves(result: unknown): number[] {
  const actions = (result as { actions?: unknown } | undefined)?.actions;
  if (!Array.isArray(actions)) {
    return [];
  }
  const seen = new Set<unknown>();
  const out: number[] = [];
  let index = 0;
  const walk = (a: SdkAction): void => {
    if (isCompound(a)) {
      a.compoundActions!.forEach(walk);
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

/**
 * What an action is, as recorded for the non-determinism check and named in messages, e.g.
 * `CallActivity 'Hello'`. Persisted in instance state: changing the format breaks resuming.
 *
 * @param a - a leaf action
 */
export function actionSignature(a: SdkAction): string {
  const kind = ACTION_NAMES[a.actionType] ?? `action type ${a.actionType}`;
  if (a.functionName !== undefined) {
    return `${kind} '${a.functionName}'`;
  }
  if (a.externalEventName !== undefined) {
    return `${kind} '${a.externalEventName}'`;
  }
  return kind;
}

/**
 * The JSON text of an activity or continueAsNew input: the SDK pre-stringifies string inputs
 * (`"Tokyo"` arrives as `"\"Tokyo\""`), so a string is already JSON text.
 *
 * @param input - the action's `input`
 */
export function preStringified(input: unknown): string | undefined {
  if (input === undefined) {
    return undefined;
  }
  return typeof input === "string" ? input : JSON.stringify(input);
}
