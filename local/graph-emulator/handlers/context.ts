/**
 * What every route handler gets and gives: the per-request context, the outcome type, and the
 * lookups and answers several handlers share.
 */
import { createHash } from "node:crypto";
import type { EmulatorConfig } from "../config.js";
import type { GraphRequest } from "../request.js";
import { ODATA_JSON, resourceNotFound, type GraphResponse } from "../response.js";
import type { TenantStore, UserRec } from "../store.js";
import type { UsersDelta } from "./delta.js";
import type { MemberLists } from "./memberLists.js";

/** The tenant and settings a handler works with, fixed for one request. */
export interface HandlerContext {
  store: TenantStore;
  /** The config as the request started. */
  config: EmulatorConfig;
  /** Absolute Graph root with the version, e.g. `https://127.0.0.1:1234/v1.0`. */
  root: string;
  /** The user change feed behind `/users/delta`. */
  usersDelta: UsersDelta;
  /** Transitive member lists per group and cast, built once. */
  memberLists: MemberLists;
  /**
   * The user as this request sees it: for reads, the methods before writes still within the
   * read-after-write lag (policies/readAfterWrite.ts); for writes, the store's record itself.
   */
  asRead: (u: UserRec) => UserRec;
}

/** A handler's answer and whether it changed state (for metrics and fault-after-write). */
export interface Outcome {
  response: GraphResponse;
  write: boolean;
}

/** Path parameters by the names in the route table, e.g. `user` of `users/{user}`. */
export type RouteParams = Readonly<Record<string, string>>;

/** Answers one route; throws a {@link GraphHttpError} for a Graph error answer. */
export type Handler = (
  ctx: HandlerContext,
  req: GraphRequest,
  params: RouteParams,
) => Outcome | Promise<Outcome>;

/**
 * A 200 with a JSON body that changed nothing.
 *
 * @param body - the OData payload
 */
export function ok(body: Record<string, unknown>): Outcome {
  return { response: { status: 200, headers: { "Content-Type": ODATA_JSON }, body }, write: false };
}

/**
 * The user with this id or UPN as the request sees it (see `asRead`), or the directory's 404.
 *
 * @param ctx - the handler context
 * @param idOrUpn - object id or user principal name
 */
export function findUserOr404(ctx: HandlerContext, idOrUpn: string): UserRec {
  const found = ctx.store.findUser(idOrUpn);
  const u = found && ctx.asRead(found);
  if (!u) {
    throw resourceNotFound(idOrUpn);
  }
  return u;
}

/**
 * Real milliseconds before a phone-method change shows in the registration report.
 *
 * @param config - `reportLagSeconds` and `timeScale`
 */
export function reportLagMs(config: EmulatorConfig): number {
  return config.reportLagSeconds * config.timeScale * 1000;
}

/**
 * A GUID derived from a string, the same on every run.
 *
 * @param seed - what the id stands for
 */
export function stableGuid(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
