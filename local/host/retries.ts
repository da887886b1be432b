/**
 * Retries of `callActivityWithRetry` and `callSubOrchestratorWithRetry`, as DTFx's
 * RetryInterceptor runs them and the SDK's `RetryableTask` expects: after every failed attempt
 * (the last one too) a retry timer gets the next event id; when that timer fires and attempts
 * remain, a fresh attempt gets the id after it. The SDK allocates both ids while it replays the
 * delivered event, so a retried failure and its timer are each delivered alone in their episode.
 */
import { completionKey, type InstanceState, type Pending, type RetryInfo } from "./store.js";
import { EventType, type HistoryEvent } from "./types.js";

/**
 * Delay before the next attempt: first interval times backoff^(attempt-1), capped.
 *
 * @param retry - options and the attempt that just failed
 */
export function retryDelay(retry: RetryInfo): number {
  const o = retry.options;
  let delay =
    o.firstRetryIntervalInMilliseconds * Math.pow(o.backoffCoefficient ?? 1, retry.attempt - 1);
  if (o.maxRetryIntervalInMilliseconds && o.maxRetryIntervalInMilliseconds > 0) {
    delay = Math.min(delay, o.maxRetryIntervalInMilliseconds);
  }
  return delay;
}

function isFailure(e: HistoryEvent): boolean {
  return (
    e.EventType === EventType.TaskFailed || e.EventType === EventType.SubOrchestrationInstanceFailed
  );
}

/**
 * Whether delivering this event makes the SDK allocate retry ids (a retried task failed, or a
 * retry timer fired), so it must be delivered alone.
 *
 * @param s - instance state
 * @param e - an inbox event
 */
export function isRetryEvent(s: InstanceState, e: HistoryEvent): boolean {
  const key = completionKey(e);
  const p = key === undefined ? undefined : s.pending[key];
  if (!p) {
    return false;
  }
  if (isFailure(e)) {
    return p.k !== "timer" && p.retry !== undefined;
  }
  return e.EventType === EventType.TimerFired && p.k === "timer" && p.retryOf !== undefined;
}

/**
 * The work a delivered completion makes the retry machinery schedule, if any: a retry timer
 * after a retried failure, or the next attempt when a retry timer fires and attempts remain.
 *
 * @param instanceId - the instance (names a retried sub-orchestration without an explicit id)
 * @param p - the pending work the event completes
 * @param e - the delivered event
 * @param now - episode time in ms
 * @param id - the event id the follow-up will get
 */
export function retryFollowUp(
  instanceId: string,
  p: Pending,
  e: HistoryEvent,
  now: number,
  id: number,
): Pending | undefined {
  if (isFailure(e) && p.k !== "timer" && p.retry) {
    return {
      k: "timer",
      fireAt: new Date(now + retryDelay(p.retry)).toISOString(),
      retryOf: {
        kind: p.k,
        name: p.name,
        ...(p.input !== undefined ? { input: p.input } : {}),
        ...(p.k === "sub" && p.explicitId ? { explicitId: p.explicitId } : {}),
        retry: p.retry,
      },
    };
  }
  if (
    e.EventType !== EventType.TimerFired ||
    p.k !== "timer" ||
    !p.retryOf ||
    p.retryOf.retry.attempt >= p.retryOf.retry.options.maxNumberOfAttempts
  ) {
    return undefined;
  }
  const o = p.retryOf;
  const retry = { options: o.retry.options, attempt: o.retry.attempt + 1 };
  if (o.kind === "act") {
    return { k: "act", name: o.name, ...(o.input !== undefined ? { input: o.input } : {}), retry };
  }
  return {
    k: "sub",
    name: o.name,
    ...(o.input !== undefined ? { input: o.input } : {}),
    childId: o.explicitId ?? `${instanceId}:${id}`,
    ...(o.explicitId ? { explicitId: o.explicitId } : {}),
    retry,
  };
}
