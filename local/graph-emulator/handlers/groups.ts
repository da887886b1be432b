/**
 * `/groups` (list with `$filter` on displayName), `/groups/{id}` and
 * `/groups/{id}/transitiveMembers[/{cast}]` (users and nested groups, cast to one type, `$select`,
 * paging).
 */
import {
  GROUP_PROPERTIES,
  USER_DEFAULT_PROPERTIES,
  USER_PROPERTIES,
  advancedParams,
  collectionPage,
  compileGroupFilter,
  compileUserFilter,
  parseSelect,
  parseTop,
  project,
  rejectSkip,
  selectContext,
  userObject,
} from "../queries.js";
import { GraphHttpError, resourceNotFound } from "../response.js";
import type { GroupRec, TenantStore } from "../store.js";
import { ok, type Handler } from "./context.js";
import type { Member } from "./memberLists.js";

const USER_CAST = "microsoft.graph.user";
const GROUP_CAST = "microsoft.graph.group";

/** `GET /groups` with `$top`, `$select` and `$filter`. */
export const listGroups: Handler = (ctx, req) => {
  const q = req.query;
  rejectSkip(q);
  const top = parseTop(q.get("$top"), 100, 999);
  const select = parseSelect(q.get("$select"), GROUP_PROPERTIES, GROUP_CAST);
  const rawFilter = q.get("$filter");
  const predicate = rawFilter !== null ? compileGroupFilter(rawFilter) : () => true;
  return ok(
    collectionPage(ctx.store.groups, {
      root: ctx.root,
      q,
      path: "groups",
      context: `groups${selectContext(select)}`,
      tokenKind: "groups",
      top,
      match: predicate,
      count: false,
      toValue: (g) => project(groupObject(g), select ?? GROUP_PROPERTIES),
    }),
  );
};

/** `GET /groups/{id}` with `$select`; an id that is not a group's (a user's too) is a 404. */
export const getGroup: Handler = (ctx, req, params) => {
  const group = findGroupOr404(ctx.store, params.group ?? "");
  const select = parseSelect(req.query.get("$select"), GROUP_PROPERTIES, GROUP_CAST);
  return ok({
    "@odata.context": `${ctx.root}/$metadata#groups${selectContext(select)}/$entity`,
    ...project(groupObject(group), select ?? GROUP_PROPERTIES),
  });
};

function findGroupOr404(store: TenantStore, id: string): GroupRec {
  const group = store.findGroup(id);
  if (!group) {
    throw resourceNotFound(id);
  }
  return group;
}

/** `GET /groups/{id}/transitiveMembers[/{cast}]`. */
export const transitiveMembers: Handler = (ctx, req, params) => {
  const q = req.query;
  rejectSkip(q);
  const cast = params.cast ?? "";
  const castLower = checkCast(cast);
  const group = findGroupOr404(ctx.store, params.group ?? "");
  const top = parseTop(q.get("$top"), 100, 999);
  const { eventual, count } = advancedParams(req);
  // Advanced queries read an index that lags behind membership changes; plain reads do not.
  const lagMs = ctx.config.advancedQueryLagMs * ctx.config.timeScale;
  const asOfMs = (eventual || count) && lagMs > 0 ? Date.now() - lagMs : undefined;
  const list = ctx.memberLists.get(ctx.store, group, castLower, asOfMs);
  const isGroupCast = castLower === GROUP_CAST;
  const select = isGroupCast
    ? parseSelect(q.get("$select"), GROUP_PROPERTIES, GROUP_CAST)
    : parseSelect(q.get("$select"), USER_PROPERTIES, USER_CAST);
  const rawFilter = q.get("$filter");
  let predicate: (m: Member) => boolean = () => true;
  if (rawFilter !== null) {
    // Member pages only document filters as advanced queries; the header is accepted leniently.
    const f = compileUserFilter(rawFilter);
    predicate = (m) => (m.user ? f.predicate(m.user) : false);
  }
  const entitySet = cast === "" ? "directoryObjects" : isGroupCast ? "groups" : "users";
  return ok(
    collectionPage(list, {
      root: ctx.root,
      q,
      path: `groups/${encodeURIComponent(group.id)}/transitiveMembers${cast ? `/${cast}` : ""}`,
      context: `${entitySet}${selectContext(select)}`,
      tokenKind: `tm:${group.id}:${castLower}`,
      top,
      match: predicate,
      count: count && eventual,
      toValue: (m) => memberObject(m, select),
    }),
  );
};

/** Checks a cast segment ("" for none) and returns it lower-cased. */
function checkCast(cast: string): string {
  const castLower = cast.toLowerCase();
  if (cast !== "" && castLower !== USER_CAST && castLower !== GROUP_CAST) {
    throw new GraphHttpError(
      400,
      "Request_BadRequest",
      `The type '${cast}' is not a valid cast for the members of a group.`,
    );
  }
  return castLower;
}

function groupObject(g: GroupRec): Record<string, unknown> {
  return {
    id: g.id,
    displayName: g.displayName,
    description: null,
    mail: null,
    mailEnabled: false,
    securityEnabled: true,
    groupTypes: [],
    // Graph leaves the property null on groups created without it.
    isAssignableToRole: g.isAssignableToRole ? true : null,
  };
}

function memberObject(m: Member, select: string[] | undefined): Record<string, unknown> {
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
}
