/**
 * `/roleManagement/directory/roleAssignments` (active) and `.../roleEligibilityScheduleInstances`
 * (PIM-eligible): the grants of `roleGrants.ts` in their documented shapes, with `$select`,
 * `$filter` (`eq` on principalId, roleDefinitionId, directoryScopeId or id, combined with
 * `and`/`or`), `$expand=principal`, `$top` and next links. Group principals are not expanded into
 * their members: callers do that, as with Graph.
 */
import { FilterSyntaxError, compileFilter, parseFilter, type LeafNode } from "../odata.js";
import { collectionPage, parseSelect, parseTop, project, rejectSkip } from "../queries.js";
import { GraphHttpError } from "../response.js";
import type { RoleGrant } from "../roleGrants.js";
import type { TenantStore } from "../store.js";
import { ok, type Handler, type HandlerContext } from "./context.js";

const ASSIGNMENT_PATH = "roleManagement/directory/roleAssignments";
const ELIGIBILITY_PATH = "roleManagement/directory/roleEligibilityScheduleInstances";

// What an assignment and an eligibility both say: who holds which role where (tenant-wide here).
const GRANT_PROPERTIES = [
  "id",
  "principalId",
  "roleDefinitionId",
  "directoryScopeId",
  "appScopeId",
];

const ASSIGNMENT_PROPERTIES = [...GRANT_PROPERTIES, "condition", "resourceScope"];

const ELIGIBILITY_PROPERTIES = [
  ...GRANT_PROPERTIES,
  "startDateTime",
  "endDateTime",
  "memberType",
  "roleEligibilityScheduleId",
];

const FILTERABLE = ["id", "principalId", "roleDefinitionId", "directoryScopeId"] as const;

function unsupported(detail: string): GraphHttpError {
  return new GraphHttpError(400, "Request_UnsupportedQuery", `Invalid filter clause: ${detail}`);
}

function filterLeaf(leaf: LeafNode): (o: Record<string, unknown>) => boolean {
  const prop = FILTERABLE.find((p) => p.toLowerCase() === leaf.prop.toLowerCase());
  if (prop === undefined) {
    throw unsupported(`property '${leaf.prop}' is not filterable.`);
  }
  if (leaf.kind !== "cmp" || leaf.op !== "eq" || typeof leaf.value !== "string") {
    throw unsupported(`'${prop}' supports only eq with a string.`);
  }
  const v = leaf.value.toLowerCase();
  return (o) => String(o[prop]).toLowerCase() === v;
}

function compileGrantFilter(raw: string | null): (o: Record<string, unknown>) => boolean {
  if (raw === null) {
    return () => true;
  }
  try {
    return compileFilter(parseFilter(raw), filterLeaf);
  } catch (e) {
    if (e instanceof FilterSyntaxError) {
      throw new GraphHttpError(400, "BadRequest", `Invalid filter clause: ${e.message}`);
    }
    throw e;
  }
}

/** Whether `$expand=principal` was asked for; any other expansion is a 400. */
function expandsPrincipal(raw: string | null): boolean {
  if (raw === null) {
    return false;
  }
  if (raw.trim().toLowerCase() !== "principal") {
    throw new GraphHttpError(
      400,
      "BadRequest",
      `GraphEmulator: only $expand=principal is supported here, not '${raw}'.`,
    );
  }
  return true;
}

function principalObject(store: TenantStore, grant: RoleGrant): Record<string, unknown> {
  if (grant.principalType === "group") {
    const g = store.findGroup(grant.principalId);
    return {
      "@odata.type": "#microsoft.graph.group",
      id: grant.principalId,
      displayName: g?.displayName ?? null,
      isAssignableToRole: true,
    };
  }
  const u = store.findUser(grant.principalId);
  return {
    "@odata.type": "#microsoft.graph.user",
    id: grant.principalId,
    displayName: u?.displayName ?? null,
    userPrincipalName: u?.userPrincipalName ?? null,
    accountEnabled: u?.accountEnabled ?? null,
    userType: u?.userType ?? null,
  };
}

function grantObject(g: RoleGrant): Record<string, unknown> {
  return {
    id: g.id,
    principalId: g.principalId,
    roleDefinitionId: g.roleDefinitionId,
    directoryScopeId: "/",
    appScopeId: null,
  };
}

function assignmentObject(g: RoleGrant): Record<string, unknown> {
  return { ...grantObject(g), condition: null, resourceScope: "/" };
}

function eligibilityObject(g: RoleGrant): Record<string, unknown> {
  return {
    ...grantObject(g),
    startDateTime: g.startDateTime,
    endDateTime: null,
    memberType: "Direct",
    roleEligibilityScheduleId: g.id.replace(/-1-e$/, ""),
  };
}

/** Lists the grants of one kind with the shared query options. */
function listGrants(
  ctx: HandlerContext,
  q: URLSearchParams,
  eligible: boolean,
): Record<string, unknown> {
  rejectSkip(q);
  const path = eligible ? ELIGIBILITY_PATH : ASSIGNMENT_PATH;
  const props = eligible ? ELIGIBILITY_PROPERTIES : ASSIGNMENT_PROPERTIES;
  const toObject = eligible ? eligibilityObject : assignmentObject;
  const top = parseTop(q.get("$top"), 100, 999);
  const select = parseSelect(
    q.get("$select"),
    props,
    eligible ? "unifiedRoleEligibilityScheduleInstance" : "unifiedRoleAssignment",
  );
  const expand = expandsPrincipal(q.get("$expand"));
  const filter = compileGrantFilter(q.get("$filter"));
  const match = (g: RoleGrant): boolean => g.eligible === eligible && filter(toObject(g));
  const suffix = `${select ? `(${select.join(",")}` : ""}${expand ? `${select ? "," : "("}principal()` : ""}`;
  return collectionPage(ctx.store.roles.all(), {
    root: ctx.root,
    q,
    path,
    context: `${path}${suffix}${suffix ? ")" : ""}`,
    tokenKind: eligible ? "roleEligibility" : "roleAssignments",
    top,
    match,
    count: false,
    toValue: (g) => {
      const item = project(toObject(g), select ?? props);
      return expand ? { ...item, principal: principalObject(ctx.store, g) } : item;
    },
  });
}

/** `GET /roleManagement/directory/roleAssignments`: active assignments. */
export const listRoleAssignments: Handler = (ctx, req) => ok(listGrants(ctx, req.query, false));

/** `GET /roleManagement/directory/roleEligibilityScheduleInstances`: PIM-eligible roles. */
export const listRoleEligibilities: Handler = (ctx, req) => ok(listGrants(ctx, req.query, true));
