/**
 * The plan of a run in the run store: one entry per user (plan pages, numbers masked) and the
 * writes grouped in chunks (chunk files, the only run data with full numbers besides the
 * directory pages they come from). A plan entry of a write names its chunk, so the summary joins
 * outcomes to entries by key.
 */
import type { DecisionLabel, WriteAction } from "./decisions.js";

/** One write of a chunk. */
export interface ChunkItem {
  userId: string;
  userPrincipalName: string;
  /** In Graph's format, `+45 20123456`. */
  phoneNumber: string;
  action: WriteAction;
}

/** One user's line of the plan. */
export interface PlanEntry {
  userId: string;
  userPrincipalName: string;
  decision: DecisionLabel;
  detail?: string;
  /** The number, masked (`+45 ******56`); the full number is only in the chunk file. */
  phoneNumber?: string;
  /** The chunk that holds this user's write (writes only). */
  chunkNo?: number;
}
