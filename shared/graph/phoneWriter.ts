/**
 * Writes authentication methods (the mobile and office phones, the email method) in `$batch`es
 * under the adaptive limiter, POST first, and reconciles every answer that leaves the outcome
 * open by reading the user's methods of that kind: a retry never writes twice and never counts a
 * success as a failure. What differs per kind (the request, the read, the comparison) is in
 * `methodRequests.ts`.
 *
 * Graph documents neither the status nor the code for "a method of this type already exists",
 * so every 4xx other than 401/403/429 is treated alike: read, then decide.
 */
import type { Outcome } from "../run/index.js";
import type { BatchRequest, BatchResult, GraphAccess } from "./client.js";
import { GraphRequestError } from "./errors.js";
import {
  heldMethod,
  readRequest,
  sameValue,
  writeRequest,
  type MethodWrite,
} from "./methodRequests.js";
import type { AdaptiveLimiter } from "./throttle.js";

/** One write to make (one per user in a call). */
export type PhoneWrite = MethodWrite;

/** Options of {@link writePhoneMethods}. */
export interface PhoneWriterOptions {
  limiter: AdaptiveLimiter;
  /** Attempts per user for writes whose outcome stays unknown or throttled (default 8). */
  maxAttempts?: number;
  /** Batches in flight at most, whatever the limiter allows (default 32). */
  maxBatchesInFlight?: number;
  /** Called once per user as soon as its outcome is final. */
  onOutcome?: (outcome: Outcome) => void;
  /** Called per Graph answer, for live throttling counts. */
  onThrottled?: (count: number) => void;
  /**
   * Asked before every batch; when it answers true no further batch starts (a cancelled run).
   * Users not reached have no outcome.
   */
  shouldStop?: () => Promise<boolean>;
}

type Pending = PhoneWrite & {
  attempts: number;
  /** Why the outcome must be read back: the write's own 4xx, or unknown (5xx, lost). */
  reconcile?: {
    kind: "refused" | "unknown" | "notUnique";
    status: number;
    code: string;
    message?: string;
    requestId?: string;
  };
};

const MAX_BATCH = 20;

/** First in, first out, taken from the front without moving what stays (chunks may be large). */
class Queue<T> {
  private head = 0;

  constructor(private items: T[] = []) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(...items: T[]): void {
    this.items.push(...items);
  }

