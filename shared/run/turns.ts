/**
 * Chunks taking turns to send. One chunk of a run sends at a time (the app's one write budget,
 * docs/architecture.md), but the wave schedules the next chunk while the one before still writes;
 * the next waits for the one before to mark its turn as passed in the run store
 * (`runKeys.sendingDone`) before it sends. So neither the one's wait for its last answers and
 * read-backs nor Durable's starting the next leaves the budget unused.
 */
import { z } from "zod";

/**
 * A chunk's turn, as the wave passes it to the chunk activity: the token the chunk marks, the
 * token of the chunk before (absent for a wave's first chunk, or one scheduled after the one
 * before ended), and how long it waits for that mark at most.
 */
export const chunkTurnSchema = z.strictObject({
  token: z.string().uuid(),
  after: z.string().uuid().optional(),
  waitMs: z.number().int().min(0).max(300_000),
});

/** A chunk's turn. */
export type ChunkTurn = z.infer<typeof chunkTurnSchema>;

/**
 * What a chunk marks: `sent` once every write of it has left once (its answers, retries and read-
 * backs still to come), `ended` however it ends. An end that must stop the next chunk before it
 * sends (Graph unavailable, a permission missing) carries its message.
 */
export type TurnMark =
  | { state: "sent" }
  | { state: "ended"; end: "done" | "stopped" | "failed" }
  | { state: "ended"; end: "fatal" | "unavailable"; message: string };

/**
 * A chunk that took less than this (scheduled to finished, its wait for the one before included)
 * lets the next chunks take turns: at 20 writes a second a chunk of 500 takes about 25 s, twice
 * that with its wait. A slower one (a quota of a few writes a second) means the next chunk would
 * only wait long for its turn, so the wave goes on one chunk after the other until chunks are
 * quick again.
 */
export const QUICK_CHUNK_MS = 120_000;

/**
 * How long a chunk waits at most for the one before to pass its turn: well above a quick chunk's
 * time. A chunk whose turn did not come by then (the one before is slow, or crashed and is being
 * retried) ends without sending, and the wave runs it again once the one before has ended: it
 * never sends without its turn. Short enough that the wait, however it ends, stays far inside the
 * 30-minute function timeout.
 */
export const TURN_WAIT_MS = 300_000;
