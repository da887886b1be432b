/**
 * The route table: every Graph path the emulator serves (after the version), the operation each
 * HTTP method runs there, the role a caller needs and the quota family it counts against.
 * `/$batch` (handlers/batch.ts) and `/servicePrincipals` (handlers/servicePrincipals.ts, a
 * deploy-time API outside quotas and faults) are answered before this table is consulted.
 */
import type { EmulatorConfig, RouteKind } from "./config.js";
import { GraphHttpError } from "./response.js";
import type { Handler, RouteParams } from "./handlers/context.js";
import { listDirectoryAudits } from "./handlers/audit.js";
import { listAuthMethods } from "./handlers/authMethods.js";
import { getDomain, listDomains } from "./handlers/domains.js";
import {
  getMethodConfiguration,
  getMethodsPolicy,
  listMethodConfigurations,
} from "./handlers/methodsPolicy.js";
import {
  createEmail,
  deleteEmail,
  getEmail,
  listEmails,
  updateEmail,
} from "./handlers/emailMethods.js";
import { getGroup, listGroups, transitiveMembers } from "./handlers/groups.js";
import {
  createPhone,
  deletePhone,
  getPhone,
  listPhones,
  updatePhone,
} from "./handlers/phoneMethods.js";
import { getReportRow, listReport } from "./handlers/report.js";
import { listRoleAssignments, listRoleEligibilities } from "./handlers/roles.js";
import { countUsers, getUser, listUsers, usersDelta } from "./handlers/users.js";

/** Which application roles a route needs (see policies/auth.ts). */
export type Role =
  | "user"
  | "group"
  | "report"
  | "phoneRead"
  | "phoneWrite"
  | "roleAssignmentRead"
  | "roleEligibilityRead"
  | "audit"
  | "directoryRead"
  | "authMethodRead"
  | "authMethodWrite"
  | "domainRead"
  | "policyRead";

/**
 * Which Graph service a route belongs to: it decides the 403 shape and the quota
 * (policies/auth.ts, policies/quota.ts).
 */
export type RouteFamily = "directory" | "reports" | "phone";

/** What one HTTP method does on a route. */
export interface Operation {
  /** Name in metrics, latency config and quota costs. */
  kind: RouteKind;
  handle: Handler;
}

/** One row of the route table. */
export interface RouteDef {
  /**
   * Segments after the version; `{name}` captures one segment. Literals match in any case, except
   * `$count` and the `delta` function, which match only as written.
   */
  path: string;
  /** Operations by HTTP method; the first one names the route when a method is refused. */
  ops: Readonly<Record<string, Operation>>;
  /** Role a caller needs (phone-method writes need `phoneWrite`, see policies/auth.ts). */
  role: Role;
  /** Role a write needs instead, when it is not the family's (policies/auth.ts). */
  writeRole?: Role;
  family: RouteFamily;
  /**
   * A licence the tenant needs (policies/auth.ts): `premium` (Entra ID P1/P2) or `pim` (P2, for
   * Privileged Identity Management).
   */
  licence?: "premium" | "pim";
  /** A second role the caller needs as well, when the config says so. */
  alsoNeeds?: { role: Role; when: (config: EmulatorConfig) => boolean };
}

/** The handlers of one kind of authentication method (phone, email). */
interface MethodHandlers {
  list: Handler;
  create: Handler;
  get: Handler;
  update: Handler;
  delete: Handler;
}

const PHONE_METHODS: MethodHandlers = {
  list: listPhones,
  create: createPhone,
  get: getPhone,
  update: updatePhone,
  delete: deletePhone,
};

const EMAIL_METHODS: MethodHandlers = {
  list: listEmails,
  create: createEmail,
  get: getEmail,
  update: updateEmail,
  delete: deleteEmail,
};

/**
 * The two rows of a user's authentication methods of one kind, as Graph shapes every such
 * resource: the collection (list, create) and one method by id (get, update, delete).
 *
 * @param resource - the path segment, which also names the route kinds
 * @param handlers - what each operation runs
 * @param access - the roles and family of both rows
 */
