/**
 * Graph-shaped responses: the error envelope, request ids, and a seeded PRNG shared by the
 * emulator's fault and latency draws.
 */
import { randomUUID } from "node:crypto";

/** A response computed by the emulator before it is written to a socket or a batch item. */
export interface GraphResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON body, or undefined for an empty body (204). */
  body?: unknown;
  /** Set when the connection should be reset instead of answered. */
  reset?: boolean;
}

/** Content type Graph uses on successful JSON payloads. */
export const ODATA_JSON =
  "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

/** An error thrown inside route handlers and turned into a Graph error answer. */
export class GraphHttpError extends Error {
  /**
   * @param status - HTTP status
   * @param code - Graph `error.code`
   * @param message - Graph `error.message`
   * @param headers - extra response headers
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "GraphHttpError";
  }
}

/**
 * Builds a Graph error answer with the documented envelope.
 *
 * @param status - HTTP status
 * @param code - Graph `error.code`
 * @param message - Graph `error.message`
 * @param requestId - the request id also sent as the `request-id` header
 * @param clientRequestId - echoed from the request, or the request id
 * @param headers - extra headers
 * @returns the response
 */
export function errorResponse(
  status: number,
  code: string,
  message: string,
  requestId: string,
  clientRequestId: string | undefined,
  headers: Record<string, string> = {},
): GraphResponse {
  const innerError: Record<string, string> = {
    date: new Date().toISOString().replace(/\.\d{3}Z$/, ""),
    "request-id": requestId,
    "client-request-id": clientRequestId ?? requestId,
  };
  if (status === 429) {
    innerError.code = "429";
    innerError.message = "Please retry after";
    innerError.status = "429";
  }
  return {
    status,
    headers: {
      "Content-Type": "application/json",
      "request-id": requestId,
      "client-request-id": clientRequestId ?? requestId,
      ...headers,
    },
    body: { error: { code, message, innerError } },
  };
}

/** A new request id (GUID). */
export function newRequestId(): string {
  return randomUUID();
}

/** Seeded PRNG (mulberry32): reproducible faults and latencies for a given seed. */
export class Prng {
  private state: number;

  /** @param seed - any integer */
  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A standard normal draw (Box-Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/**
 * Draws a latency in milliseconds from a log-normal with the given mean and 99th percentile.
 *
 * @param prng - the PRNG
 * @param meanMs - mean
 * @param p99Ms - 99th percentile
 * @returns a delay in milliseconds (unscaled)
 */
export function drawLatency(prng: Prng, meanMs: number, p99Ms: number): number {
  if (meanMs <= 0) {
    return 0;
  }
  if (p99Ms <= meanMs) {
    return meanMs;
  }
  // For a log-normal: ln(p99) - ln(mean) = z99*s - s^2/2; take the smaller root for s.
  const z = 2.3263;
  const d = Math.log(p99Ms / meanMs);
  const disc = z * z - 2 * d;
  const s = disc > 0 ? z - Math.sqrt(disc) : z;
  const mu = Math.log(meanMs) - (s * s) / 2;
  return Math.exp(mu + s * prng.normal());
}
