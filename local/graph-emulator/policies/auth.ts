/**
 * Who may call what: bearer-token validation (401 `InvalidAuthenticationToken` with
 * `WWW-Authenticate`), application-role checks with the 403 shape each API family answers, and
 * the licence checks (P1/P2 for the registration report, P2 for PIM).
 */
import type { EmulatorConfig } from "../config.js";
import type { RouteFamily, Role } from "../routes.js";
import { GraphHttpError } from "../response.js";
import type { TenantStore } from "../store.js";
import type { TokenAuthority, TokenClaims } from "../tokens.js";

/** Application roles that grant each role of the route table (any one of them suffices). */
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
  // Methods other than phones: the phone-only roles do not reach them.
  authMethodRead: ["UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"],
  authMethodWrite: ["UserAuthenticationMethod.ReadWrite.All"],
  // The documented list of the authentication methods policy reads.
  policyRead: [
    "Policy.Read.AuthenticationMethod",
    "Policy.ReadWrite.AuthenticationMethod",
    "Policy.Read.All",
  ],
  domainRead: [
    "Domain.Read.All",
    "Domain.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
  ],
  // The documented lists of the two role-management reads (learn: rbacapplication-list-*).
  roleAssignmentRead: [
    "RoleManagement.Read.Directory",
    "RoleManagement.Read.All",
    "Directory.Read.All",
    "RoleManagement.ReadWrite.Directory",
    "Directory.ReadWrite.All",
  ],
  audit: ["AuditLog.Read.All"],
  directoryRead: ["Directory.Read.All", "Directory.ReadWrite.All"],
  roleEligibilityRead: [
    "RoleEligibilitySchedule.Read.Directory",
    "RoleEligibilitySchedule.ReadWrite.Directory",
    "RoleManagement.Read.All",
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
  ],
};

const WWW_AUTHENTICATE =
  'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"';

const TOKEN_MESSAGES = {
  missing: "Access token is empty.",
  malformed: "Access token validation failure. Invalid signature.",
  expired: "Lifetime validation failed, the token is expired.",
  revoked: "Access token has been revoked.",
} as const;

/**
 * Validates the bearer token of a request.
 *
 * @param tokens - the emulator's token authority
 * @param authorization - the `Authorization` header
 * @returns the token's claims, or the 401 to answer
 */
export function authenticate(
  tokens: TokenAuthority,
  authorization: string | undefined,
): TokenClaims | GraphHttpError {
  const m = /^Bearer\s+(.+)$/i.exec((authorization ?? "").trim());
  const result = tokens.verify(m ? m[1] : undefined);
  if (typeof result !== "string") {
    return result;
  }
  return new GraphHttpError(401, "InvalidAuthenticationToken", TOKEN_MESSAGES[result], {
    "WWW-Authenticate": WWW_AUTHENTICATE,
  });
}

/**
 * Throws the family's 403 when the caller's roles do not allow the request: phone-method writes
 * need a write role, everything else the route's read role, and some routes a second role too.
 *
 * @param route - the route's roles and family
 * @param isWrite - whether the method changes state
 * @param roles - application roles of the caller's token
 * @param config - the current config (it decides whether a route's second role is needed)
 */
export function authorize(
  route: {
    role: Role;
    writeRole?: Role;
    family: RouteFamily;
    alsoNeeds?: { role: Role; when: (config: EmulatorConfig) => boolean };
  },
  isWrite: boolean,
  roles: string[],
  config: EmulatorConfig,
): void {
  const familyWrite: Role = route.family === "phone" ? "phoneWrite" : route.role;
  const role: Role = isWrite ? (route.writeRole ?? familyWrite) : route.role;
  const needed = [role];
  if (route.alsoNeeds?.when(config)) {
    needed.push(route.alsoNeeds.role);
  }
  for (const r of needed) {
    if (!ROLE_SETS[r].some((granted) => roles.includes(granted))) {
      throw refused(route.family, ROLE_SETS[r][0] as string);
    }
  }
}

/** The 403 each family answers for a missing permission (the reports family names it). */
function refused(family: RouteFamily, permission: string): GraphHttpError {
  if (family === "phone") {
    return new GraphHttpError(403, "accessDenied", "Request Authorization failed");
  }
  if (family === "reports") {
    return new GraphHttpError(
      403,
      "Authentication_MSGraphPermissionMissing",
      `Calling principal does not have required MSGraph permissions ${permission}`,
    );
  }
  return new GraphHttpError(
    403,
    "Authorization_RequestDenied",
    "Insufficient privileges to complete the operation.",
  );
}

/**
 * Throws when the tenant lacks the licence a route needs: the documented 403 for the registration
 * report without P1/P2, the configured `pimLicenceError` for PIM without P2.
 *
 * @param route - the route's licence, if any
 * @param store - the tenant (its licences)
 * @param config - the current config
 */
export function requireLicence(
  route: { licence?: "premium" | "pim" },
  store: TenantStore,
  config: EmulatorConfig,
): void {
  if (route.licence === "premium" && !store.premium) {
    throw new GraphHttpError(
      403,
      "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
      "Neither tenant is B2C or tenant doesn't have premium license",
    );
  }
  if (route.licence === "pim" && !store.pim) {
    const e = config.pimLicenceError;
    throw new GraphHttpError(e.status, e.code, e.message);
  }
}
