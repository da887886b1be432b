/**
 * Throttling: the documented per app+tenant quotas (resource units, writes, reports), periodic
 * throttling storms, and the 429 answer with `Retry-After`, `x-ms-retry-after-ms` and the
 * `x-ms-throttle-*` / `x-ms-resource-unit` headers.
 */
import type { EmulatorConfig, RouteKind } from "../config.js";
import { GraphHttpError } from "../response.js";
import type { RouteFamily } from "../routes.js";
import { createQuota, type Clock, type Quota, type QuotaShape } from "./quotaShapes.js";

/** The quotas a request can count against. */
type QuotaName = "ru" | "write" | "reports";

/** Config keys whose change starts every quota over, full. */
const QUOTA_KEYS = [
  "timeScale",
  "writeQuota",
  "writeQuotaWindowSeconds",
  "writeQuotaShape",
  "writeQuotaBurst",
  "resourceUnitQuota",
  "resourceUnitWindowSeconds",
  "reportsQuota",
  "reportsQuotaWindowSeconds",
  "phoneWriteQuotaModel",
] as const;

/** What the quota policy needs to know of one request. */
export interface QuotaRequest {
  family: RouteFamily;
  kind: RouteKind;
  method: string;
  query: URLSearchParams;
  /** Client id of the caller: quotas are per app+tenant. */
  appId: string;
}

/**
 * Identity-service resource-unit costs (documented base costs and modifiers).
 *
 * @param kind - the route kind
 * @param method - HTTP method
 * @param query - query options (`$select`, `$expand`, `$top` change the cost)
 * @returns the cost, at least 1
 */
export function resourceUnits(kind: RouteKind, method: string, query: URLSearchParams): number {
  if (method !== "GET") {
    return 1;
  }
  let cost =
    kind === "users.list" || kind === "users.delta"
      ? 2
      : kind === "groups.transitiveMembers"
        ? 5
        : 1;
  if (query.has("$select")) {
    cost -= 1;
  }
  if (query.has("$expand")) {
    cost += 1;
  }
  const top = Number(query.get("$top"));
  if (query.has("$top") && top < 20) {
    cost -= 1;
  }
  return Math.max(1, cost);
}

/**
 * The 429 Graph answers when a quota is used up.
 *
 * @param waitMs - real milliseconds until the request would pass
 * @param scope - `x-ms-throttle-scope`
 * @param info - `x-ms-throttle-information` (which limit was hit)
 * @returns the error to throw
 */
export function tooManyRequests(waitMs: number, scope: string, info: string): GraphHttpError {
  // Retry-After is whole seconds and never 0 while throttled; the exact wait is an extension.
  return new GraphHttpError(429, "TooManyRequests", "Please retry again later.", {
    "Retry-After": String(Math.max(1, Math.ceil(waitMs / 1000))),
    "x-ms-retry-after-ms": String(Math.max(1, Math.ceil(waitMs))),
    "x-ms-throttle-scope": scope,
    "x-ms-throttle-information": info,
  });
}

/** The quotas of one emulated tenant, per calling application. */
export class QuotaPolicy {
  private readonly buckets = new Map<string, Quota>();
  private readonly startMs: number;

  /**
   * @param tenantId - the tenant (named in `x-ms-throttle-scope`)
   * @param config - the current config
   * @param now - clock of quotas and storms (default: the system clock)
   */
  constructor(
    private readonly tenantId: string,
    private readonly config: () => EmulatorConfig,
    private readonly now: Clock = () => Date.now(),
  ) {
    this.startMs = now();
  }

  /**
   * Whether a config change starts the quotas over (a quota, its window or `timeScale` changed).
   *
   * @param prev - the config before
   * @param next - the config after
   */
  static restartsOn(prev: EmulatorConfig, next: EmulatorConfig): boolean {
    return QUOTA_KEYS.some((k) => next[k] !== prev[k]);
  }

  /** Starts every quota over, full. */
  reset(): void {
    this.buckets.clear();
  }

