/**
 * Step 3 of a run: decide every stored user, a range of pages per activity call, writing the plan
 * and the chunks of writes to the run store.
 */
import type { OrchestrationContext, Task } from "durable-functions";
import { planChunksActivity } from "../../activities/planChunks.js";
import {
  countDecisions,
  mergeDecisionCounts,
  type DecisionCounts,
  type MethodCounts,
} from "../../shared/run/index.js";
import type { Method } from "../../shared/settings/index.js";
import type { DiscoveredRun } from "./run.js";

/** What planning decided, in numbers. */
export interface PlanTotals {
  /** Chunks written (numbered from 0). */
  chunks: number;
  /** Writes planned. */
  writes: number;
  /** Candidates the report called not MFA-registered. */
  withoutMfa: number;
}

/**
 * Plans the run.
 *
 * @param context - the orchestration context.
 * @param run - the run's id, settings, tuning, retry options, progress and what discovery stored.
 */
export function* plan(
  context: OrchestrationContext,
  run: DiscoveredRun,
): Generator<Task, PlanTotals, unknown> {
  const { discovery, progress, tuning } = run;
  progress.enter("planning");
  const totals: PlanTotals = { chunks: 0, writes: 0, withoutMfa: 0 };
  const byMethod: Partial<Record<Method, DecisionCounts>> = {};
  for (let from = 0; from < discovery.userPages; from += tuning.pagesPerPlan) {
    const planned = yield* planChunksActivity.call(
      context,
      {
        runId: run.runId,
        settings: run.settings,
        stagingGroupSet: discovery.staging !== undefined,
        roleHoldersRead: discovery.roleHoldersRead,
        fromPage: from,
        toPage: Math.min(discovery.userPages, from + tuning.pagesPerPlan),
        reportPages: discovery.reportPages,
        excludedPages: discovery.excludedPages,
        chunkSize: tuning.chunkSize,
        firstChunkNo: totals.chunks,
        writesSoFar: totals.writes,
      },
      run.retry,
    );
    totals.chunks = planned.nextChunkNo;
    totals.writes += planned.writes;
    totals.withoutMfa += planned.withoutMfa;
    const status = progress.status;
    // One entry per user and method: with the mobile phone alone, one per user.
    status.counts.candidates += Object.values(planned.decisions).reduce((a, b) => a + b, 0);
    mergeDecisionCounts(status.plan, planned.decisions);
    const methods: MethodCounts = {};
    for (const method of run.settings.methods) {
      byMethod[method] = mergeDecisionCounts(
        byMethod[method] ?? {},
        planned.byMethod[method] ?? {},
      );
      methods[method] = countDecisions(byMethod[method]);
    }
    status.methods = methods;
    status.counts.planned = totals.writes;
    status.chunks.total = totals.chunks;
    progress.publish();
  }
  return totals;
}
