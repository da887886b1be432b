/**
 * The Graph client's middleware below the request builder: retries that honour `Retry-After`,
 * one fresh token after a 401, a per-request timeout, and the HTTPS transport (with an extra CA
 * for a local Graph emulator, which the settings allow only on loopback).
 */
import { randomUUID } from "node:crypto";
import { rootCertificates } from "node:tls";
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";
import { Agent, fetch as undiciFetch } from "undici";
import type { GraphCredential } from "./credentials.js";
import { routeOf } from "./errors.js";

/** Retry policy for one request. */
export interface RetryPolicy {
  /** Retries after the first attempt (default 6). */
  maxRetries: number;
  /** First backoff when Graph gives no `Retry-After` (default 1,000 ms), doubled per retry. */
  baseDelayMs: number;
  /** Never wait longer than this for one retry (default 120,000 ms). */
  maxDelayMs: number;
}

/** The default retry policy. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 6,
  baseDelayMs: 1_000,
  maxDelayMs: 120_000,
};

/** What the transport tells its observer about each retry. */
export interface RetryEvent {
  route: string;
  method: string;
  /** HTTP status that caused the retry, 0 for a network error or timeout, 401 for a token refresh. */
  status: number;
  attempt: number;
  delayMs: number;
  /** `Retry-After` as Graph sent it, in milliseconds. */
  retryAfterMs?: number;
}

/** Options of {@link ResilienceHandler}. */
export interface ResilienceOptions {
  credential: GraphCredential;
  retry?: Partial<RetryPolicy>;
  onRetry?: (event: RetryEvent) => void;
  /** Observes every final response (after retries): status and headers, for adaptive limiters. */
  onResponse?: (status: number, headers: Headers, route: string) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const RETRY_STATUSES = new Set([429, 503, 504]);
const IDEMPOTENT = new Set(["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Parses `Retry-After` (seconds or an HTTP date) into milliseconds.
 *
 * @param value - the header value.
 * @param now - the current time in ms since the epoch.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === "") {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds)) {
    return Math.max(0, seconds * 1000);
  }
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * How long to wait before retry number `attempt` (1-based): Graph's `Retry-After` when given
 * (plus up to 10% jitter so many clients do not return in lockstep), else exponential backoff with
 * full jitter; never more than `maxDelayMs`.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  policy: RetryPolicy,
  random: () => number,
): number {
  if (retryAfterMs !== undefined) {
    return Math.min(policy.maxDelayMs, Math.ceil(retryAfterMs * (1 + 0.1 * random())));
  }
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.ceil(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * Retries throttled and unavailable answers, refreshes the token once after a 401, and retries
 * network failures of idempotent requests. A POST is retried only after a 429 (Graph did not
 * process it); after a 5xx or a lost connection its outcome is unknown, so it goes back to the
 * caller, who reconciles by reading before writing again.
 */
export class ResilienceHandler implements Middleware {
  private next?: Middleware;
  private readonly policy: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: ResilienceOptions) {
    this.policy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  setNext(next: Middleware): void {
    this.next = next;
  }

  async execute(context: Context): Promise<void> {
    const next = this.next;
    if (!next) {
      throw new Error("GraphClient: the middleware chain has no transport.");
    }
    const url = typeof context.request === "string" ? context.request : context.request.url;
    const route = routeOf(url);
    const options = (context.options ??= {});
    const method = (options.method ?? "GET").toUpperCase();
    const headers = (options.headers ??= {}) as Record<string, string>;
    headers["client-request-id"] ??= randomUUID();

    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      let status: number;
      let retryAfterMs: number | undefined;
      try {
        context.response = undefined;
        // The auth handler appends to an existing header: clear it so a retry carries one token.
        delete headers.Authorization;
        await next.execute(context);
        const response = context.response as Response | undefined;
        if (!response) {
          throw new Error("GraphClient: the transport returned no response.");
        }
        status = response.status;
        if (status === 401 && !refreshed) {
          refreshed = true;
          this.options.credential.invalidate();
          await discard(response);
          this.options.onRetry?.({ route, method, status, attempt, delayMs: 0 });
          continue;
        }
        const retryable = status === 429 || (RETRY_STATUSES.has(status) && IDEMPOTENT.has(method));
        if (!retryable || attempt > this.policy.maxRetries) {
          this.options.onResponse?.(status, response.headers, route);
          return;
        }
        retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        await discard(response);
      } catch (error) {
        // A lost connection or a timeout: safe to repeat only when repeating cannot write twice.
        if (!IDEMPOTENT.has(method) || attempt > this.policy.maxRetries || isCallerAbort(error)) {
          throw error;
        }
        status = 0;
      }
      const delayMs = retryDelay(attempt, retryAfterMs, this.policy, this.random);
      this.options.onRetry?.({ route, method, status, attempt, delayMs, retryAfterMs });
      await this.sleep(delayMs);
    }
  }
}

function isCallerAbort(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

async function discard(response: Response): Promise<void> {
  try {
    await response.arrayBuffer();
  } catch {
    // The body is being thrown away; a broken one changes nothing.
  }
}

/** Options of {@link FetchHandler}. */
export interface FetchOptions {
  /** Extra CA certificates (PEM) to trust besides the system roots. */
  caPem?: string;
  /** Abort a request that has not answered in this long (default 100 s, as Graph's own limit). */
  requestTimeoutMs?: number;
  /** Parallel connections per origin (default 64). */
  connections?: number;
}

/**
 * The transport: undici's fetch on an agent of our own, so an extra CA can be trusted without
 * `NODE_EXTRA_CA_CERTS` and connections are pooled per origin.
 */
export class FetchHandler implements Middleware {
  private readonly agent: Agent;
  private readonly timeoutMs: number;

  constructor(options: FetchOptions = {}) {
    this.agent = new Agent({
      connections: options.connections ?? 64,
      keepAliveTimeout: 30_000,
      ...(options.caPem ? { connect: { ca: [...rootCertificates, options.caPem] } } : {}),
    });
    this.timeoutMs = options.requestTimeoutMs ?? 100_000;
  }

  async execute(context: Context): Promise<void> {
    const url = typeof context.request === "string" ? context.request : context.request.url;
    const { method, headers, body } = (context.options ?? {}) as {
      method?: string;
      headers?: Record<string, string>;
      body?: unknown;
    };
    const response = await undiciFetch(url, {
      method: method ?? "GET",
      headers: headers ?? {},
      body: body === undefined || body === null ? undefined : (body as string),
      dispatcher: this.agent,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    context.response = response as unknown as Response;
  }

  /** Closes the pooled connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}
