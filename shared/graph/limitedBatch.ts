/**
 * One `$batch` sent under the adaptive limiter: the permits are held from `startedAt`, and the
 * answer tells the limiter how it went (429s, 5xx and lost answers, `Retry-After`, the usage
 * header). The phone-method writer and reader send every batch through here.
 */
import type { BatchRequest, BatchResult, GraphAccess } from "./client.js";
import { GraphRequestError } from "./errors.js";
import type { AdaptiveLimiter, LimiterFeedback } from "./throttle.js";

/** What a limited batch needs besides the requests. */
export interface LimitedBatchOptions {
  limiter: AdaptiveLimiter;
  /** Called with the 429 and 503 answers of the batch, for live throttling counts. */
  onThrottled?: (count: number) => void;
}

/** No answer, a timeout or a server error: Graph is struggling, not refusing. */
export function isUnavailable(status: number): boolean {
  return status === 0 || status === 408 || status >= 500;
}

/**
 * Sends one batch whose permits are held and releases them with what the answer says.
 *
 * @param graph - the Graph access layer (only its `$batch` is used).
 * @param options - the limiter and the throttling observer.
 * @param requests - 1 to 20 requests.
 * @param startedAt - what the limiter's `acquire` returned for these permits.
 * @returns the per-item results, or the envelope's transient error.
 * @throws the envelope's fatal error.
 */
export async function sendLimitedBatch(
  graph: Pick<GraphAccess, "batch">,
  options: LimitedBatchOptions,
  requests: BatchRequest[],
  startedAt: number,
): Promise<BatchResult[] | GraphRequestError> {
  // 429s tell the limiter the quota is reached; 5xx, timeouts and lost items that Graph is
  // struggling, which slows it less. onThrottled keeps counting 429s and 503s alike.
  const seen = new BatchFeedback();
  try {
    const results = await graph.batch(requests);
    for (const r of results) {
      seen.item(r.status, r.error?.retryAfterMs, r.headers["x-ms-throttle-limit-percentage"]);
    }
    return results;
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind === "transient") {
      seen.envelope(error.status, error.retryAfterMs, requests.length);
      return error;
    }
    throw error;
  } finally {
    if (seen.reported > 0) {
      options.onThrottled?.(seen.reported);
    }
    options.limiter.release(requests.length, startedAt, seen.feedback());
  }
}

/** What the answers of one batch tell the limiter. */
class BatchFeedback {
  throttled = 0;
  unavailable = 0;
  reported = 0;
  private retryAfterMs?: number;
  private limitPercentage?: number;

  item(status: number, retryAfterMs: number | undefined, usage: string | undefined): void {
    this.count(status, retryAfterMs, 1);
    const percentage = Number(usage);
    if (Number.isFinite(percentage) && percentage > 0) {
      this.limitPercentage = Math.max(this.limitPercentage ?? 0, percentage);
    }
  }

  envelope(status: number, retryAfterMs: number | undefined, items: number): void {
    this.count(status, retryAfterMs, items);
  }

  feedback(): LimiterFeedback {
    return {
      throttled: this.throttled,
      unavailable: this.unavailable,
      retryAfterMs: this.retryAfterMs,
      limitPercentage: this.limitPercentage,
    };
  }

  private count(status: number, retryAfterMs: number | undefined, n: number): void {
    if (status === 429) {
      this.throttled += n;
    } else if (isUnavailable(status)) {
      this.unavailable += n;
    } else {
      return;
    }
    if (status === 429 || status === 503) {
      this.reported += n;
    }
    if (retryAfterMs !== undefined) {
      this.retryAfterMs = Math.max(this.retryAfterMs ?? 0, retryAfterMs);
    }
  }
}
