/**
 * Reads users' phone methods in `$batch`es of 20, retrying throttled and unavailable items after
 * their `Retry-After`. Used only where a decision needs the current number (the replace policy).
 */
import type { BatchRequest, GraphAccess } from "./client.js";
import { MAX_BATCH_SIZE } from "./client.js";
import type { PhoneMethod } from "../run/index.js";
import { phoneMethodsPath } from "./paths.js";

/**
 * Reads the phone methods of the given users.
 *
 * @param graph - the Graph access layer.
 * @param userIds - object ids.
 * @param options - attempts per user (default 5) and a sleep for tests.
 * @returns the methods of every user Graph answered for; users it could not read are absent.
 */
export async function readPhoneMethods(
  graph: GraphAccess,
  userIds: string[],
  options: { attempts?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<Map<string, PhoneMethod[]>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const found = new Map<string, PhoneMethod[]>();
  let pending = [...new Set(userIds)];
  for (let attempt = 1; pending.length > 0 && attempt <= (options.attempts ?? 5); attempt++) {
    const retry: string[] = [];
    let waitMs = 0;
    for (let i = 0; i < pending.length; i += MAX_BATCH_SIZE) {
      const ids = pending.slice(i, i + MAX_BATCH_SIZE);
      const requests: BatchRequest[] = ids.map((id, k) => ({
        id: String(k + 1),
        method: "GET",
        url: phoneMethodsPath(id),
      }));
      const results = await graph.batch(requests);
      results.forEach((r, k) => {
        const id = ids[k] as string;
        if (r.status >= 200 && r.status < 300) {
          const value = (r.body as { value?: PhoneMethod[] } | undefined)?.value ?? [];
          found.set(
            id,
            value.map((m) => ({ phoneType: m.phoneType, phoneNumber: m.phoneNumber })),
          );
        } else if (r.error?.kind === "transient") {
          retry.push(id);
          waitMs = Math.max(waitMs, r.error.retryAfterMs ?? 1_000);
        } else if (r.error?.kind === "fatal") {
          throw r.error;
        }
      });
    }
    pending = retry;
    if (pending.length > 0) {
      await sleep(waitMs);
    }
  }
  return found;
}
