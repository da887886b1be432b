/**
 * Numbers do not linger: run data expires `RUN_RETENTION_DAYS` after the run started. In Azure a
 * lifecycle rule on the run-store container deletes it (see infra/app/storage.bicep); a store in
 * a folder (the CLI, the local host) is cleaned by {@link expireRuns} when a run starts. A run's
 * start time is read from its id (`run-20261201T020000Z-ab12`); a run whose id carries no time is
 * left alone.
 */
import type { RunStore } from "./runStore.js";

const STAMP = /(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/;

/**
 * When a run started, from its id.
 *
 * @param runId - the run id.
 */
export function runStartedAt(runId: string): Date | undefined {
  const m = STAMP.exec(runId);
  if (!m) {
    return undefined;
  }
  const [, y, mo, d, h, mi, s] = m;
  return new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
}

/**
 * Deletes the data of every run that started more than `retentionDays` ago.
 *
 * @param store - the run store.
 * @param options - the retention period and the current time.
 * @returns the ids of the runs deleted.
 */
export async function expireRuns(
  store: RunStore,
  options: { retentionDays: number; now: Date },
): Promise<string[]> {
  const cutoff = options.now.getTime() - options.retentionDays * 86_400_000;
  const runIds = new Set<string>();
  for await (const key of store.list("runs/")) {
    const runId = key.split("/")[1];
    if (runId) {
      runIds.add(runId);
    }
  }
  const expired = [...runIds].filter((id) => {
    const started = runStartedAt(id);
    return started !== undefined && started.getTime() < cutoff;
  });
  for (const runId of expired) {
    await store.delete(`runs/${runId}/`);
  }
  return expired;
}
