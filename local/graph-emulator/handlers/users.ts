/**
 * `/users`: the list with paging and the advanced-query rules, `/users/$count`, one user, and the
 * thin entry to `/users/delta` (see delta.ts).
 */
import {
  USER_DEFAULT_PROPERTIES,
  USER_PROPERTIES,
  advancedParams,
  collectionPage,
  compileUserFilter,
  countMatching,
  parseSelect,
  parseTop,
  project,
  rejectSkip,
  selectContext,
  userObject,
} from "../queries.js";
import { GraphHttpError } from "../response.js";
import type { UserRec } from "../store.js";
import { findUserOr404, ok, type Handler } from "./context.js";

/** `GET /users`: `$top` 1-999, `$select`, `$filter` (advanced ones need eventual + `$count`). */
export const listUsers: Handler = (ctx, req) => {
  const q = req.query;
  rejectSkip(q);
  const top = parseTop(q.get("$top"), 100, 999);
  const select = parseSelect(q.get("$select"), USER_PROPERTIES, "microsoft.graph.user");
  const { eventual, count } = advancedParams(req);
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
  const props = select ?? USER_DEFAULT_PROPERTIES;
  return ok(
    collectionPage(ctx.store.users, {
      root: ctx.root,
      q,
      path: "users",
      context: `users${selectContext(select)}`,
      tokenKind: "users",
      top,
      match: predicate,
      count: count && eventual,
      toValue: (u) => project(userObject(u), props),
    }),
  );
};

/** `GET /users/$count`: plain-text count, only with `ConsistencyLevel: eventual`. */
export const countUsers: Handler = (ctx, req) => {
  const { eventual } = advancedParams(req);
  if (!eventual) {
    throw new GraphHttpError(400, "Request_BadRequest", "$count is not currently supported.");
  }
  const rawFilter = req.query.get("$filter");
  const predicate = rawFilter !== null ? compileUserFilter(rawFilter).predicate : () => true;
  return {
    response: {
      status: 200,
      headers: { "Content-Type": "text/plain" },
      body: countMatching(ctx.store.users, predicate),
    },
    write: false,
  };
};

/** `GET /users/{id or UPN}` with `$select`. */
export const getUser: Handler = (ctx, req, params) => {
  const u = findUserOr404(ctx, params.user ?? "");
  const select = parseSelect(req.query.get("$select"), USER_PROPERTIES, "microsoft.graph.user");
  return ok({
    "@odata.context": `${ctx.root}/$metadata#users${selectContext(select)}/$entity`,
    ...project(userObject(u), select ?? USER_DEFAULT_PROPERTIES),
  });
};

/** `GET /users/delta`: rounds of changes, answered by the change feed. */
export const usersDelta: Handler = (ctx, req) => ({
  response: ctx.usersDelta.handle(req.query, req.headers, ctx.root),
  write: false,
});
