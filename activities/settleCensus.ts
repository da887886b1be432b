/**
 * settleCensus: for one shard of the census and every method of the run, finds the values more
 * than one user holds, settles each user's value against the store's value history and the audit
 * log, and records this run's values in the history. Dry runs settle too, so the dry run an
 * operator does first starts the history.
 */
import type { InvocationContext } from "@azure/functions";
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { latestChanges } from "../shared/guards/audit.js";
import { findSharedValues, settleShard } from "../shared/guards/census.js";
import { SHARDS, familyOf } from "../shared/guards/valueHash.js";
import { logEvent } from "../shared/log/events.js";
import { runIdSchema } from "../shared/run/index.js";
import { METHODS } from "../shared/settings/index.js";
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
  /** The run's methods (`METHODS`); absent in calls of runs from before there were several. */
  methods: z.array(z.enum(METHODS)).min(1).optional(),
});

/** What one shard found, in numbers, over every method of the run. */
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
  const kinds = input.methods ?? ["mobile"];
  const result: SettleCensusResult = {
    unsettled: 0,
    changed: 0,
    sharedNumbers: 0,
    sharedHolders: 0,
  };
  for (const family of new Set(kinds.map(familyOf))) {
    const shared = await findSharedValues(store, { ...input, family });
    result.sharedNumbers += shared.length;
    result.sharedHolders += shared.reduce((n, v) => n + v.userIds.length, 0);
  }
  for (const kind of kinds) {
    const settled = await settleShard(store, {
      runId: input.runId,
      shard: input.shard,
      ranges: input.ranges,
      now: new Date(input.now),
      settleDays: input.settleDays,
      audit: await latestChanges(store, input.runId, input.auditPages, kind),
      auditRead: input.auditRead,
      kind,
    });
    for (const change of settled.changes) {
      logEvent(context, "numberChanged", {
        runId: input.runId,
        ...change,
        ...(kind === "mobile" ? {} : { method: kind }),
      });
    }
    result.unsettled += settled.unsettled.length;
    result.changed += settled.changes.length;
  }
  logEvent(context, "censusSettled", { runId: input.runId, shard: input.shard, ...result });
  return result;
}

/** The activity. */
export const settleCensusActivity = defineActivity({
  name: "settleCensus",
  input: settleCensusInput,
  handler: settleCensus,
});