  take(n: number): T[] {
    const taken = this.items.slice(this.head, this.head + n);
    this.head += taken.length;
    if (this.head > 1_024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return taken;
  }
}

/**
 * Writes the given phone methods and returns one outcome per write, in input order.
 *
 * @param graph - the Graph access layer (only its `$batch` is used).
 * @param writes - the writes; one per user.
 * @param options - limiter, attempts and progress callbacks.
 * @throws GraphRequestError of kind `fatal` when Graph refuses the app itself (401/403): a
 *   missing permission fails every user alike, so the caller stops instead of recording each.
 */
export async function writePhoneMethods(
  graph: Pick<GraphAccess, "batch">,
  writes: PhoneWrite[],
  options: PhoneWriterOptions,
): Promise<Outcome[]> {
  const maxAttempts = options.maxAttempts ?? 8;
  const outcomes = new Map<string, Outcome>();
  const toWrite = new Queue<Pending>(writes.map((w) => ({ ...w, attempts: 0 })));
  const toRead = new Queue<Pending>();
  let inFlight = 0;
  let fatal: unknown;
  let wake: (() => void) | undefined;

  const finish = (outcome: Outcome): void => {
    outcomes.set(outcome.userId, outcome);
    options.onOutcome?.(outcome);
  };
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const retryOrFail = (p: Pending, status: number, code: string, requestId?: string): void => {
    if (p.attempts >= maxAttempts) {
      finish({ userId: p.userId, result: "failed", status, code, requestId, transient: true });
    } else {
      toWrite.push({ ...p, reconcile: undefined });
    }
  };

  const sendWrites = async (batch: Pending[], startedAt: number): Promise<void> => {
    const requests: BatchRequest[] = batch.map((p, i) => {
      p.attempts++;
      return writeRequest(String(i + 1), p);
    });
    const results = await sendBatch(graph, options, requests, startedAt);
    if (results instanceof GraphRequestError) {
      // The envelope failed transiently: any item may or may not have been applied.
      for (const p of batch) {
        p.reconcile = {
          kind: "unknown",
          status: results.status,
          code: results.code,
          requestId: results.requestId,
        };
        toRead.push(p);
      }
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i] as BatchResult;
      if (r.status >= 200 && r.status < 300) {
        finish(
          p.action === "create"
            ? { userId: p.userId, result: "created" }
            : { userId: p.userId, result: "replaced" },
        );
        return;
      }
      const code = r.error?.code ?? `http${r.status}`;
      const requestId = r.error?.requestId;
      if (r.status === 401 || r.status === 403) {
        fatal ??= r.error;
        return;
      }
      if (r.status === 429) {
        retryOrFail(p, r.status, code, requestId);
        return;
      }
      if (r.status === 409 && code === "phoneNumberNotUnique") {
        p.reconcile = { kind: "notUnique", status: r.status, code, requestId };
      } else if (r.status >= 400 && r.status < 500 && r.status !== 408 && r.status !== 424) {
        p.reconcile = {
          kind: "refused",
          status: r.status,
          code,
          message: r.error?.graphMessage,
          requestId,
        };
      } else {
        p.reconcile = { kind: "unknown", status: r.status, code, requestId };
      }
      toRead.push(p);
    });
  };

  const sendReads = async (batch: Pending[], startedAt: number): Promise<void> => {
    const requests: BatchRequest[] = batch.map((p, i) => readRequest(String(i + 1), p));
    const results = await sendBatch(graph, options, requests, startedAt);
    if (results instanceof GraphRequestError) {
      toRead.push(...batch);
      return;
    }
    batch.forEach((p, i) => {
      const r = results[i] as BatchResult;
      const why = p.reconcile ?? { kind: "unknown" as const, status: 0, code: "unknown" };
      if (r.status === 401 || r.status === 403) {
        fatal ??= r.error;
        return;
      }
      if (r.status === 404) {
        finish({
          userId: p.userId,
          result: "failed",
          status: 404,
          code: r.error?.code ?? "userNotFound",
          requestId: r.error?.requestId,
          transient: false,
        });
        return;
      }
      if (r.status < 200 || r.status >= 300) {
        // The read itself failed: try reading again later, within the same attempt budget.
        if (p.attempts >= maxAttempts) {
          finish({
            userId: p.userId,
            result: "failed",
            status: why.status,
            code: why.code,
            requestId: why.requestId,
            transient: true,
          });
        } else {
          p.attempts++;
          toRead.push(p);
        }
        return;
      }
      const held = heldMethod(p, r.body);
      const same = sameValue(p, held?.value);
      if (same) {
        if (why.kind === "notUnique") {
          finish({ userId: p.userId, result: "created", note: "smsSignInNumberNotUnique" });
        } else if (why.kind === "unknown") {
          finish(
            p.action === "create"
              ? { userId: p.userId, result: "created" }
              : { userId: p.userId, result: "replaced" },
          );
        } else {
          finish({ userId: p.userId, result: "alreadyPresent" });
        }
        return;
      }
      if (held && p.action === "create") {
        finish({ userId: p.userId, result: "existingDiffers" });
        return;
      }
      if (why.kind === "unknown") {
        retryOrFail(p, why.status, why.code, why.requestId);
        return;
      }
      finish({
        userId: p.userId,
        result: "failed",
        status: why.status,
        code: why.code,
        message: why.message,
        requestId: why.requestId,
        transient: false,
      });
    });
  };

  let stopped = false;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (fatal || stopped) {
        return;
      }
      const reading = toRead.length > 0;
      const source = reading ? toRead : toWrite;
      if (source.length === 0) {
        if (inFlight === 0) {
          notify();
          return;
        }
        await new Promise<void>((resolve) => {
          const previous = wake;
          wake = () => {
            previous?.();
            resolve();
          };
        });
        continue;
      }
      // Permits first, items after: the batch is cut to what the limiter allows when it lets the
      // request go, not to what it allowed when the worker started waiting.
      const wanted = Math.min(options.limiter.batchSize(MAX_BATCH), source.length);
      const startedAt = await options.limiter.acquire(wanted);
      // Asked after the wait for permits, right before the batch is cut and sent.
      if (options.shouldStop && (await options.shouldStop())) {
        stopped = true;
        options.limiter.refund(wanted, startedAt);
        notify();
        return;
      }
      const nowReading = toRead.length > 0;
      const from = nowReading ? toRead : toWrite;
      const size = Math.min(wanted, options.limiter.sendSize(MAX_BATCH), from.length);
      options.limiter.refund(wanted - size, startedAt);
      if (size === 0 || fatal) {
        options.limiter.refund(size, startedAt);
        continue;
      }
      const batch = from.take(size);
      inFlight++;
      try {
        await (nowReading ? sendReads(batch, startedAt) : sendWrites(batch, startedAt));
      } catch (error) {
        fatal ??= error;
      } finally {
        inFlight--;
        notify();
      }
    }
  };

  const workers = Math.max(1, options.maxBatchesInFlight ?? 32);
  await Promise.all(Array.from({ length: workers }, () => worker()));
  if (fatal) {
    throw fatal;
  }
  return writes.map(
    (w) =>
      outcomes.get(w.userId) ?? {
        userId: w.userId,
        result: "failed",
        status: 0,
        code: "notAttempted",
        transient: true,
      },
  );
}

