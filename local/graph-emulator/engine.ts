/**
 * The Graph request pipeline. A request passes, in this order: path and version, token
 * (policies/auth.ts; a `$batch` item's own 401 too), route (routes.ts), roles, the per-user
 * restriction and licence (policies/auth.ts, policies/reportLicence.ts), quota
 * (policies/quota.ts), fault draw (policies/faults.ts), the handler (reads see the
 * read-after-write lag, policies/readAfterWrite.ts), then the latency wait (policies/latency.ts).
 * Top-level requests and `$batch` items (handlers/batch.ts) take the same path.
 */
import type { EmulatorConfig, OutageMode, RouteKind } from "./config.js";
import type { HandlerContext, Outcome, RouteParams } from "./handlers/context.js";
import { handleBatch, type BatchRunner } from "./handlers/batch.js";
import { UsersDelta } from "./handlers/delta.js";
import { MemberLists } from "./handlers/memberLists.js";
import { ServicePrincipalDirectory } from "./handlers/servicePrincipals.js";
import type { MetricsCollector } from "./metrics.js";
import {
  authenticate,
  authorize,
  checkBatchItemToken,
  requireDelegatedRole,
  requireLicence,
  requireManageable,
} from "./policies/auth.js";
import { drawFault, faultResponse } from "./policies/faults.js";
import { routeLatencyMs, sleep } from "./policies/latency.js";
import { OutagePolicy } from "./policies/outage.js";
import { QuotaPolicy } from "./policies/quota.js";
import { ReadAfterWriteLag } from "./policies/readAfterWrite.js";
import { IntermittentReportLicence } from "./policies/reportLicence.js";
import { Prng } from "./policies/random.js";
import { splitPath, type GraphRequest } from "./request.js";
import { GraphHttpError, errorResponse, newRequestId, type GraphResponse } from "./response.js";
import {
  isServicePrincipalsPath,
  matchRoute,
  operationOf,
  routeKind,
  type Operation,
  type RouteDef,
} from "./routes.js";
import type { TenantStore, UserRec } from "./store.js";
import type { TokenAuthority, TokenClaims } from "./tokens.js";

/** Everything the engine needs from the server around it. */
export interface EngineContext {
  store: TenantStore;
  tokens: TokenAuthority;
  metrics: MetricsCollector;
  config: () => EmulatorConfig;
  /** Absolute Graph root, e.g. `https://127.0.0.1:1234`. */
  baseUrl: () => string;
}

/** An answer with the route kind it is counted under. */
type Processed = Outcome & { kind: RouteKind };

/** Ids echoed on every answer. */
interface RequestIds {
  requestId: string;
  clientRequestId: string | undefined;
}

/** A request matched to its route, authenticated, ready for the checks and the handler. */
interface RoutedRequest {
  req: GraphRequest;
  route: RouteDef;
  params: RouteParams;
  op: Operation;
  auth: TokenClaims;
  /** Absolute Graph root with the version. */
  root: string;
  inBatch: boolean;
  ids: RequestIds;
}

/** The Graph engine: the pipeline plus the state that outlives a request. */
export class GraphEngine {
  /** The PRNG of fault and latency draws, in that order per request. */
  private readonly prng: Prng;
  private readonly quota: QuotaPolicy;
  private readonly reportLicence = new IntermittentReportLicence();
  private readonly readLag = new ReadAfterWriteLag();
  /** Outages started by the admin API or scheduled by config. */
  readonly outage: OutagePolicy;
  private readonly memberLists = new MemberLists();
  private readonly batchRunner: BatchRunner;
  /** `/users/delta` and the user changes it reports (admin upserts and deletes). */
  readonly usersDelta: UsersDelta;
  /** `/servicePrincipals` and app-role assignments (deploy-time calls). */
  readonly servicePrincipals = new ServicePrincipalDirectory();

