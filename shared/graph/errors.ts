/**
 * Graph errors as typed values. Callers branch on `kind` (what to do) and `code` (Graph's own
 * error code), never on the message.
 */

/** Name of {@link GraphRequestError}. */
export const GraphRequestErrorName = "GraphRequestError";

/**
 * What a caller should do with a failed request:
 * - `transient`: retry later (throttling, 5xx, network, timeout; retries already exhausted here);
 * - `perUser`: this request for this user cannot succeed as sent; record it and go on;
 * - `fatal`: no request of this kind can succeed (missing permission, no licence, bad query, no
 *   token): stop the run and tell the administrator what to fix.
 */
export type GraphErrorKind = "transient" | "perUser" | "fatal";

/** What is known of one failed Graph request. */
export interface GraphErrorDetails {
  /** HTTP status, or 0 when no response arrived (network error, timeout). */
  status: number;
  /** Graph's `error.code` (e.g. `accessDenied`), or a local code such as `networkError`. */
  code: string;
  /** Graph's message; never contains a phone number we sent (Graph does not echo bodies). */
  graphMessage?: string;
  requestId?: string;
  clientRequestId?: string;
  /** How long Graph asked us to wait, in milliseconds, when it said. */
  retryAfterMs?: number;
  method?: string;
  /** The request path without the query string and without user identifiers. */
  route?: string;
}

/**
 * A failed Graph request: Graph's `code`, the HTTP status, the `request-id`, and a
 * classification into {@link GraphErrorKind}.
 */
export class GraphRequestError extends Error {
  readonly status: number;
  readonly code: string;
  readonly kind: GraphErrorKind;
  readonly requestId?: string;
  readonly clientRequestId?: string;
  readonly retryAfterMs?: number;
  readonly route?: string;
  readonly graphMessage?: string;

  constructor(details: GraphErrorDetails, options?: { cause?: unknown }) {
    super(describeGraphError(details), options);
    this.name = GraphRequestErrorName;
    this.status = details.status;
    this.code = details.code;
    this.kind = classifyGraphError(details);
    this.requestId = details.requestId;
    this.clientRequestId = details.clientRequestId;
    this.retryAfterMs = details.retryAfterMs;
    this.route = details.route;
    this.graphMessage = details.graphMessage;
  }
}

/**
 * Why a permission just granted may not help yet: a managed identity's token is cached by the
 * platform and carries the roles it had when it was issued.
 */
const TOKEN_ROLES_LAG =
  " A managed identity's token carries the roles it had when it was issued, and the platform keeps it for up to 24 hours: a permission granted since can take that long to reach it.";

/**
 * Graph kept failing (5xx, timeouts, lost connections) long enough that writing on would only add
 * to the load: the caller pauses and tries again later. `uncertain` lists the users whose last
 * write may have been applied, so the next attempt reads before it writes.
 */
export class GraphUnavailableError extends Error {
  constructor(
    message: string,
    readonly uncertain: string[],
  ) {
    super(message);
    this.name = "GraphUnavailableError";
  }
}

/** Graph error codes that mean the tenant lacks the licence for the registration report. */
const LICENCE_CODES = new Set(["Authentication_RequestFromNonPremiumTenantOrB2CTenant"]);

/**
 * Whether a Graph error code says the tenant lacks the registration report's licence.
 *
 * @param code - Graph's `error.code`.
 */
export function isLicenceCode(code: string): boolean {
  return LICENCE_CODES.has(code);
}

/**
 * Sorts a failure into transient, per user, or fatal.
 *
 * @param details - status, code and route of the failure.
 */
export function classifyGraphError(
  details: Pick<GraphErrorDetails, "status" | "code" | "route">,
): GraphErrorKind {
  const { status, code } = details;
  if (status === 0 || status === 408 || status === 429 || status >= 500) {
    return "transient";
  }
  if (status === 401 || status === 403 || LICENCE_CODES.has(code)) {
    return "fatal";
  }
  if (isPerUserRoute(details.route)) {
    return "perUser";
  }
  // A 4xx on a listing (users, groups, report, batch envelope) means our query is wrong for this
  // Graph: retrying it or moving on to the next user cannot help.
  return "fatal";
}