/**
 * One `$batch` whose permits are held (from `startedAt`); tells the limiter how it went. Returns
 * the per-item results, or the envelope's transient error; throws the envelope's fatal error.
 */
async function sendBatch(
  graph: Pick<GraphAccess, "batch">,
  options: PhoneWriterOptions,
  requests: BatchRequest[],
  startedAt: number,
): Promise<BatchResult[] | GraphRequestError> {
  // 429s tell the limiter the quota is reached; 5xx, timeouts and lost items that Graph is
  // struggling, which slows it less. onThrottled keeps counting 429s and 503s alike.
  let throttled = 0;
  let unavailable = 0;
  let reported = 0;
  let retryAfterMs: number | undefined;
  let limitPercentage: number | undefined;
  const noteRetryAfter = (after: number | undefined): void => {
    if (after !== undefined) {
      retryAfterMs = Math.max(retryAfterMs ?? 0, after);
    }
  };
  try {
    const results = await graph.batch(requests);
    for (const r of results) {
      if (r.status === 429) {
        throttled++;
        noteRetryAfter(r.error?.retryAfterMs);
      } else if (isUnavailable(r.status)) {
        unavailable++;
        noteRetryAfter(r.error?.retryAfterMs);
      }
      if (r.status === 429 || r.status === 503) {
        reported++;
      }
      const percentage = Number(r.headers["x-ms-throttle-limit-percentage"]);
      if (Number.isFinite(percentage) && percentage > 0) {
        limitPercentage = Math.max(limitPercentage ?? 0, percentage);
      }
    }
    return results;
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "transient") {
      if (error.status === 429) {
        throttled = requests.length;
      } else if (isUnavailable(error.status)) {
        unavailable = requests.length;
      }
      if (error.status === 429 || error.status === 503) {
        reported = requests.length;
      }
      noteRetryAfter(error.retryAfterMs);
      return error;
    }
    throw error;
  } finally {
    if (reported > 0) {
      options.onThrottled?.(reported);
    }
    options.limiter.release(requests.length, startedAt, {
      throttled,
      unavailable,
      retryAfterMs,
      limitPercentage,
    });
  }
}

/** No answer, a timeout or a server error: Graph is struggling, not refusing. */
function isUnavailable(status: number): boolean {
  return status === 0 || status === 408 || status >= 500;
}
