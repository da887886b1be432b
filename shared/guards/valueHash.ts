/**
 * Keyed hashes of the values a run registers (normalised numbers, later addresses), so the number
 * history and the shared-number check compare values without keeping them. The key lives in the
 * run store beside the history (`state/value-hash-key.json`), created once per store: a hash alone
 * cannot be turned back into a number by trying every number, as a plain hash could.
 */
import { createHmac, randomBytes } from "node:crypto";
import type { Method } from "../settings/index.js";
import type { RunStore } from "../store/runStore.js";

/** Where the key is kept. */
export const VALUE_HASH_KEY = "state/value-hash-key.json";

/** The kinds of value a run registers: one per method. */
export type ValueKind = Method;

/**
 * Values that are compared with each other: the numbers of the mobile and office phones (one
 * phone is one phone, whichever attribute holds it), and email addresses.
 */
export type ValueFamily = "phone" | "email";

/**
 * The family of a kind.
 *
 * @param kind - a kind of value.
 */
export function familyOf(kind: ValueKind): ValueFamily {
  return kind === "email" ? "email" : "phone";
}

/**
 * Hashes values with the store's key. Numbers hash under `mobile` whichever phone holds them,
 * as they did before the office phone existed, so the number histories kept since stay valid and
 * one number hashes alike in both.
 */
export type ValueHasher = (family: ValueFamily, value: string) => string;

/**
 * The hasher of this store, creating its key on first use. Idempotent under concurrency: of
 * several first callers exactly one key wins and every caller uses it.
 *
 * @param store - the run store.
 */
export async function valueHasher(store: RunStore): Promise<ValueHasher> {
  await store.createIfAbsent(VALUE_HASH_KEY, { key: randomBytes(32).toString("base64") });
  const stored = await store.getJson<{ key: string }>(VALUE_HASH_KEY);
  if (!stored?.key) {
    throw new Error(`ValueHash: '${VALUE_HASH_KEY}' in the run store holds no key.`);
  }
  const key = Buffer.from(stored.key, "base64");
  return (family, value) =>
    createHmac("sha256", key)
      .update(`${family === "phone" ? "mobile" : family}\u0000${value}`)
      .digest("base64url")
      .slice(0, 22);
}

/** Shards of the census and the history: the first hex digit of a hash. */
export const SHARDS = 16;

/**
 * The shard of a string (a user id or a value hash), stable across processes.
 *
 * @param text - what to place.
 */
export function shardOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  }
  return (h >>> 0) % SHARDS;
}