function methodRoutes(
  resource: "phoneMethods" | "emailMethods",
  handlers: MethodHandlers,
  access: Pick<RouteDef, "role" | "writeRole" | "family">,
): RouteDef[] {
  const collection = `users/{user}/authentication/${resource}`;
  return [
    {
      path: collection,
      ops: {
        GET: { kind: `${resource}.list`, handle: handlers.list },
        POST: { kind: `${resource}.create`, handle: handlers.create },
      },
      ...access,
    },
    {
      path: `${collection}/{method}`,
      ops: {
        GET: { kind: `${resource}.get`, handle: handlers.get },
        PATCH: { kind: `${resource}.update`, handle: handlers.update },
        DELETE: { kind: `${resource}.delete`, handle: handlers.delete },
      },
      ...access,
    },
  ];
}

/** The table; the first row whose path matches wins, so literals come before `{params}`. */
export const ROUTES: readonly RouteDef[] = [
  {
    path: "users",
    ops: { GET: { kind: "users.list", handle: listUsers } },
    role: "user",
    family: "directory",
  },
  {
    path: "users/$count",
    ops: { GET: { kind: "users.list", handle: countUsers } },
    role: "user",
    family: "directory",
  },
  {
    path: "users/delta",
    ops: { GET: { kind: "users.delta", handle: usersDelta } },
    role: "user",
    family: "directory",
  },
  {
    path: "users/delta()",
    ops: { GET: { kind: "users.delta", handle: usersDelta } },
    role: "user",
    family: "directory",
  },
  {
    path: "users/{user}",
    ops: { GET: { kind: "users.get", handle: getUser } },
    role: "user",
    family: "directory",
  },
  {
    path: "users/{user}/authentication/methods",
    ops: { GET: { kind: "authMethods.list", handle: listAuthMethods } },
    role: "phoneRead",
    family: "phone",
  },
  ...methodRoutes("phoneMethods", PHONE_METHODS, { role: "phoneRead", family: "phone" }),
  ...methodRoutes("emailMethods", EMAIL_METHODS, {
    role: "authMethodRead",
    writeRole: "authMethodWrite",
    family: "phone",
  }),
  {
    path: "groups",
    ops: { GET: { kind: "groups.list", handle: listGroups } },
    role: "group",
    family: "directory",
  },
  {
    path: "groups/{group}",
    ops: { GET: { kind: "groups.get", handle: getGroup } },
    role: "group",
    family: "directory",
  },
  {
    path: "groups/{group}/transitiveMembers",
    ops: { GET: { kind: "groups.transitiveMembers", handle: transitiveMembers } },
    role: "group",
    family: "directory",
  },
  {
    path: "groups/{group}/transitiveMembers/{cast}",
    ops: { GET: { kind: "groups.transitiveMembers", handle: transitiveMembers } },
    role: "group",
    family: "directory",
  },
  {
    path: "reports/authenticationMethods/userRegistrationDetails",
    ops: { GET: { kind: "report.list", handle: listReport } },
    role: "report",
    family: "reports",
    licence: "premium",
  },
  {
    path: "reports/authenticationMethods/userRegistrationDetails/{user}",
    ops: { GET: { kind: "report.get", handle: getReportRow } },
    role: "report",
    family: "reports",
    licence: "premium",
  },
  {
    path: "auditLogs/directoryAudits",
    ops: { GET: { kind: "auditLogs.directoryAudits", handle: listDirectoryAudits } },
    role: "audit",
    family: "reports",
    alsoNeeds: { role: "directoryRead", when: (c) => c.directoryAuditsNeedDirectoryRead },
  },
  {
    path: "domains",
    ops: { GET: { kind: "domains.list", handle: listDomains } },
    role: "domainRead",
    family: "directory",
  },
  {
    path: "domains/{domain}",
    ops: { GET: { kind: "domains.get", handle: getDomain } },
    role: "domainRead",
    family: "directory",
  },
  {
    path: "policies/authenticationMethodsPolicy",
    ops: { GET: { kind: "methodsPolicy.get", handle: getMethodsPolicy } },
    role: "policyRead",
    family: "directory",
  },
  {
    path: "policies/authenticationMethodsPolicy/authenticationMethodConfigurations",
    ops: { GET: { kind: "methodsPolicy.get", handle: listMethodConfigurations } },
    role: "policyRead",
    family: "directory",
  },
  {
    path: "policies/authenticationMethodsPolicy/authenticationMethodConfigurations/{configuration}",
    ops: { GET: { kind: "methodsPolicy.get", handle: getMethodConfiguration } },
    role: "policyRead",
    family: "directory",
  },
  {
    path: "roleManagement/directory/roleAssignments",
    ops: { GET: { kind: "roleAssignments.list", handle: listRoleAssignments } },
    role: "roleAssignmentRead",
    family: "directory",
  },
  {
    path: "roleManagement/directory/roleEligibilityScheduleInstances",
    ops: { GET: { kind: "roleEligibilities.list", handle: listRoleEligibilities } },
    role: "roleEligibilityRead",
    family: "directory",
    licence: "pim",
  },
];

