/**
 * The Graph request engine: routing, auth, roles, throttling, faults, latency and the route
 * handlers. It works on parsed requests so the same code answers top-level calls and `$batch` items.
 */
import { createHash } from "node:crypto";
import type { EmulatorConfig, RouteKind } from "./config.js";
import type { MetricsCollector } from "./metrics.js";
import {
  GraphHttpError,
  ODATA_JSON,
  Prng,
  drawLatency,
  errorResponse,
  newRequestId,
  type GraphResponse,
} from "./response.js";
import {
  PASSWORD_METHOD_ID,
  PHONE_METHOD_IDS,
  PHONE_TYPES,
  type TenantStore,
  type UserRec,
} from "./store.js";
import { TokenBucket } from "./throttle.js";
import { UsersDelta } from "./delta.js";
import { ServicePrincipalDirectory } from "./servicePrincipals.js";
import type { TokenAuthority, TokenClaims } from "./tokens.js";
import type { PhoneType } from "./tenant/types.js";
import {
  GROUP_PROPERTIES,
  REPORT_PROPERTIES,
  USER_DEFAULT_PROPERTIES,
  USER_PROPERTIES,
  compileGroupFilter,
  compileReportFilter,
  compileUserFilter,
  decodeSkipToken,
  encodeSkipToken,
  parseSelect,
  parseTop,
  project,
  userObject,
} from "./queries.js";

/** A Graph request after HTTP parsing. */
export interface GraphRequest {
  method: string;
  /** Raw path including the version, e.g. `/v1.0/users/abc`, without the query. */
  path: string;
  query: URLSearchParams;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON body, undefined when there is none. */
  body?: unknown;
  /** True when a body was sent but is not valid JSON. */
  bodyMalformed?: boolean;
}

type Role = "user" | "group" | "report" | "phoneRead" | "phoneWrite";

interface RouteMatch {
  kind: RouteKind;
  methods: string[];
  role: Role;
  /** Throttling family: directory RU/write quota or reports quota. */
  family: "directory" | "reports" | "phone";
  params: string[];
}

const ROLE_SETS: Record<Role, string[]> = {
  user: ["User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"],
  group: [
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
  ],
  report: ["AuditLog.Read.All", "UserAuthenticationMethod.Read.All"],
  phoneRead: [
    "UserAuthenticationMethod.Read.All",
    "UserAuthenticationMethod.ReadWrite.All",
    "UserAuthMethod-Phone.Read.All",
    "UserAuthMethod-Phone.ReadWrite.All",
  ],
  phoneWrite: ["UserAuthenticationMethod.ReadWrite.All", "UserAuthMethod-Phone.ReadWrite.All"],
};

const WWW_AUTHENTICATE =
  'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

const OTHER_METHOD_TYPES: Record<string, string> = {
  microsoftAuthenticatorPush: "microsoftAuthenticatorAuthenticationMethod",
  softwareOneTimePasscode: "softwareOathAuthenticationMethod",
  hardwareOneTimePasscode: "hardwareOathAuthenticationMethod",
  fido2SecurityKey: "fido2AuthenticationMethod",
  passKeyDeviceBound: "fido2AuthenticationMethod",
  windowsHelloForBusiness: "windowsHelloForBusinessAuthenticationMethod",
  email: "emailAuthenticationMethod",
  temporaryAccessPass: "temporaryAccessPassAuthenticationMethod",
};

function sleep(ms: number): Promise<void> {
  return ms >= 1 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}

function segmentError(segment: string): GraphHttpError {
  return new GraphHttpError(400, "BadRequest", `Resource not found for the segment '${segment}'.`);
}

/** Matches a path (segments after the version) to a route. */
function matchRoute(segs: string[]): RouteMatch {
  const [a, b, c, d, e, f, ...rest] = segs;
  const lower = (s: string | undefined): string | undefined => s?.toLowerCase();
  if (a === undefined) {
    throw segmentError("");
  }
  const la = lower(a);
  if (la === "me") {
    throw new GraphHttpError(
      400,
      "BadRequest",
      "/me request is only valid with delegated authentication flow.",
    );
  }
  if (la === "users") {
    if (b === undefined) {
      return {
        kind: "users.list",
        methods: ["GET"],
        role: "user",
        family: "directory",
        params: [],
      };
    }
    if (c === undefined && b === "$count") {
      return {
        kind: "users.list",
        methods: ["GET"],
        role: "user",
        family: "directory",
        params: ["$count"],
      };
    }
    if (c === undefined && (b === "delta" || b === "delta()")) {
      return {
        kind: "users.delta",
        methods: ["GET"],
        role: "user",
        family: "directory",
        params: [],
      };
    }
    if (c === undefined) {
      return {
        kind: "users.get",
        methods: ["GET"],
        role: "user",
        family: "directory",
        params: [b],
      };
    }
    if (lower(c) === "authentication" && d !== undefined) {
      if (lower(d) === "methods" && e === undefined) {
        return {
          kind: "authMethods.list",
          methods: ["GET"],
          role: "phoneRead",
          family: "phone",
          params: [b],
        };
      }
      if (lower(d) === "phonemethods") {
        if (e === undefined) {
          return {
            kind: "phoneMethods.list",
            methods: ["GET", "POST"],
            role: "phoneRead",
            family: "phone",
            params: [b],
          };
        }
        if (f === undefined) {
          return {
            kind: "phoneMethods.get",
            methods: ["GET", "PATCH", "DELETE"],
            role: "phoneRead",
            family: "phone",
            params: [b, e],
          };
        }
        throw segmentError(f);
      }
      throw segmentError(e ?? d);
    }
    throw segmentError(c);
  }
  if (la === "groups") {
    if (b === undefined) {
      return {
        kind: "groups.list",
        methods: ["GET"],
        role: "group",
        family: "directory",
        params: [],
      };
    }
    if (lower(c) === "transitivemembers" && (e === undefined || e === "")) {
      return {
        kind: "groups.transitiveMembers",
        methods: ["GET"],
        role: "group",
        family: "directory",
        params: [b, d ?? ""],
      };
    }
    throw segmentError(c ?? b);
  }
  if (la === "reports") {
    if (lower(b) === "authenticationmethods" && lower(c) === "userregistrationdetails") {
      if (d === undefined) {
        return {
          kind: "report.list",
          methods: ["GET"],
          role: "report",
          family: "reports",
          params: [],
        };
      }
      if (e === undefined) {
        return {
          kind: "report.get",
          methods: ["GET"],
          role: "report",
          family: "reports",
          params: [d],
        };
      }
    }
    throw segmentError(rest[0] ?? e ?? d ?? c ?? b ?? a);
  }
  throw segmentError(a);
}