/** True when the route addresses one user (`/users/{id}/...` or `/users/{id}`). */
function isPerUserRoute(route: string | undefined): boolean {
  return route !== undefined && /^\/users\/\{id\}/.test(route);
}

/**
 * The Graph application permission a route needs, for error messages.
 *
 * @param route - a route as produced by {@link routeOf}.
 */
export function permissionForRoute(route: string | undefined): string | undefined {
  if (route === undefined) {
    return undefined;
  }
  if (route.includes("/authentication/")) {
    return "UserAuthenticationMethod.ReadWrite.All";
  }
  if (route.startsWith("/reports/") || route.startsWith("/auditLogs/")) {
    return "AuditLog.Read.All";
  }
  if (route.startsWith("/roleManagement/")) {
    return "RoleManagement.Read.Directory";
  }
  if (route.startsWith("/domains")) {
    return "Domain.Read.All";
  }
  if (route.startsWith("/policies/authenticationMethodsPolicy")) {
    return "Policy.Read.AuthenticationMethod";
  }
  if (route.startsWith("/groups")) {
    return "GroupMember.Read.All";
  }
  if (route.startsWith("/users")) {
    return "User.Read.All";
  }
  return undefined;
}

function describeGraphError(d: GraphErrorDetails): string {
  const what = `${d.method ?? "Request"} ${d.route ?? "(unknown route)"}`;
  const ids = [
    d.requestId ? `request-id '${d.requestId}'` : "",
    d.clientRequestId ? `client-request-id '${d.clientRequestId}'` : "",
  ]
    .filter((s) => s !== "")
    .join(", ");
  const tail = ids === "" ? "" : ` (${ids})`;
  if (LICENCE_CODES.has(d.code)) {
    return `GraphClient: ${what} was refused because the tenant has no Microsoft Entra ID P1 or P2 licence, which the authentication methods registration report requires${tail}.`;
  }
  if (d.status === 403) {
    const permission = permissionForRoute(d.route);
    const fix = permission
      ? ` Grant the application permission '${permission}' to the app's identity and grant admin consent.`
      : " Check the app's Microsoft Graph application permissions.";
    return `GraphClient: ${what} was denied with 403 '${d.code}'${tail}.${fix}${TOKEN_ROLES_LAG}`;
  }
  if (d.status === 401) {
    return `GraphClient: ${what} was rejected with 401 '${d.code}' even after a fresh token; check the credential settings (GRAPH_AUTH, AZURE_TENANT_ID, AZURE_CLIENT_ID)${tail}.`;
  }
  if (d.status === 0) {
    return `GraphClient: ${what} got no response ('${d.code}')${tail}.`;
  }
  const message = d.graphMessage ? `: ${d.graphMessage.replace(/\.$/, "")}` : "";
  return `GraphClient: ${what} failed with ${d.status} '${d.code}'${message}${tail}.`;
}

/**
 * The route of a Graph URL or path, with ids replaced by `{id}` and without the version and
 * query, so it is safe for logs and stable for metrics.
 *
 * @param pathOrUrl - a relative path (`/users/abc/authentication/phoneMethods`) or a full URL.
 */
export function routeOf(pathOrUrl: string): string {
  let path = pathOrUrl;
  const schemeEnd = path.indexOf("://");
  if (schemeEnd !== -1) {
    const slash = path.indexOf("/", schemeEnd + 3);
    path = slash === -1 ? "/" : path.slice(slash);
  }
  path = path.split("?")[0] ?? path;
  path = path.replace(/^\/(v1\.0|beta)(?=\/|$)/, "");
  const segments = path.split("/");
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] ?? "";
    const previous = segments[i - 1];
    const isIdSlot =
      previous === "users" ||
      previous === "groups" ||
      previous === "phoneMethods" ||
      previous === "emailMethods" ||
      previous === "methods" ||
      previous === "userRegistrationDetails";
    out.push(
      isIdSlot &&
        segment !== "" &&
        !segment.startsWith("$") &&
        !segment.startsWith("microsoft.graph.")
        ? "{id}"
        : segment,
    );
  }
  return out.join("/") || "/";
}
