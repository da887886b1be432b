/**
 * settleCensus: for one shard of the census, finds the numbers more than one user holds, settles
 * each user's number against the store's number history and the audit log, and records this
 * run's numbers in the history. Dry runs settle too, so the dry run an operator does first
 * starts the history.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { latestChanges } from "../shared/guards/audit.js";
import { findSharedValues, settleShard } from "../shared/guards/census.js";
import { SHARDS } from "../shared/guards/valueHash.js";
import { logEvent } from "../shared/log/events.js";
import { runIdSchema } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input of one shard. */
export const settleCensusInput = z.strictObject({
  runId: runIdSchema,
  shard: z
    .number()
    .int()
    .min(0)
    .max(SHARDS - 1),
  /** Census ranges filed. */
  ranges: z.number().int().min(0),
  /** The run's start (orchestration time). */
  now: z.iso.datetime(),
  settleDays: z.number().int().min(0),
  /** Audit pages stored (0 when the audit log was not read). */
  auditPages: z.number().int().min(0),
  /** Whether the audit log could be read; without it users the history does not know wait. */
  auditRead: z.boolean(),
});

/** What one shard found, in numbers. */
export interface SettleCensusResult {
  unsettled: number;
  changed: number;
  sharedNumbers: number;
  sharedHolders: number;
}

/**
 * Settles one shard.
 *
 * @param input - run, shard, ranges, time and period.
 * @param context - invocation context, for the structured events.
 */
export async function settleCensus(
  input: z.infer<typeof settleCensusInput>,
  context: InvocationContext,
): Promise<SettleCensusResult> {
  const { store } = services();
  const shared = await findSharedValues(store, input);
  const audit = await latestChanges(store, input.runId, input.auditPages);
  const settled = await settleShard(store, {
    runId: input.runId,
    shard: input.shard,
    ranges: input.ranges,
    now: new Date(input.now),
    settleDays: input.settleDays,
    audit,
    auditRead: input.auditRead,
  });
  for (const change of settled.changes) {
    logEvent(context, "numberChanged", { runId: input.runId, ...change });
  }
  const result: SettleCensusResult = {
    unsettled: settled.unsettled.length,
    changed: settled.changes.length,
    sharedNumbers: shared.length,
    sharedHolders: shared.reduce((n, v) => n + v.userIds.length, 0),
  };
  logEvent(context, "censusSettled", { runId: input.runId, shard: input.shard, ...result });
  return result;
}

/** The activity. */
export const settleCensusActivity = defineActivity({
  name: "settleCensus",
  input: settleCensusInput,
  handler: settleCensus,
});