/** A matched route with its captured path parameters. */
export interface RouteMatch {
  route: RouteDef;
  params: RouteParams;
}

const EXACT_LITERALS = new Set(["$count", "delta", "delta()"]);

const COMPILED = ROUTES.map((route) => ({ route, segs: route.path.split("/") }));

/**
 * How many leading segments a route's path accepts.
 *
 * @param pattern - the route's path segments
 * @param segs - the request's segments after the version
 * @param params - filled with the captured parameters
 */
function acceptedPrefix(pattern: string[], segs: string[], params: Record<string, string>): number {
  let i = 0;
  for (; i < pattern.length && i < segs.length; i++) {
    const p = pattern[i] as string;
    const s = segs[i] as string;
    if (p.startsWith("{")) {
      params[p.slice(1, -1)] = s;
    } else if (EXACT_LITERALS.has(p) ? s !== p : s.toLowerCase() !== p.toLowerCase()) {
      break;
    }
  }
  return i;
}

/**
 * Finds the route of a path.
 *
 * @param segs - decoded segments after the version
 * @returns the route and its parameters; throws Graph's 400 naming the first segment no route
 *   accepts (the last one when the path stops short of every route)
 */
export function matchRoute(segs: string[]): RouteMatch {
  if (segs[0]?.toLowerCase() === "me") {
    throw new GraphHttpError(
      400,
      "BadRequest",
      "/me request is only valid with delegated authentication flow.",
    );
  }
  let deepest = 0;
  for (const { route, segs: pattern } of COMPILED) {
    const params: Record<string, string> = {};
    const n = acceptedPrefix(pattern, segs, params);
    if (n === segs.length && n === pattern.length) {
      return { route, params };
    }
    deepest = Math.max(deepest, n);
  }
  const segment = deepest < segs.length ? segs[deepest] : segs[segs.length - 1];
  throw new GraphHttpError(
    400,
    "BadRequest",
    `Resource not found for the segment '${segment ?? ""}'.`,
  );
}

/**
 * The operation an HTTP method runs on a route.
 *
 * @param route - the matched route
 * @param method - HTTP method, upper case
 * @returns the operation; throws 405 with `Allow` for a method the route does not serve
 */
export function operationOf(route: RouteDef, method: string): Operation {
  const op = Object.hasOwn(route.ops, method) ? route.ops[method] : undefined;
  if (!op) {
    throw new GraphHttpError(
      405,
      "Request_BadRequest",
      "Specified HTTP method is not allowed for the request target.",
      { Allow: Object.keys(route.ops).join(", ") },
    );
  }
  return op;
}

/**
 * The kind a route is counted under when its method is refused (its first operation's).
 *
 * @param route - the matched route
 */
export function routeKind(route: RouteDef): RouteKind {
  return (Object.values(route.ops)[0] as Operation).kind;
}

/**
 * Whether a path belongs to the `/servicePrincipals` API.
 *
 * @param segs - decoded segments after the version
 */
export function isServicePrincipalsPath(segs: string[]): boolean {
  return segs[0]?.toLowerCase() === "serviceprincipals";
}
