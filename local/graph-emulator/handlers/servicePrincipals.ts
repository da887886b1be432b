/**
 * Service principals and app-role assignments: just enough of `/servicePrincipals` for the
 * deploy-time grant script (`infra/scripts/grantGraphRoles.ts`) to be tested offline.
 *
 * The directory holds Microsoft Graph's own service principal (with the application roles the
 * product and the grant script care about, under their documented ids) and one service principal
 * per application that has called the emulator. The emulator issues every token for one client
 * id, so "the managed identity" of a test is the emulator's own application; its object id is
 * derived from its client id ({@link servicePrincipalIdFor}).
 *
 * Not modelled: throttling and fault injection (these calls happen once per deployment, not per
 * run), the `(appId='...')` alternate key, `$select`/`$top`, and any `$filter` other than
 * `appId eq '...'` / `displayName eq '...'`.
 */
import { randomUUID } from "node:crypto";
import { GraphHttpError, ODATA_JSON, resourceNotFound, type GraphResponse } from "../response.js";
import { stableGuid } from "./context.js";

/** Client id (appId) of Microsoft Graph in every tenant. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/**
 * Application roles of Graph's service principal, by `value`, with their documented ids
 * (`concepts/includes/permissions-ids.md`), except `Policy.Read.AuthenticationMethod`, which the
 * copies of that list read here predate: its id is the one several independent public scripts
 * and tenant exports agree on.
 */
export const GRAPH_APP_ROLES: Readonly<Record<string, string>> = {
  "UserAuthenticationMethod.ReadWrite.All": "50483e42-d915-4231-9639-7fdb7fd190e5",
  "UserAuthenticationMethod.Read.All": "38d9df27-64da-44fd-b7c5-a6fbac20248f",
  "User.Read.All": "df021288-bdef-4463-88db-98f22de89214",
  "GroupMember.Read.All": "98830695-27a2-44f7-8c18-0c3ebc9698f6",
  "Group.Read.All": "5b567255-7703-4780-807c-7be8301ae99b",
  "AuditLog.Read.All": "b0afded3-3588-46d8-8b3d-9842eff778da",
  "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
  "AppRoleAssignment.ReadWrite.All": "06b708a9-e830-4db3-a914-8e69da51d44f",
  "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
  "RoleManagement.Read.Directory": "483bed4a-2ad3-4361-a73b-c83ccdbdc53c",
  "Domain.Read.All": "dbb9058a-0e50-45d7-ae91-66909b5d4664",
  "Policy.Read.AuthenticationMethod": "8e3bc81b-d2f3-4b7b-838c-32c88218d2f0",
};