  /** @param ctx - store, tokens, metrics and config */
  constructor(private readonly ctx: EngineContext) {
    this.prng = new Prng(ctx.config().seed);
    this.quota = new QuotaPolicy(ctx.store.tenantId, ctx.config);
    this.outage = new OutagePolicy(ctx.config());
    this.usersDelta = new UsersDelta({
      store: ctx.store,
      config: ctx.config,
      onUsersChanged: () => this.memberLists.clear(),
    });
    this.batchRunner = {
      metrics: ctx.metrics,
      authenticate: (authorization) => {
        const config = ctx.config();
        const skewMs = config.batchEnvelopeTokenSkewSeconds * config.timeScale * 1000;
        return authenticate(ctx.tokens, authorization, skewMs);
      },
      process: (req, segs, claims) => this.process(req, segs, claims, true),
      finish: (kind, response, write) => this.finish(kind, response, write),
    };
  }

  /**
   * Follows a config change: a new seed restarts the draws, a quota change the quotas.
   *
   * @param prev - the config before
   * @param next - the config now in effect
   */
  configChanged(prev: EmulatorConfig, next: EmulatorConfig): void {
    if (next.seed !== prev.seed) {
      this.prng.reseed(next.seed);
    }
    if (QuotaPolicy.restartsOn(prev, next)) {
      this.quota.reset();
    }
    this.reportLicence.configChanged(prev, next);
    this.outage.configChanged(prev, next);
  }

  /**
   * Answers one top-level Graph request (a `$batch` envelope included).
   *
   * @param req - the parsed request
   */
  async handle(req: GraphRequest): Promise<GraphResponse> {
    const down = this.outage.current();
    if (down) {
      return this.outageAnswer(req, down);
    }
    const segs = splitPath(req.path);
    if (segs instanceof GraphHttpError) {
      return this.finish("unknown", errorAnswer(segs, idsOf(req)), false);
    }
    const [version, ...rest] = segs;
    if (rest.length === 1 && rest[0] === "$batch") {
      return handleBatch(this.batchRunner, req, version ?? "");
    }
    const { response, write, kind } = await this.process(req, segs, undefined, false);
    return this.finish(kind, response, write);
  }

  /** Answers a request that arrives during an outage, before anything else looks at it. */
  private outageAnswer(req: GraphRequest, mode: OutageMode): GraphResponse {
    const ids = idsOf(req);
    const response = faultResponse(
      mode === "reset" ? "reset" : "503",
      this.ctx.config(),
      ids.requestId,
      ids.clientRequestId,
    );
    this.ctx.metrics.recordOutage(/\/\$batch\/?$/.test(req.path), response.reset === true);
    return response;
  }

  private finish(kind: RouteKind, response: GraphResponse, write: boolean): GraphResponse {
    this.ctx.metrics.record(kind, response.reset ? 0 : response.status, write);
    return response;
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
  ): Promise<Processed> {
    const ids = idsOf(req);
    let kind: RouteKind = "unknown";
    try {
      const [version, ...path] = segs;
      if (version !== "v1.0" && version !== "beta") {
        throw new GraphHttpError(400, "BadRequest", `Invalid version: ${version ?? ""}`);
      }
      const auth = claims ?? authenticate(this.ctx.tokens, req.headers.authorization);
      if (auth instanceof GraphHttpError) {
        throw auth;
      }
      const root = `${this.ctx.baseUrl()}/${version}`;
      if (isServicePrincipalsPath(path)) {
        kind = "servicePrincipals";
        return { ...this.servicePrincipalsAnswer(req, path, auth, root, ids), kind };
      }
      const { route, params } = matchRoute(path);
      kind = routeKind(route);
      const op = operationOf(route, req.method.toUpperCase());
      kind = op.kind;
      if (claims) {
        checkBatchItemToken(claims, this.prng, this.ctx.config());
      }
      const outcome = await this.runRoute({ req, route, params, op, auth, root, inBatch, ids });
      return { ...outcome, kind };
    } catch (e) {
      return { response: errorAnswer(e, ids), write: false, kind };
    }
  }