  /**
   * Counts a request against its quotas, or throws the 429 when one is used up.
   *
   * @param req - the request's route, method, query and caller
   * @returns headers to add to the answer (`x-ms-resource-unit`, `x-ms-throttle-limit-percentage`)
   */
  admit(req: QuotaRequest): Record<string, string> {
    const config = this.config();
    this.throwDuringStorm(req, config);
    const useReports =
      req.family === "reports" ||
      (req.family === "phone" && config.phoneWriteQuotaModel === "reports");
    const headers = useReports ? this.admitReports(req, config) : this.admitDirectory(req, config);
    // See phoneWriteUsageHeader: on a real tenant phone writes likely never carry usage.
    if (req.family === "phone" && req.method !== "GET" && !config.phoneWriteUsageHeader) {
      delete headers["x-ms-throttle-limit-percentage"];
    }
    return headers;
  }

  private scope(access: string, appId: string): string {
    return `Tenant_Application/${access}/${appId}/${this.tenantId}`;
  }

  private throwDuringStorm(req: QuotaRequest, config: EmulatorConfig): void {
    const storm = config.storm;
    if (storm.periodSeconds > 0 && storm.durationSeconds > 0) {
      const periodMs = storm.periodSeconds * config.timeScale * 1000;
      const durMs = storm.durationSeconds * config.timeScale * 1000;
      const since = this.now() - this.startMs;
      const phase = since % periodMs;
      if (since >= periodMs && phase < durMs) {
        const access = req.method !== "GET" ? "Write" : "Read";
        throw tooManyRequests(durMs - phase, this.scope(access, req.appId), "CPULimitExceeded");
      }
    }
  }

  private admitReports(req: QuotaRequest, config: EmulatorConfig): Record<string, string> {
    const headers: Record<string, string> = {};
    const b = this.bucket("reports", req.appId);
    const wait = b.waitFor(1);
    if (wait > 0) {
      throw tooManyRequests(wait, this.scope("Read", req.appId), "RequestLimitExceeded");
    }
    b.take(1);
    limitPercentage(headers, b.usage(), config);
    return headers;
  }

  private admitDirectory(req: QuotaRequest, config: EmulatorConfig): Record<string, string> {
    const isWrite = req.method !== "GET";
    const ru = resourceUnits(req.kind, req.method, req.query);
    const ruBucket = this.bucket("ru", req.appId);
    const ruWait = ruBucket.waitFor(ru);
    const writeBucket = isWrite ? this.bucket("write", req.appId) : undefined;
    const writeWait = writeBucket ? writeBucket.waitFor(1) : 0;
    if (writeWait > 0) {
      const wait = Math.max(writeWait, ruWait);
      throw tooManyRequests(wait, this.scope("Write", req.appId), "WriteLimitExceeded");
    }
    if (ruWait > 0) {
      const access = isWrite ? "ReadWrite" : "Read";
      throw tooManyRequests(ruWait, this.scope(access, req.appId), "ResourceUnitLimitExceeded");
    }
    ruBucket.take(ru);
    writeBucket?.take(1);
    const headers: Record<string, string> = { "x-ms-resource-unit": String(ru) };
    const usage = Math.max(ruBucket.usage(), writeBucket ? writeBucket.usage() : 0);
    limitPercentage(headers, usage, config);
    return headers;
  }

  private bucket(name: QuotaName, appId: string): Quota {
    const key = `${name}|${appId}`;
    let b = this.buckets.get(key);
    if (!b) {
      b = createQuota(quotaShape(name, this.config()), this.now);
      this.buckets.set(key, b);
    }
    return b;
  }
}

/** The shape and size of a quota under the config, its window scaled. */
function quotaShape(name: QuotaName, c: EmulatorConfig): QuotaShape {
  const scale = c.timeScale * 1000;
  if (name === "ru") {
    const windowMs = c.resourceUnitWindowSeconds * scale;
    return { shape: "tokenBucket", limit: c.resourceUnitQuota, windowMs };
  }
  if (name === "write") {
    const windowMs = c.writeQuotaWindowSeconds * scale;
    const burst = c.writeQuotaBurst > 0 ? c.writeQuotaBurst : c.writeQuota;
    return { shape: c.writeQuotaShape, limit: c.writeQuota, windowMs, burst };
  }
  const windowMs = c.reportsQuotaWindowSeconds * scale;
  return { shape: "tokenBucket", limit: c.reportsQuota, windowMs };
}

function limitPercentage(
  headers: Record<string, string>,
  usage: number,
  config: EmulatorConfig,
): void {
  const mode = config.throttleLimitPercentageHeader;
  if (mode === "always" || (mode === "above80" && usage > 0.8)) {
    headers["x-ms-throttle-limit-percentage"] = usage.toFixed(2);
  }
}
