/**
 * Step 2 of a run, between discovery and planning: the census of values. Every stored user's
 * value of each method of the run (number or address) is filed (as a keyed hash), a range of
 * pages per call; then each shard is settled: which values more than one user holds, and which
 * users have not held theirs for the settle period.
 * Planning reads the findings, so it must wait for every shard.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { fileCensusActivity } from "../../activities/fileCensus.js";
import { settleCensusActivity, type SettleCensusResult } from "../../activities/settleCensus.js";
import { resultOf, settleAll } from "../../shared/durable/index.js";
import { SHARDS } from "../../shared/guards/valueHash.js";
import type { DiscoveredRun } from "./run.js";

/**
 * Runs the census.
 *
 * @param context - the orchestration context.
 * @param run - the run's id, settings, tuning, retry options, progress and what discovery stored.
 */
export function* census(
  context: OrchestrationContext,
  run: DiscoveredRun,
): Generator<Task, void, unknown> {
  const { discovery, progress, tuning, runId } = run;
  progress.enter("checkingNumbers");
  let ranges = 0;
  for (let from = 0; from < discovery.userPages; from += tuning.pagesPerPlan) {
    yield* fileCensusActivity.call(
      context,
      {
        runId,
        settings: run.settings,
        fromPage: from,
        toPage: Math.min(discovery.userPages, from + tuning.pagesPerPlan),
        range: ranges,
        reportPages: discovery.reportPages,
      },
      run.retry,
    );
    ranges++;
  }
  const totals = { unsettled: 0, changed: 0, sharedNumbers: 0, sharedHolders: 0 };
  const shards = Array.from({ length: SHARDS }, (_, shard) => shard);
  for (let i = 0; i < shards.length; i += tuning.chunksInFlight) {
    const tasks = shards.slice(i, i + tuning.chunksInFlight).map((shard) =>
      settleCensusActivity.schedule(
        context,
        {
          runId,
          shard,
          ranges,
          now: progress.status.startedAt,
          settleDays: run.settings.numberSettleDays,
          auditPages: discovery.auditPages,
          auditRead: discovery.auditRead,
          methods: run.settings.methods,
        },
        run.retry,
      ),
    );
    for (const task of yield* settleAll(context, tasks)) {
      if (task.isFaulted) {
        return progress.fail(
          `The census of numbers failed, so nothing can be decided safely: ${String(task.result).split("\n")[0]}`,
        );
      }
      const r: SettleCensusResult = resultOf(task);
      totals.unsettled += r.unsettled;
      totals.changed += r.changed;
      totals.sharedNumbers += r.sharedNumbers;
      totals.sharedHolders += r.sharedHolders;
    }
  }
  progress.status.numbers = { ...totals, auditRead: discovery.auditRead };
  progress.publish();
}