  /**
   * Runs a routed request: permission, per-user and licence checks, quota, then the handler under
   * faults and latency; a write of a user's methods is recorded for the read-after-write lag.
   */
  private async runRoute(r: RoutedRequest): Promise<Outcome> {
    const { req, route, params, op, auth } = r;
    const config = this.ctx.config();
    const method = req.method.toUpperCase();
    const isWrite = method !== "GET";
    authorize(route, isWrite, auth, config);
    const target = params.user === undefined ? undefined : this.ctx.store.findUser(params.user);
    const targetIsAdmin = target !== undefined && this.ctx.store.holdsAdminRole(target);
    requireDelegatedRole(route, isWrite, auth, targetIsAdmin, config);
    requireManageable(route, isWrite, target, config);
    requireLicence(route, this.ctx.store, config);
    this.reportLicence.check(op.kind, req, config, this.prng);
    const quotaHeaders = this.quota.admit({
      family: route.family,
      kind: op.kind,
      method,
      query: req.query,
      appId: auth.appId,
    });
    const lagMs = config.readAfterWriteLagMs * config.timeScale;
    const lagged = isWrite && route.family === "phone" && lagMs > 0 ? target : undefined;
    const before = lagged && this.readLag.before(lagged);
    const asRead = isWrite
      ? (u: UserRec) => u
      : (u: UserRec) => (lagMs > 0 ? this.readLag.visible(u, lagMs) : u);
    return this.runWithFaultsAndLatency(op.kind, isWrite, r.inBatch, r.ids, async () => {
      const answered = await op.handle(this.handlerContext(r.root, asRead), req, params);
      if (lagged && before && answered.write) {
        this.readLag.recordWrite(lagged, before, lagMs);
      }
      Object.assign(answered.response.headers, quotaHeaders, idHeaders(r.ids));
      return answered;
    });
  }

  /**
   * Draws a fault, runs the handler (unless the fault comes first) and waits out the latency.
   * With `faultAfterWrite`, a write is applied and then answered with the fault.
   */
  private async runWithFaultsAndLatency(
    kind: RouteKind,
    isWrite: boolean,
    inBatch: boolean,
    ids: RequestIds,
    run: () => Outcome | Promise<Outcome>,
  ): Promise<Outcome> {
    const config = this.ctx.config();
    const fault = drawFault(this.prng, config, inBatch);
    if (fault && !(config.faultAfterWrite && isWrite)) {
      return {
        response: faultResponse(fault, config, ids.requestId, ids.clientRequestId),
        write: false,
      };
    }
    const latencyMs = routeLatencyMs(this.prng, kind, config);
    const started = Date.now();
    const outcome = await run();
    // Latency is applied after the state change so that concurrent readers see it as Graph would.
    await sleep(latencyMs - (Date.now() - started));
    if (fault) {
      const response = faultResponse(fault, config, ids.requestId, ids.clientRequestId);
      return { response, write: outcome.write };
    }
    return outcome;
  }

  private servicePrincipalsAnswer(
    req: GraphRequest,
    path: string[],
    auth: TokenClaims,
    root: string,
    ids: RequestIds,
  ): Outcome {
    this.servicePrincipals.ensureApplication(auth.appId);
    const method = req.method.toUpperCase();
    const response = this.servicePrincipals.handle(
      method,
      path,
      req.query,
      req.body,
      auth.roles,
      root,
    );
    Object.assign(response.headers, idHeaders(ids));
    return { response, write: false };
  }

  private handlerContext(root: string, asRead: (u: UserRec) => UserRec): HandlerContext {
    return {
      store: this.ctx.store,
      config: this.ctx.config(),
      root,
      usersDelta: this.usersDelta,
      memberLists: this.memberLists,
      asRead,
    };
  }
}

function idsOf(req: GraphRequest): RequestIds {
  return { requestId: newRequestId(), clientRequestId: req.headers["client-request-id"] };
}

function idHeaders(ids: RequestIds): Record<string, string> {
  return { "request-id": ids.requestId, "client-request-id": ids.clientRequestId ?? ids.requestId };
}

/** A thrown Graph error as its answer; anything else is the emulator's own bug, a 500. */
function errorAnswer(e: unknown, ids: RequestIds): GraphResponse {
  if (e instanceof GraphHttpError) {
    return errorResponse(
      e.status,
      e.code,
      e.message,
      ids.requestId,
      ids.clientRequestId,
      e.headers,
    );
  }
  const message = e instanceof Error ? e.message : String(e);
  return errorResponse(
    500,
    "UnknownError",
    `GraphEmulator: internal error: ${message}`,
    ids.requestId,
    ids.clientRequestId,
  );
}
