/**
 * One run at a time, enforced atomically: a run holds `locks/run.json` in the run store from its
 * start to its end. Starters (the timer, the runs API, the CLI) take it with a create-if-absent
 * write, so of several racing starters exactly one starts a run. A run that ended without
 * releasing it (failed, terminated, crashed) is recognised by asking its status; taking its lock
 * over is itself an atomic claim, so two starters cannot both take over the same dead holder.
 */
import type { RunStore } from "../store/runStore.js";
import { runKeys } from "./keys.js";

/** Where the lock is kept. */
export const RUN_LOCK_KEY = "locks/run.json";

/** What the lock holds. */
export interface RunLock {
  runId: string;
  at: string;
}

/**
 * Whether the run holding the lock still counts as active (running, suspended or cancelling);
 * undefined when its orchestration is not visible (it may still be starting).
 */
export type IsRunActive = (runId: string) => Promise<boolean | undefined>;

/**
 * A lock this young whose run's orchestration is not visible belongs to a run that may still be
 * starting, so it counts as held.
 */
const STARTING_MS = 10 * 60_000;

/** A chunk activity can run at most this long (host.json functionTimeout), so older markers are stale. */
const ACTIVITY_TIMEOUT_MS = 30 * 60_000;

/**
 * Whether a run counts as active for the one-run rule: running, pending or suspended, or
 * terminated while a chunk of it may still be writing (cancelling).
 *
 * @param store - the run store.
 * @param runId - the run.
 * @param runtimeStatus - its orchestration's runtime status, or undefined when it has none yet.
 */
export async function countsAsActive(
  store: RunStore,
  runId: string,
  runtimeStatus: string | undefined,
): Promise<boolean | undefined> {
  if (runtimeStatus === undefined) {
    return undefined;
  }
  if (runtimeStatus === "Running" || runtimeStatus === "Pending" || runtimeStatus === "Suspended") {
    return true;
  }
  if (runtimeStatus !== "Terminated") {
    return false;
  }
  return stillWriting(store, runId);
}

/**
 * Whether a chunk of the run may still be writing (its marker is younger than an activity's
 * time limit).
 *
 * @param store - the run store.
 * @param runId - the run.
 */
export async function stillWriting(store: RunStore, runId: string): Promise<boolean> {
  const now = Date.now();
  for await (const key of store.list(runKeys.runningChunks(runId))) {
    const marker = await store.getJson<{ startedAt?: string }>(key);
    if (marker?.startedAt && now - Date.parse(marker.startedAt) < ACTIVITY_TIMEOUT_MS) {
      return true;
    }
  }
  return false;
}

function takeoverKey(deadRunId: string): string {
  return `locks/taken-over/${deadRunId}.json`;
}

/**
 * Takes the lock for a new run.
 *
 * @param store - the run store.
 * @param runId - the run to start.
 * @param isActive - tells whether the current holder still counts as active.
 * @returns `{ acquired: true }`, or the id of the run that holds the lock.
 */
export async function acquireRunLock(
  store: RunStore,
  runId: string,
  isActive: IsRunActive,
): Promise<{ acquired: true } | { acquired: false; heldBy: string }> {
  const lock: RunLock = { runId, at: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await store.createIfAbsent(RUN_LOCK_KEY, lock)) {
      return { acquired: true };
    }
    const holder = await store.getJson<RunLock>(RUN_LOCK_KEY);
    if (!holder) {
      continue;
    }
    if (holder.runId === runId) {
      return { acquired: true };
    }
    const active = await isActive(holder.runId);
    const starting = active === undefined && Date.now() - Date.parse(holder.at) < STARTING_MS;
    if (active === true || starting) {
      return { acquired: false, heldBy: holder.runId };
    }
    // The holder ended without releasing. Only the starter that claims the takeover removes it.
    if (!(await store.createIfAbsent(takeoverKey(holder.runId), lock))) {
      return { acquired: false, heldBy: holder.runId };
    }
    const still = await store.getJson<RunLock>(RUN_LOCK_KEY);
    if (still?.runId === holder.runId) {
      await store.delete(RUN_LOCK_KEY);
    }
  }
  const holder = await store.getJson<RunLock>(RUN_LOCK_KEY);
  return { acquired: false, heldBy: holder?.runId ?? "unknown" };
}

/**
 * Gives the lock back at the end of a run; does nothing when another run holds it.
 *
 * @param store - the run store.
 * @param runId - the run that ends.
 */
export async function releaseRunLock(store: RunStore, runId: string): Promise<void> {
  const holder = await store.getJson<RunLock>(RUN_LOCK_KEY);
  if (holder?.runId === runId) {
    await store.delete(RUN_LOCK_KEY);
  }
}
