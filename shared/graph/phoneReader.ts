/**
 * Reads users' phone methods in `$batch`es, several in flight, each under the adaptive limiter
 * when one is given (the reads draw on the same budget as the writes), retrying throttled and
 * unavailable items after their `Retry-After`. Used only where a decision needs the current
 * number (the replace policy).
 */
import type { BatchRequest, BatchResult, GraphAccess } from "./client.js";
import { MAX_BATCH_SIZE } from "./client.js";
import { GraphRequestError } from "./errors.js";
import { sendLimitedBatch } from "./limitedBatch.js";
import type { PhoneMethod } from "../run/index.js";
import { phoneMethodsPath } from "./paths.js";
import type { AdaptiveLimiter } from "./throttle.js";

/** Options of {@link readPhoneMethods}. */
export interface ReadPhoneMethodsOptions {
  /** Sends every batch under this limiter (the process's): its permits, pace and feedback. */
  limiter?: AdaptiveLimiter;
  /** Batches in flight at most (default 4). */
  batchesInFlight?: number;
  /** Attempts per user (default 5). */
  attempts?: number;
  /** Sleep between rounds of retries (tests). */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Reads the phone methods of the given users.
 *
 * @param graph - the Graph access layer (only its `$batch` is used).
 * @param userIds - object ids.
 * @param options - limiter, batches in flight, attempts per user and a sleep for tests.
 * @returns the methods of every user Graph answered for; users it could not read are absent.
 * @throws GraphRequestError of kind `fatal` when Graph refuses the app (permission).
 */
export async function readPhoneMethods(
  graph: Pick<GraphAccess, "batch">,
  userIds: string[],
  options: ReadPhoneMethodsOptions = {},
): Promise<Map<string, PhoneMethod[]>> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const found = new Map<string, PhoneMethod[]>();
  let pending = [...new Set(userIds)];
  for (let attempt = 1; pending.length > 0 && attempt <= (options.attempts ?? 5); attempt++) {
    const round = new ReadRound(graph, options, pending, found);
    await round.run();
    pending = round.retry;
    if (pending.length > 0) {
      await sleep(round.waitMs);
    }
  }
  return found;
}

/** One pass over the pending users: batches cut from one queue by a few workers. */
class ReadRound {
  readonly retry: string[] = [];
  waitMs = 0;
  private next = 0;
  private fatal: unknown;

  constructor(
    private readonly graph: Pick<GraphAccess, "batch">,
    private readonly options: ReadPhoneMethodsOptions,
    private readonly ids: string[],
    private readonly found: Map<string, PhoneMethod[]>,
  ) {}

  async run(): Promise<void> {
    const batches = Math.ceil(this.ids.length / MAX_BATCH_SIZE);
    const workers = Math.min(this.options.batchesInFlight ?? 4, batches);
    await Promise.all(Array.from({ length: workers }, () => this.worker()));
    if (this.fatal) {
      throw this.fatal;
    }
  }

  private async worker(): Promise<void> {
    const { limiter } = this.options;
    while (this.next < this.ids.length && !this.fatal) {
      const wanted = limiter
        ? Math.min(limiter.batchSize(MAX_BATCH_SIZE), this.ids.length - this.next)
        : MAX_BATCH_SIZE;
      const startedAt = limiter ? await limiter.acquire(wanted) : 0;
      const ids = this.ids.slice(this.next, this.next + wanted);
      this.next += ids.length;
      limiter?.refund(wanted - ids.length, startedAt);
      if (ids.length === 0) {
        return;
      }
      const requests: BatchRequest[] = ids.map((id, k) => ({
        id: String(k + 1),
        method: "GET",
        url: phoneMethodsPath(id),
      }));
      try {
        const results = limiter
          ? await sendLimitedBatch(this.graph, { limiter }, requests, startedAt)
          : await this.graph.batch(requests);
        this.take(ids, results);
      } catch (error) {
        this.fatal ??= error;
      }
    }
  }

  /** What one batch's answers mean: methods, a retry, or a refusal of the app. */
  private take(ids: string[], results: BatchResult[] | GraphRequestError): void {
    if (results instanceof GraphRequestError) {
      this.retry.push(...ids);
      this.waitMs = Math.max(this.waitMs, results.retryAfterMs ?? 1_000);
      return;
    }
    results.forEach((r, k) => {
      const id = ids[k] as string;
      if (r.status >= 200 && r.status < 300) {
        const value = (r.body as { value?: PhoneMethod[] } | undefined)?.value ?? [];
        this.found.set(
          id,
          value.map((m) => ({ phoneType: m.phoneType, phoneNumber: m.phoneNumber })),
        );
      } else if (r.error?.kind === "transient") {
        this.retry.push(id);
        this.waitMs = Math.max(this.waitMs, r.error.retryAfterMs ?? 1_000);
      } else if (r.error?.kind === "fatal") {
        this.fatal ??= r.error;
      }
    });
  }
}