/** Roles that allow reading service principals and their assignments. */
const READ_ROLES = [
  "Application.Read.All",
  "Application.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];
/** Roles that allow creating app-role assignments. */
const WRITE_ROLES = ["AppRoleAssignment.ReadWrite.All"];

interface AppRole {
  id: string;
  value: string;
  displayName: string;
  description: string;
  allowedMemberTypes: string[];
  isEnabled: boolean;
  origin: string;
}

interface ServicePrincipal {
  id: string;
  appId: string;
  displayName: string;
  servicePrincipalType: string;
  appRoles: AppRole[];
}

interface AppRoleAssignment {
  id: string;
  appRoleId: string;
  creationTimestamp: string;
  principalId: string;
  principalDisplayName: string;
  principalType: string;
  resourceId: string;
  resourceDisplayName: string;
}

/**
 * The object id the emulator gives the service principal of a client id.
 *
 * @param appId - the application's client id
 * @returns a stable GUID-shaped id
 */
export function servicePrincipalIdFor(appId: string): string {
  return stableGuid(`servicePrincipal|${appId}`);
}

function denied(): GraphHttpError {
  return new GraphHttpError(
    403,
    "Authorization_RequestDenied",
    "Insufficient privileges to complete the operation.",
  );
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): GraphResponse {
  return { status, headers: { "Content-Type": ODATA_JSON, ...headers }, body };
}

/** The service principals and app-role assignments of the emulated tenant. */
export class ServicePrincipalDirectory {
  private readonly principals = new Map<string, ServicePrincipal>();
  private readonly assignments: AppRoleAssignment[] = [];

  constructor() {
    this.add({
      id: servicePrincipalIdFor(GRAPH_APP_ID),
      appId: GRAPH_APP_ID,
      displayName: "Microsoft Graph",
      servicePrincipalType: "Application",
      appRoles: Object.entries(GRAPH_APP_ROLES).map(([value, id]) => ({
        id,
        value,
        displayName: value,
        description: `Emulated application role '${value}'.`,
        allowedMemberTypes: ["Application"],
        isEnabled: true,
        origin: "Application",
      })),
    });
  }

  private add(sp: ServicePrincipal): void {
    this.principals.set(sp.id, sp);
  }

  /**
   * Makes sure the calling application has a service principal (tokens name only the client id).
   *
   * @param appId - client id from the caller's token
   */
  ensureApplication(appId: string): void {
    const id = servicePrincipalIdFor(appId);
    if (!this.principals.has(id)) {
      this.add({
        id,
        appId,
        displayName: "mfa-prepopulate (emulated managed identity)",
        servicePrincipalType: "ManagedIdentity",
        appRoles: [],
      });
    }
  }

  /** Every app-role assignment, for tests and the admin view. */
  allAssignments(): AppRoleAssignment[] {
    return this.assignments.map((a) => ({ ...a }));
  }

  /**
   * Answers a request under `/servicePrincipals`.
   *
   * @param method - HTTP method, upper case
   * @param segs - decoded path segments after the version, starting with `servicePrincipals`
   * @param query - query string
   * @param body - parsed JSON body
   * @param roles - application roles of the caller's token
   * @param root - absolute Graph root with version, for `@odata.context`
   * @returns the answer, or throws a {@link GraphHttpError}
   */
  handle(
    method: string,
    segs: string[],
    query: URLSearchParams,
    body: unknown,
    roles: string[],
    root: string,
  ): GraphResponse {
    const [, rawId, nav, extra] = segs;
    if (extra !== undefined) {
      throw new GraphHttpError(400, "BadRequest", `Resource not found for the segment '${extra}'.`);
    }
    const allowed = (set: string[]): boolean => set.some((r) => roles.includes(r));
    if (!allowed(READ_ROLES)) {
      throw denied();
    }
    if (rawId === undefined) {
      this.onlyMethods(method, ["GET"]);
      return json(200, {
        "@odata.context": `${root}/$metadata#servicePrincipals`,
        value: this.filter(query.get("$filter")),
      });
    }
    const sp = this.resolve(rawId);
    if (nav === undefined) {
      this.onlyMethods(method, ["GET"]);
      return json(200, { "@odata.context": `${root}/$metadata#servicePrincipals/$entity`, ...sp });
    }
    const lowerNav = nav.toLowerCase();
    if (lowerNav !== "approleassignedto" && lowerNav !== "approleassignments") {
      throw new GraphHttpError(400, "BadRequest", `Resource not found for the segment '${nav}'.`);
    }
    const byResource = lowerNav === "approleassignedto";
    this.onlyMethods(method, ["GET", "POST"]);
    if (method === "GET") {
      return json(200, {
        "@odata.context": `${root}/$metadata#appRoleAssignments`,
        value: this.assignments
          .filter((a) => (byResource ? a.resourceId : a.principalId) === sp.id)
          .map((a) => ({ ...a })),
      });
    }
    if (!allowed(WRITE_ROLES)) {
      throw denied();
    }
    const created = this.assign(body, sp, byResource);
    const path = byResource ? "appRoleAssignedTo" : "appRoleAssignments";
    return json(
      201,
      { "@odata.context": `${root}/$metadata#appRoleAssignments/$entity`, ...created },
      { Location: `${root}/servicePrincipals/${sp.id}/${path}/${created.id}` },
    );
  }

  private onlyMethods(method: string, methods: string[]): void {
    if (!methods.includes(method)) {
      throw new GraphHttpError(
        405,
        "Request_BadRequest",
        "Specified HTTP method is not allowed for the request target.",
        { Allow: methods.join(", ") },
      );
    }
  }

  private resolve(rawId: string): ServicePrincipal {
    const sp = this.principals.get(rawId);
    if (!sp) {
      throw resourceNotFound(rawId);
    }
    return sp;
  }

  private filter(filter: string | null): ServicePrincipal[] {
    const all = [...this.principals.values()];
    if (filter === null) {
      return all;
    }
    const m = /^\s*(appId|displayName)\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
    if (!m) {
      throw new GraphHttpError(
        400,
        "Request_UnsupportedQuery",
        "GraphEmulator: only $filter=appId eq '...' or displayName eq '...' is supported on servicePrincipals.",
      );
    }
    const value = (m[2] ?? "").replace(/''/g, "'");
    const byAppId = (m[1] ?? "").toLowerCase() === "appid";
    return all.filter((p) => (byAppId ? p.appId === value : p.displayName === value));
  }

  private assign(body: unknown, sp: ServicePrincipal, byResource: boolean): AppRoleAssignment {
    const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const principalId = typeof b.principalId === "string" ? b.principalId : "";
    const resourceId = typeof b.resourceId === "string" ? b.resourceId : "";
    const appRoleId = typeof b.appRoleId === "string" ? b.appRoleId : "";
    if (!principalId || !resourceId || !appRoleId) {
      throw new GraphHttpError(
        400,
        "Request_BadRequest",
        "Invalid value specified for property 'principalId', 'resourceId' or 'appRoleId'.",
      );
    }
    // The path names one side of the assignment; the body must agree with it.
    if ((byResource ? resourceId : principalId) !== sp.id) {
      throw new GraphHttpError(
        400,
        "Request_BadRequest",
        "The service principal in the path does not match the assignment in the body.",
      );
    }
    const principal = this.principals.get(principalId);
    if (!principal) {
      throw resourceNotFound(principalId);
    }
    const resource = this.principals.get(resourceId);
    if (!resource) {
      throw resourceNotFound(resourceId);
    }
    if (!resource.appRoles.some((r) => r.id === appRoleId)) {
      throw new GraphHttpError(
        400,
        "Request_BadRequest",
        "Permission being assigned was not found on application",
      );
    }
    const duplicate = this.assignments.some(
      (a) =>
        a.principalId === principalId && a.resourceId === resourceId && a.appRoleId === appRoleId,
    );
    if (duplicate) {
      throw new GraphHttpError(
        400,
        "Request_BadRequest",
        "Permission being assigned already exists on the object",
      );
    }
    const assignment: AppRoleAssignment = {
      id: randomUUID(),
      appRoleId,
      creationTimestamp: new Date().toISOString(),
      principalId,
      principalDisplayName: principal.displayName,
      principalType: "ServicePrincipal",
      resourceId,
      resourceDisplayName: resource.displayName,
    };
    this.assignments.push(assignment);
    return { ...assignment };
  }
}