/** Identity-service resource-unit costs (documented base costs and modifiers). */
function resourceUnits(kind: RouteKind, method: string, query: URLSearchParams): number {
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

type Member = { user?: UserRec; group?: { id: string; displayName: string } };

/** Everything the engine needs from the server around it. */
export interface EngineContext {
  store: TenantStore;
  tokens: TokenAuthority;
  metrics: MetricsCollector;
  config: () => EmulatorConfig;
  /** Absolute Graph root, e.g. `https://127.0.0.1:1234`. */
  baseUrl: () => string;
}

interface Outcome {
  response: GraphResponse;
  write: boolean;
}

/** The Graph engine. */
export class GraphEngine {
  private prng: Prng;
  private phoneRegex: RegExp | undefined;
  private readonly memberLists = new Map<string, Member[]>();
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly startMs = Date.now();
  /** `/users/delta` and the user changes it reports (admin upserts and deletes). */
  readonly usersDelta: UsersDelta;
  /** `/servicePrincipals` and app-role assignments (deploy-time calls; see servicePrincipals.ts). */
  readonly servicePrincipals = new ServicePrincipalDirectory();

  /** @param ctx - store, tokens, metrics and config */
  constructor(private readonly ctx: EngineContext) {
    this.prng = new Prng(ctx.config().seed);
    this.usersDelta = new UsersDelta({
      store: ctx.store,
      config: ctx.config,
      onUsersChanged: () => this.memberLists.clear(),
    });
  }

  /** Re-seeds the PRNG (after a config change of `seed`). */
  reseed(seed: number): void {
    this.prng = new Prng(seed);
  }

  /** Starts every quota bucket over, full (after a quota or timeScale change). */
  resetBuckets(): void {
    this.buckets.clear();
  }

  private bucketShape(kind: "ru" | "write" | "reports"): { capacity: number; windowMs: number } {
    const c = this.ctx.config();
    const scale = c.timeScale * 1000;
    if (kind === "ru") {
      return { capacity: c.resourceUnitQuota, windowMs: c.resourceUnitWindowSeconds * scale };
    }
    if (kind === "write") {
      return { capacity: c.writeQuota, windowMs: c.writeQuotaWindowSeconds * scale };
    }
    return { capacity: c.reportsQuota, windowMs: c.reportsQuotaWindowSeconds * scale };
  }

  private bucket(kind: "ru" | "write" | "reports", appId: string): TokenBucket {
    const key = `${kind}|${appId}`;
    let b = this.buckets.get(key);
    if (!b) {
      const { capacity, windowMs } = this.bucketShape(kind);
      b = new TokenBucket(capacity, windowMs);
      this.buckets.set(key, b);
    }
    return b;
  }

  /**
   * Answers one top-level Graph request (a `$batch` envelope included).
   *
   * @param req - the parsed request
   */
  async handle(req: GraphRequest): Promise<GraphResponse> {
    const requestId = newRequestId();
    const clientRequestId = req.headers["client-request-id"];
    const segs = this.splitPath(req.path);
    if (segs instanceof GraphHttpError) {
      return this.finish("unknown", this.fail(segs, requestId, clientRequestId), false);
    }
    const [version, ...rest] = segs;
    if (rest.length === 1 && rest[0] === "$batch") {
      return this.handleBatch(req, version ?? "", requestId, clientRequestId);
    }
    const { response, write, kind } = await this.process(req, segs, undefined, false);
    return this.finish(kind, response, write);
  }

  private finish(kind: RouteKind, response: GraphResponse, write: boolean): GraphResponse {
    this.ctx.metrics.record(kind, response.reset ? 0 : response.status, write);
    return response;
  }

  private splitPath(path: string): string[] | GraphHttpError {
    const raw = path.split("/").slice(1);
    if (raw.length > 1 && raw[raw.length - 1] === "") {
      raw.pop();
    }
    try {
      return raw.map((s) => decodeURIComponent(s));
    } catch {
      return new GraphHttpError(400, "BadRequest", "The request URL is not valid.");
    }
  }

  private fail(e: GraphHttpError, requestId: string, clientRequestId?: string): GraphResponse {
    return errorResponse(e.status, e.code, e.message, requestId, clientRequestId, e.headers);
  }

  private authenticate(req: GraphRequest): TokenClaims | GraphHttpError {
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    const result = this.ctx.tokens.verify(m ? m[1] : undefined);
    if (typeof result !== "string") {
      return result;
    }
    const messages: Record<typeof result, string> = {
      missing: "Access token is empty.",
      malformed: "Access token validation failure. Invalid signature.",
      expired: "Lifetime validation failed, the token is expired.",
      revoked: "Access token has been revoked.",
    };
    return new GraphHttpError(401, "InvalidAuthenticationToken", messages[result], {
      "WWW-Authenticate": WWW_AUTHENTICATE,
    });
  }

  /**
   * Processes one Graph request end to end except metrics.
   *
   * @param req - request
   * @param segs - decoded path segments incl. version
   * @param claims - pre-validated claims (batch items), or undefined to authenticate here
   * @param inBatch - whether this is a batch item (no connection resets)
   */
  private async process(
    req: GraphRequest,
    segs: string[],
    claims: TokenClaims | undefined,
    inBatch: boolean,
  ): Promise<Outcome & { kind: RouteKind }> {
    const requestId = newRequestId();
    const clientRequestId = req.headers["client-request-id"];
    const config = this.ctx.config();
    let kind: RouteKind = "unknown";
    try {
      const [version, ...path] = segs;
      if (version !== "v1.0" && version !== "beta") {
        throw new GraphHttpError(400, "BadRequest", `Invalid version: ${version ?? ""}`);
      }
      const auth = claims ?? this.authenticate(req);
      if (auth instanceof GraphHttpError) {
        throw auth;
      }
      if (path[0]?.toLowerCase() === "serviceprincipals") {
        kind = "servicePrincipals";
        this.servicePrincipals.ensureApplication(auth.appId);
        const response = this.servicePrincipals.handle(
          req.method.toUpperCase(),
          path,
          req.query,
          req.body,
          auth.roles,
          `${this.ctx.baseUrl()}/${version}`,
        );
        Object.assign(response.headers, {
          "request-id": requestId,
          "client-request-id": clientRequestId ?? requestId,
        });
        return { response, write: false, kind };
      }
      const route = matchRoute(path);
      kind = route.kind;
      const method = req.method.toUpperCase();
      if (!route.methods.includes(method)) {
        throw new GraphHttpError(
          405,
          "Request_BadRequest",
          "Specified HTTP method is not allowed for the request target.",
          { Allow: route.methods.join(", ") },
        );
      }
      const isWrite = method !== "GET";
      if (route.family === "phone") {
        kind = this.phoneKind(route.kind, method);
      }
      const role: Role = route.family === "phone" && isWrite ? "phoneWrite" : route.role;
      if (!ROLE_SETS[role].some((r) => auth.roles.includes(r))) {
        if (route.family === "phone") {
          throw new GraphHttpError(403, "accessDenied", "Request Authorization failed");
        }
        if (route.family === "reports") {
          throw new GraphHttpError(
            403,
            "Authentication_MSGraphPermissionMissing",
            "Calling principal does not have required MSGraph permissions AuditLog.Read.All",
          );
        }
        throw new GraphHttpError(
          403,
          "Authorization_RequestDenied",
          "Insufficient privileges to complete the operation.",
        );
      }
      if (route.family === "reports" && !this.ctx.store.premium) {
        throw new GraphHttpError(
          403,
          "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
          "Neither tenant is B2C or tenant doesn't have premium license",
        );
      }
      const quotaHeaders = this.throttle(route, kind, method, req.query, auth, config);
      const fault = this.drawFault(config, inBatch);
      if (fault && !(config.faultAfterWrite && isWrite)) {
        return { ...this.faultResponse(fault, config, requestId, clientRequestId), kind };
      }
      const latencyMs = this.latency(kind, config);
      const started = Date.now();
      const outcome = await this.dispatch(route, kind, method, req, version);
      // Latency is applied after the state change so that concurrent readers see it as Graph would.
      await sleep(latencyMs - (Date.now() - started));
      if (fault) {
        return {
          response: this.faultResponse(fault, config, requestId, clientRequestId).response,
          write: outcome.write,
          kind,
        };
      }
      Object.assign(outcome.response.headers, quotaHeaders, {
        "request-id": requestId,
        "client-request-id": clientRequestId ?? requestId,
      });
      return { ...outcome, kind };
    } catch (e) {
      if (e instanceof GraphHttpError) {
        return { response: this.fail(e, requestId, clientRequestId), write: false, kind };
      }
      const message = e instanceof Error ? e.message : String(e);
      return {
        response: errorResponse(
          500,
          "UnknownError",
          `GraphEmulator: internal error: ${message}`,
          requestId,
          clientRequestId,
        ),
        write: false,
        kind,
      };
    }
  }

  private phoneKind(kind: RouteKind, method: string): RouteKind {
    if (kind === "phoneMethods.list") {
      return method === "POST" ? "phoneMethods.create" : "phoneMethods.list";
    }
    if (kind === "phoneMethods.get") {
      return method === "PATCH"
        ? "phoneMethods.update"
        : method === "DELETE"
          ? "phoneMethods.delete"
          : "phoneMethods.get";
    }
    return kind;
  }

  private throttle(
    route: RouteMatch,
    kind: RouteKind,
    method: string,
    query: URLSearchParams,
    auth: TokenClaims,
    config: EmulatorConfig,
  ): Record<string, string> {
    const appId = auth.appId;
    const tenantId = this.ctx.store.tenantId;
    const isWrite = method !== "GET";
    const storm = config.storm;
    if (storm.periodSeconds > 0 && storm.durationSeconds > 0) {
      const periodMs = storm.periodSeconds * config.timeScale * 1000;
      const durMs = storm.durationSeconds * config.timeScale * 1000;
      const since = Date.now() - this.startMs;
      const phase = since % periodMs;
      if (since >= periodMs && phase < durMs) {
        throw this.tooMany(
          durMs - phase,
          `Tenant_Application/${isWrite ? "Write" : "Read"}/${appId}/${tenantId}`,
          "CPULimitExceeded",
        );
      }
    }
    const useReports =
      route.family === "reports" ||
      (route.family === "phone" && config.phoneWriteQuotaModel === "reports");
    const headers: Record<string, string> = {};
    if (useReports) {
      const b = this.bucket("reports", appId);
      const wait = b.waitFor(1);
      if (wait > 0) {
        throw this.tooMany(
          wait,
          `Tenant_Application/Read/${appId}/${tenantId}`,
          "RequestLimitExceeded",
        );
      }
      b.take(1);
      this.limitPercentage(headers, b.usage(), config);
      return headers;
    }
    const ru = resourceUnits(kind, method, query);
    const ruBucket = this.bucket("ru", appId);
    const ruWait = ruBucket.waitFor(ru);
    const writeBucket = isWrite ? this.bucket("write", appId) : undefined;
    const writeWait = writeBucket ? writeBucket.waitFor(1) : 0;
    if (writeWait > 0) {
      throw this.tooMany(
        Math.max(writeWait, ruWait),
        `Tenant_Application/Write/${appId}/${tenantId}`,
        "WriteLimitExceeded",
      );
    }
    if (ruWait > 0) {
      throw this.tooMany(
        ruWait,
        `Tenant_Application/${isWrite ? "ReadWrite" : "Read"}/${appId}/${tenantId}`,
        "ResourceUnitLimitExceeded",
      );
    }
    ruBucket.take(ru);
    writeBucket?.take(1);
    headers["x-ms-resource-unit"] = String(ru);
    this.limitPercentage(
      headers,
      Math.max(ruBucket.usage(), writeBucket ? writeBucket.usage() : 0),
      config,
    );
    return headers;
  }

  private limitPercentage(
    headers: Record<string, string>,
    usage: number,
    config: EmulatorConfig,
  ): void {
    const mode = config.throttleLimitPercentageHeader;
    if (mode === "always" || (mode === "above80" && usage > 0.8)) {
      headers["x-ms-throttle-limit-percentage"] = usage.toFixed(2);
    }
  }

  private tooMany(waitMs: number, scope: string, info: string): GraphHttpError {
    // Retry-After is whole seconds and never 0 while throttled; the exact wait is an extension.
    return new GraphHttpError(429, "TooManyRequests", "Please retry again later.", {
      "Retry-After": String(Math.max(1, Math.ceil(waitMs / 1000))),
      "x-ms-retry-after-ms": String(Math.max(1, Math.ceil(waitMs))),
      "x-ms-throttle-scope": scope,
      "x-ms-throttle-information": info,
    });
  }

  private drawFault(config: EmulatorConfig, inBatch: boolean): "503" | "504" | "reset" | undefined {
    if (config.fault503Rate + config.fault504Rate + config.faultResetRate <= 0) {
      return undefined;
    }
    const x = this.prng.next();
    if (x < config.fault503Rate) {
      return "503";
    }
    if (x < config.fault503Rate + config.fault504Rate) {
      return "504";
    }
    if (x < config.fault503Rate + config.fault504Rate + config.faultResetRate) {
      return inBatch ? "504" : "reset";
    }
    return undefined;
  }

  private faultResponse(
    fault: "503" | "504" | "reset",
    config: EmulatorConfig,
    requestId: string,
    clientRequestId: string | undefined,
  ): Outcome {
    if (fault === "reset") {
      return { response: { status: 0, headers: {}, reset: true }, write: false };
    }
    if (fault === "503") {
      const secs = Math.max(1, Math.ceil(config.fault503RetryAfterSeconds * config.timeScale));
      return {
        response: errorResponse(
          503,
          "serviceNotAvailable",
          "The service is temporarily unavailable. Please retry later.",
          requestId,
          clientRequestId,
          { "Retry-After": String(secs) },
        ),
        write: false,
      };
    }
    return {
      response: errorResponse(
        504,
        "UnknownError",
        "The gateway did not receive a timely response from the service.",
        requestId,
        clientRequestId,
      ),
      write: false,
    };
  }

  private latency(kind: RouteKind, config: EmulatorConfig): number {
    const d = config.latency[kind] ?? config.defaultLatency;
    return drawLatency(this.prng, d.meanMs, d.p99Ms) * config.timeScale;
  }

  private lagMs(): number {
    const c = this.ctx.config();
    return c.reportLagSeconds * c.timeScale * 1000;
  }

  private dispatch(
    route: RouteMatch,
    kind: RouteKind,
    method: string,
    req: GraphRequest,
    version: string,
  ): Promise<Outcome> | Outcome {
    const root = `${this.ctx.baseUrl()}/${version}`;
    switch (kind) {
      case "users.list":
        return route.params[0] === "$count" ? this.countUsers(req) : ok(this.listUsers(req, root));
      case "users.get":
        return ok(this.getUser(route.params[0] ?? "", req, root));
      case "users.delta":
        return { response: this.usersDelta.handle(req.query, req.headers, root), write: false };
      case "groups.list":
        return ok(this.listGroups(req, root));
      case "groups.transitiveMembers":
        return ok(this.transitiveMembers(route.params[0] ?? "", route.params[1] ?? "", req, root));
      case "report.list":
        return ok(this.listReport(req, root));
      case "report.get":
        return ok(this.getReportRow(route.params[0] ?? "", req, root));
      case "authMethods.list":
        return ok(this.listAuthMethods(route.params[0] ?? "", root));
      case "phoneMethods.list":
        return ok(this.listPhones(route.params[0] ?? "", root));
      case "phoneMethods.get":
        return ok(this.getPhone(route.params[0] ?? "", route.params[1] ?? "", root));
      case "phoneMethods.create":
        return this.createPhone(route.params[0] ?? "", req, root);
      case "phoneMethods.update":
        return this.updatePhone(route.params[0] ?? "", route.params[1] ?? "", req);
      case "phoneMethods.delete":
        return this.deletePhone(route.params[0] ?? "", route.params[1] ?? "");
      default:
        throw new GraphHttpError(
          400,
          "BadRequest",
          `Resource not found for the segment '${method}'.`,
        );
    }
  }

  // ---- users -------------------------------------------------------------------------------

  private findUserOr404(idOrUpn: string): UserRec {
    const u = this.ctx.store.findUser(idOrUpn);
    if (!u) {
      throw new GraphHttpError(
        404,
        "Request_ResourceNotFound",
        `Resource '${idOrUpn}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    return u;
  }

  private rejectSkip(q: URLSearchParams, code = "Request_BadRequest"): void {
    if (q.has("$skip")) {
      throw new GraphHttpError(400, code, "'$skip' is not supported by the service.");
    }
  }

  private advancedParams(req: GraphRequest): { eventual: boolean; count: boolean } {
    const eventual = (req.headers.consistencylevel ?? "").trim().toLowerCase() === "eventual";
    const rawCount = req.query.get("$count");
    if (rawCount !== null && rawCount !== "true" && rawCount !== "false") {
      throw new GraphHttpError(
        400,
        "Request_BadRequest",
        `Invalid value '${rawCount}' for $count.`,
      );
    }
    return { eventual, count: rawCount === "true" };
  }

  private nextLink(root: string, path: string, q: URLSearchParams, token: string): string {
    const params = new URLSearchParams(q);
    params.delete("$skiptoken");
    params.set("$skiptoken", token);
    // Graph writes `$` literally in its links; URLSearchParams would encode it as %24.
    return `${root}/${path}?${params.toString().replace(/%24/g, "$")}`;
  }

  private page<T>(
    items: ArrayLike<T>,
    start: number,
    top: number,
    match: (x: T) => boolean,
  ): { found: T[]; next: number | undefined } {
    const found: T[] = [];
    let i = start;
    for (; i < items.length && found.length < top; i++) {
      const x = items[i] as T;
      if (match(x)) {
        found.push(x);
      }
    }
    // Looks ahead so the last page carries no nextLink.
    for (let j = i; j < items.length; j++) {
      if (match(items[j] as T)) {
        return { found, next: i };
      }
    }
    return { found, next: undefined };
  }

  private listUsers(req: GraphRequest, root: string): Record<string, unknown> {
    const q = req.query;
    this.rejectSkip(q);
    const top = parseTop(q.get("$top"), 100, 999);
    const select = parseSelect(q.get("$select"), USER_PROPERTIES, "microsoft.graph.user");
    const { eventual, count } = this.advancedParams(req);
    const rawFilter = q.get("$filter");
    let predicate: (u: UserRec) => boolean = () => true;
    if (rawFilter !== null) {
      const f = compileUserFilter(rawFilter);
      if (f.advancedReason && !(eventual && count)) {
        throw new GraphHttpError(
          400,
          "Request_UnsupportedQuery",
          `${f.advancedReason} because the required parameters might be missing. Try adding $count=true query parameter and ConsistencyLevel:eventual header. Refer to https://aka.ms/graph-docs/advanced-queries for more information`,
        );
      }
      predicate = f.predicate;
    }
    if (count && !eventual) {
      throw new GraphHttpError(400, "Request_BadRequest", "$count is not currently supported.");
    }
    const token = q.get("$skiptoken");
    const start = decodeSkipToken(token, "users");
    const users = this.ctx.store.users;
    const { found, next } = this.page(users, start, top, predicate);
    const props = select ?? USER_DEFAULT_PROPERTIES;
    const body: Record<string, unknown> = {
      "@odata.context": `${root}/$metadata#users${select ? `(${select.join(",")})` : ""}`,
    };
    if (count && eventual && token === null) {
      let n = 0;
      for (const u of users) {
        if (predicate(u)) {
          n++;
        }
      }
      body["@odata.count"] = n;
    }
    if (next !== undefined) {
      body["@odata.nextLink"] = this.nextLink(root, "users", q, encodeSkipToken("users", next));
    }
    body.value = found.map((u) => project(userObject(u), props));
    return body;
  }

  /** `GET /users/$count`: plain-text count, only with `ConsistencyLevel: eventual`. */
  private countUsers(req: GraphRequest): Outcome {
    const { eventual } = this.advancedParams(req);
    if (!eventual) {
      throw new GraphHttpError(400, "Request_BadRequest", "$count is not currently supported.");
    }
    const rawFilter = req.query.get("$filter");
    const predicate = rawFilter !== null ? compileUserFilter(rawFilter).predicate : () => true;
    let n = 0;
    for (const u of this.ctx.store.users) {
      if (predicate(u)) {
        n++;
      }
    }
    return {
      response: { status: 200, headers: { "Content-Type": "text/plain" }, body: n },
      write: false,
    };
  }

  private getUser(idOrUpn: string, req: GraphRequest, root: string): Record<string, unknown> {
    const u = this.findUserOr404(idOrUpn);
    const select = parseSelect(req.query.get("$select"), USER_PROPERTIES, "microsoft.graph.user");
    return {
      "@odata.context": `${root}/$metadata#users${select ? `(${select.join(",")})` : ""}/$entity`,
      ...project(userObject(u), select ?? USER_DEFAULT_PROPERTIES),
    };
  }

  // ---- groups ------------------------------------------------------------------------------

  private listGroups(req: GraphRequest, root: string): Record<string, unknown> {
    const q = req.query;
    this.rejectSkip(q);
    const top = parseTop(q.get("$top"), 100, 999);
    const select = parseSelect(q.get("$select"), GROUP_PROPERTIES, "microsoft.graph.group");
    const rawFilter = q.get("$filter");
    const predicate = rawFilter !== null ? compileGroupFilter(rawFilter) : () => true;
    const token = q.get("$skiptoken");
    const { found, next } = this.page(
      this.ctx.store.groups,
      decodeSkipToken(token, "groups"),
      top,
      predicate,
    );
    const body: Record<string, unknown> = {
      "@odata.context": `${root}/$metadata#groups${select ? `(${select.join(",")})` : ""}`,
    };
    if (next !== undefined) {
      body["@odata.nextLink"] = this.nextLink(root, "groups", q, encodeSkipToken("groups", next));
    }
    body.value = found.map((g) =>
      project(
        {
          id: g.id,
          displayName: g.displayName,
          description: null,
          mail: null,
          mailEnabled: false,
          securityEnabled: true,
          groupTypes: [],
        },
        select ?? GROUP_PROPERTIES,
      ),
    );
    return body;
  }

  private transitiveMembers(
    groupId: string,
    cast: string,
    req: GraphRequest,
    root: string,
  ): Record<string, unknown> {
    const q = req.query;
    this.rejectSkip(q);
    const castLower = cast.toLowerCase();
    if (
      cast !== "" &&
      castLower !== "microsoft.graph.user" &&
      castLower !== "microsoft.graph.group"
    ) {
      throw new GraphHttpError(
        400,
        "Request_BadRequest",
        `The type '${cast}' is not a valid cast for the members of a group.`,
      );
    }
    const group = this.ctx.store.findGroup(groupId);
    if (!group) {
      throw new GraphHttpError(
        404,
        "Request_ResourceNotFound",
        `Resource '${groupId}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    const top = parseTop(q.get("$top"), 100, 999);
    const { eventual, count } = this.advancedParams(req);
    const members = this.ctx.store.transitiveMembers(group);
    // Built once per group and cast: membership never changes, and pages of a huge group must
    // not copy the whole member list each time.
    const listKey = `${group.id}|${castLower}`;
    let list = this.memberLists.get(listKey);
    if (!list) {
      if (castLower === "microsoft.graph.user") {
        list = members.users.map((user) => ({ user }));
      } else if (castLower === "microsoft.graph.group") {
        list = members.groups.map((g) => ({ group: g }));
      } else {
        list = [
          ...members.users.map((user) => ({ user })),
          ...members.groups.map((g) => ({ group: g })),
        ];
      }
      this.memberLists.set(listKey, list);
    }
    const isGroupCast = castLower === "microsoft.graph.group";
    const select = parseSelect(
      q.get("$select"),
      isGroupCast ? GROUP_PROPERTIES : USER_PROPERTIES,
      isGroupCast ? "microsoft.graph.group" : "microsoft.graph.user",
    );
    const rawFilter = q.get("$filter");
    let predicate: (m: Member) => boolean = () => true;
    if (rawFilter !== null) {
      // Member pages only document filters as advanced queries; the header is accepted leniently.
      const f = compileUserFilter(rawFilter);
      predicate = (m) => (m.user ? f.predicate(m.user) : false);
    }
    const token = q.get("$skiptoken");
    const tokenKind = `tm:${group.id}:${castLower}`;
    const { found, next } = this.page(list, decodeSkipToken(token, tokenKind), top, predicate);
    const path = `groups/${encodeURIComponent(group.id)}/transitiveMembers${cast ? `/${cast}` : ""}`;
    const body: Record<string, unknown> = {
      "@odata.context": `${root}/$metadata#${cast === "" ? "directoryObjects" : isGroupCast ? "groups" : "users"}${select ? `(${select.join(",")})` : ""}`,
    };
    if (count && eventual && token === null) {
      body["@odata.count"] = list.filter(predicate).length;
    }
    if (next !== undefined) {
      body["@odata.nextLink"] = this.nextLink(root, path, q, encodeSkipToken(tokenKind, next));
    }
    body.value = found.map((m) => {
      if (m.user) {
        return {
          "@odata.type": "#microsoft.graph.user",
          ...project(userObject(m.user), select ?? USER_DEFAULT_PROPERTIES),
        };
      }
      const g = m.group as { id: string; displayName: string };
      return {
        "@odata.type": "#microsoft.graph.group",
        ...project({ id: g.id, displayName: g.displayName }, select ?? ["id", "displayName"]),
      };
    });
    return body;
  }

  // ---- registration report -------------------------------------------------------------------

  private listReport(req: GraphRequest, root: string): Record<string, unknown> {
    const q = req.query;
    const config = this.ctx.config();
    if (q.has("$skip")) {
      throw new GraphHttpError(
        400,
        "BadRequest",
        "The query specified in the URI is not valid. Query option 'Skip' is not allowed. To allow it, set the 'AllowedQueryOptions' property on EnableQueryAttribute or QueryValidationSettings.",
      );
    }
    const top = parseTop(q.get("$top"), config.reportDefaultTop, config.reportMaxTop, "BadRequest");
    const select = parseSelect(
      q.get("$select"),
      REPORT_PROPERTIES,
      "microsoft.graph.userRegistrationDetails",
    );
    const rawFilter = q.get("$filter");
    const rowFilter = rawFilter !== null ? compileReportFilter(rawFilter) : () => true;
    const lag = this.lagMs();
    const store = this.ctx.store;
    const token = q.get("$skiptoken");
    const found: Record<string, unknown>[] = [];
    const users = store.users;
    let i = decodeSkipToken(token, "report");
    for (; i < users.length && found.length < top; i++) {
      const u = users[i] as UserRec;
      if (!u.accountEnabled) {
        continue;
      }
      const row = store.reportRow(u, lag);
      if (rowFilter(row)) {
        found.push(select ? project({ ...row }, select) : { ...row });
      }
    }
    let more = false;
    for (let j = i; j < users.length; j++) {
      const u = users[j] as UserRec;
      if (u.accountEnabled && rowFilter(store.reportRow(u, lag))) {
        more = true;
        break;
      }
    }
    const body: Record<string, unknown> = {
      "@odata.context": `${root}/$metadata#reports/authenticationMethods/userRegistrationDetails`,
    };
    if (more) {
      body["@odata.nextLink"] = this.nextLink(
        root,
        "reports/authenticationMethods/userRegistrationDetails",
        q,
        encodeSkipToken("report", i),
      );
    }
    body.value = found;
    return body;
  }

  private getReportRow(userId: string, req: GraphRequest, root: string): Record<string, unknown> {
    const u = this.ctx.store.findUser(userId);
    if (!u || !u.accountEnabled || u.id.toLowerCase() !== userId.toLowerCase()) {
      throw new GraphHttpError(
        404,
        "Request_ResourceNotFound",
        `Resource '${userId}' does not exist or one of its queried reference-property objects are not present.`,
      );
    }
    const select = parseSelect(
      req.query.get("$select"),
      REPORT_PROPERTIES,
      "microsoft.graph.userRegistrationDetails",
    );
    const row = { ...this.ctx.store.reportRow(u, this.lagMs()) };
    return {
      "@odata.context": `${root}/$metadata#reports/authenticationMethods/userRegistrationDetails/$entity`,
      ...(select ? project(row, select) : row),
    };
  }

  // ---- authentication methods ----------------------------------------------------------------

  private phoneObject(type: PhoneType, u: UserRec): Record<string, unknown> {
    const p = u.phones[type];
    return {
      "@odata.type": "#microsoft.graph.phoneAuthenticationMethod",
      id: PHONE_METHOD_IDS[type],
      phoneNumber: p?.phoneNumber ?? null,
      phoneType: type,
      smsSignInState: p?.smsSignInState ?? "notSupported",
    };
  }

  private listPhones(idOrUpn: string, root: string): Record<string, unknown> {
    const u = this.findUserOr404(idOrUpn);
    return {
      "@odata.context": `${root}/$metadata#users('${u.id}')/authentication/phoneMethods`,
      value: PHONE_TYPES.filter((t) => u.phones[t]).map((t) => this.phoneObject(t, u)),
    };
  }

  private phoneTypeOf(methodId: string): PhoneType {
    const type = PHONE_TYPES.find((t) => PHONE_METHOD_IDS[t] === methodId.toLowerCase());
    if (!type) {
      throw new GraphHttpError(
        404,
        "itemNotFound",
        "The requested authentication method was not found for the user.",
      );
    }
    return type;
  }

  private getPhone(idOrUpn: string, methodId: string, root: string): Record<string, unknown> {
    const u = this.findUserOr404(idOrUpn);
    const type = this.phoneTypeOf(methodId);
    if (!u.phones[type]) {
      throw new GraphHttpError(
        404,
        "itemNotFound",
        "The requested authentication method was not found for the user.",
      );
    }
    return {
      "@odata.context": `${root}/$metadata#users('${u.id}')/authentication/phoneMethods/$entity`,
      ...this.phoneObject(type, u),
    };
  }

  private readPhoneBody(
    req: GraphRequest,
    requireType: boolean,
  ): { phoneNumber: string; phoneType?: PhoneType } {
    if (req.bodyMalformed || req.body === undefined) {
      throw new GraphHttpError(
        400,
        "BadRequest",
        "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
      );
    }
    const body = req.body;
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new GraphHttpError(400, "badRequest", "The request body must be a JSON object.");
    }
    const b = body as Record<string, unknown>;
    for (const key of Object.keys(b)) {
      if (key === "smsSignInState") {
        throw new GraphHttpError(
          400,
          "badRequest",
          "Property 'smsSignInState' is read-only and cannot be set.",
        );
      }
      if (!["phoneNumber", "phoneType", "@odata.type"].includes(key)) {
        throw new GraphHttpError(
          400,
          "badRequest",
          `Property '${key}' does not exist on type 'microsoft.graph.phoneAuthenticationMethod'.`,
        );
      }
    }
    if (typeof b.phoneNumber !== "string" || b.phoneNumber === "") {
      throw new GraphHttpError(400, "badRequest", "The property 'phoneNumber' is required.");
    }
    let phoneType: PhoneType | undefined;
    if (b.phoneType !== undefined) {
      if (typeof b.phoneType !== "string" || !(PHONE_TYPES as string[]).includes(b.phoneType)) {
        throw new GraphHttpError(
          400,
          "badRequest",
          "The property 'phoneType' must be 'mobile', 'alternateMobile' or 'office'.",
        );
      }
      phoneType = b.phoneType as PhoneType;
    } else if (requireType) {
      throw new GraphHttpError(400, "badRequest", "The property 'phoneType' is required.");
    }
    const config = this.ctx.config();
    if (this.phoneRegex?.source !== config.phoneNumberPattern) {
      this.phoneRegex = new RegExp(config.phoneNumberPattern);
    }
    if (!this.phoneRegex.test(b.phoneNumber)) {
      const e = config.invalidPhoneNumberError;
      throw new GraphHttpError(e.status, e.code, e.message);
    }
    return phoneType ? { phoneNumber: b.phoneNumber, phoneType } : { phoneNumber: b.phoneNumber };
  }

  private createPhone(idOrUpn: string, req: GraphRequest, root: string): Outcome {
    const u = this.findUserOr404(idOrUpn);
    const { phoneNumber, phoneType } = this.readPhoneBody(req, true);
    const config = this.ctx.config();
    const result = this.ctx.store.createPhone(
      u,
      phoneType as PhoneType,
      phoneNumber,
      config,
      this.lagMs(),
    );
    if (result.notUnique) {
      return {
        response: {
          status: 409,
          headers: { "Content-Type": "application/json" },
          body: {
            error: {
              code: "phoneNumberNotUnique",
              message:
                "The phone number is already registered for SMS sign-in by another user. The phone method was added without SMS sign-in.",
              innerError: { date: new Date().toISOString().replace(/\.\d{3}Z$/, "") },
            },
          },
        },
        write: true,
      };
    }
    return {
      response: {
        status: config.createStatus,
        headers: {
          "Content-Type": ODATA_JSON,
          Location: `${root}/users/${encodeURIComponent(u.id)}/authentication/phoneMethods/${PHONE_METHOD_IDS[phoneType as PhoneType]}`,
        },
        body: {
          "@odata.context": `${root}/$metadata#users('${u.id}')/authentication/phoneMethods/$entity`,
          ...this.phoneObject(phoneType as PhoneType, u),
        },
      },
      write: true,
    };
  }

  private updatePhone(idOrUpn: string, methodId: string, req: GraphRequest): Outcome {
    const u = this.findUserOr404(idOrUpn);
    const type = this.phoneTypeOf(methodId);
    const { phoneNumber, phoneType } = this.readPhoneBody(req, false);
    if (phoneType !== undefined && phoneType !== type) {
      throw new GraphHttpError(
        400,
        "badRequest",
        "The phone type of an existing method cannot be changed. Add a method of the new type and delete the old one.",
      );
    }
    this.ctx.store.updatePhone(u, type, phoneNumber, this.lagMs());
    return { response: { status: 204, headers: {} }, write: true };
  }

  private deletePhone(idOrUpn: string, methodId: string): Outcome {
    const u = this.findUserOr404(idOrUpn);
    const type = this.phoneTypeOf(methodId);
    this.ctx.store.deletePhone(u, type, this.ctx.config(), this.lagMs());
    return { response: { status: 204, headers: {} }, write: true };
  }

  private listAuthMethods(idOrUpn: string, root: string): Record<string, unknown> {
    const u = this.findUserOr404(idOrUpn);
    const value: Record<string, unknown>[] = [
      {
        "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
        id: PASSWORD_METHOD_ID,
        password: null,
        createdDateTime: null,
      },
      ...PHONE_TYPES.filter((t) => u.phones[t]).map((t) => this.phoneObject(t, u)),
      ...u.otherMethods.map((m) => ({
        "@odata.type": `#microsoft.graph.${OTHER_METHOD_TYPES[m] ?? "authenticationMethod"}`,
        id: stableGuid(`${u.id}:${m}`),
      })),
    ];
    return {
      "@odata.context": `${root}/$metadata#users('${u.id}')/authentication/methods`,
      value,
    };
  }

  // ---- $batch --------------------------------------------------------------------------------

  private async handleBatch(
    req: GraphRequest,
    version: string,
    requestId: string,
    clientRequestId: string | undefined,
  ): Promise<GraphResponse> {
    this.ctx.metrics.recordBatch();
    const bad = (message: string): GraphResponse =>
      errorResponse(400, "BadRequest", message, requestId, clientRequestId);
    if (version !== "v1.0" && version !== "beta") {
      return bad(`Invalid version: ${version}`);
    }
    if (req.method.toUpperCase() !== "POST") {
      return errorResponse(
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
        requestId,
        clientRequestId,
        { Allow: "POST" },
      );
    }
    const claims = this.authenticate(req);
    if (claims instanceof GraphHttpError) {
      return this.fail(claims, requestId, clientRequestId);
    }
    if (req.bodyMalformed || req.body === undefined) {
      return bad(
        "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
      );
    }
    const body = req.body as { requests?: unknown };
    if (typeof body !== "object" || body === null || !Array.isArray(body.requests)) {
      return bad("Invalid batch payload format.");
    }
    const items = body.requests as unknown[];
    if (items.length === 0) {
      return bad(
        "Invalid batch payload format. The batch request must contain at least one request.",
      );
    }
    if (items.length > 20) {
      return bad("The number of requests in a batch exceeds the limit of 20.");
    }
    interface Item {
      id: string;
      method: string;
      url: string;
      headers: Record<string, string | undefined>;
      body?: unknown;
      dependsOn: string[];
    }
    const parsed: Item[] = [];
    const ids = new Set<string>();
    for (const raw of items) {
      if (typeof raw !== "object" || raw === null) {
        return bad("Invalid batch payload format.");
      }
      const r = raw as Record<string, unknown>;
      if (
        typeof r.id !== "string" ||
        r.id === "" ||
        typeof r.method !== "string" ||
        typeof r.url !== "string"
      ) {
        return bad(
          "Invalid batch payload format. Each request needs string 'id', 'method' and 'url'.",
        );
      }
      if (ids.has(r.id.toLowerCase())) {
        return bad(`Batch request ids must be unique; '${r.id}' is repeated.`);
      }
      ids.add(r.id.toLowerCase());
      const headers: Record<string, string | undefined> = {};
      if (r.headers !== undefined) {
        if (typeof r.headers !== "object" || r.headers === null || Array.isArray(r.headers)) {
          return bad(
            `Invalid batch payload format. The headers of request '${r.id}' must be an object.`,
          );
        }
        for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) {
          headers[k.toLowerCase()] = String(v);
        }
      }
      let dependsOn: string[] = [];
      if (r.dependsOn !== undefined) {
        if (!Array.isArray(r.dependsOn) || !r.dependsOn.every((d) => typeof d === "string")) {
          return bad(
            `Invalid batch payload format. 'dependsOn' of request '${r.id}' must be an array of ids.`,
          );
        }
        dependsOn = r.dependsOn as string[];
      }
      parsed.push({ id: r.id, method: r.method, url: r.url, headers, body: r.body, dependsOn });
    }
    const byId = new Map(parsed.map((p) => [p.id.toLowerCase(), p]));
    for (const p of parsed) {
      for (const d of p.dependsOn) {
        if (!byId.has(d.toLowerCase()) || d.toLowerCase() === p.id.toLowerCase()) {
          return bad(`Request '${p.id}' depends on '${d}', which is not a request of this batch.`);
        }
      }
    }
    // Rejects dependency cycles, which would otherwise wait forever.
    const state = new Map<string, number>();
    const cyclic = (id: string): boolean => {
      const s = state.get(id);
      if (s === 1) {
        return true;
      }
      if (s === 2) {
        return false;
      }
      state.set(id, 1);
      for (const d of byId.get(id)?.dependsOn ?? []) {
        if (cyclic(d.toLowerCase())) {
          return true;
        }
      }
      state.set(id, 2);
      return false;
    };
    for (const p of parsed) {
      if (cyclic(p.id.toLowerCase())) {
        return bad("The dependsOn chain of the batch contains a cycle.");
      }
    }
    const results = new Map<
      string,
      Promise<{ id: string; status: number; headers: Record<string, string>; body?: unknown }>
    >();
    const order: { id: string; status: number; headers: Record<string, string>; body?: unknown }[] =
      [];
    const run = (
      p: Item,
    ): Promise<{ id: string; status: number; headers: Record<string, string>; body?: unknown }> => {
      const existing = results.get(p.id.toLowerCase());
      if (existing) {
        return existing;
      }
      const promise = (async () => {
        for (const d of p.dependsOn) {
          const dep = await run(byId.get(d.toLowerCase()) as Item);
          if (dep.status >= 400) {
            const failed = errorResponse(
              424,
              "FailedDependency",
              `The request depends on request '${d}', which failed.`,
              newRequestId(),
              p.headers["client-request-id"],
            );
            this.ctx.metrics.record("batch", 424, false);
            return { id: p.id, status: 424, headers: failed.headers, body: failed.body };
          }
        }
        const res = await this.runItem(p, version, claims, req.headers.authorization);
        const item = {
          id: p.id,
          status: res.status,
          headers: res.headers,
          ...(res.body !== undefined ? { body: res.body } : {}),
        };
        order.push(item);
        return item;
      })();
      results.set(p.id.toLowerCase(), promise);
      return promise;
    };
    const all = await Promise.all(parsed.map((p) => run(p)));
    // Completion order, as Graph does not promise request order; 424s come last.
    const responses = [...order, ...all.filter((a) => !order.includes(a))];
    return {
      status: 200,
      headers: {
        "Content-Type": ODATA_JSON,
        "request-id": requestId,
        "client-request-id": clientRequestId ?? requestId,
      },
      body: { responses },
    };
  }

  private async runItem(
    p: {
      id: string;
      method: string;
      url: string;
      headers: Record<string, string | undefined>;
      body?: unknown;
    },
    version: string,
    claims: TokenClaims,
    authorization: string | undefined,
  ): Promise<GraphResponse> {
    const requestId = newRequestId();
    const bad = (message: string): GraphResponse => {
      this.ctx.metrics.record("unknown", 400, false);
      return errorResponse(400, "BadRequest", message, requestId, p.headers["client-request-id"]);
    };
    if (/^[a-z]+:\/\//i.test(p.url)) {
      return bad("Batch request URLs must be relative, e.g. '/users'.");
    }
    if (p.body !== undefined && !p.headers["content-type"]) {
      return bad("A Content-Type header is required for a batch request with a body.");
    }
    const rel = p.url.startsWith("/") ? p.url : `/${p.url}`;
    const qi = rel.indexOf("?");
    const path = `/${version}${qi >= 0 ? rel.slice(0, qi) : rel}`;
    const query = new URLSearchParams(qi >= 0 ? rel.slice(qi + 1) : "");
    const segs = this.splitPath(path);
    if (segs instanceof GraphHttpError) {
      return bad(segs.message);
    }
    if (segs[1] === "$batch") {
      return bad("A batch request cannot contain another batch.");
    }
    let body = p.body;
    if (typeof body === "string" && (p.headers["content-type"] ?? "").includes("json")) {
      try {
        body = JSON.parse(body) as unknown;
      } catch {
        body = undefined;
        return this.finish(
          "unknown",
          errorResponse(
            400,
            "BadRequest",
            "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.",
            requestId,
            p.headers["client-request-id"],
          ),
          false,
        );
      }
    }
    const itemReq: GraphRequest = {
      method: p.method,
      path,
      query,
      headers: { ...p.headers, authorization },
      body,
    };
    const { response, write, kind } = await this.process(itemReq, segs, claims, true);
    delete response.headers["request-id"];
    delete response.headers["client-request-id"];
    return this.finish(kind, response, write);
  }
}

function ok(body: Record<string, unknown>): Outcome {
  return { response: { status: 200, headers: { "Content-Type": ODATA_JSON }, body }, write: false };
}

function stableGuid(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
