/**
 * Who may call what: bearer-token validation (401 `InvalidAuthenticationToken` with
 * `WWW-Authenticate`, also on `$batch` items), permission checks (application roles, or delegated
 * scopes and the signed-in user's directory roles) with the 403 shape each API family answers,
 * the per-user restriction, and the licence checks (P1/P2 for the registration report, P2 for
 * PIM).
 */
import type { EmulatorConfig } from "../config.js";
import type { RouteFamily, Role } from "../routes.js";
import { GraphHttpError, configuredError } from "../response.js";
import type { TenantStore, UserRec } from "../store.js";
import { isExpired, type TokenAuthority, type TokenClaims } from "../tokens.js";
import { delegatedRolesNeeded } from "./delegatedRoles.js";
import type { Prng } from "./random.js";

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

/**
 * Delegated scopes (`scp`) that grant each role of the route table: the application roles' names,
 * and for directory reads also `Directory.AccessAsUser.All`, which the authentication-methods
 * APIs do not accept.
 */
const SCOPE_SETS: Record<Role, string[]> = {
  ...ROLE_SETS,
  user: [...ROLE_SETS.user, "Directory.AccessAsUser.All"],
  group: [...ROLE_SETS.group, "Directory.AccessAsUser.All"],
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
 * @param expiryGraceMs - how long after its expiry the token still passes (a `$batch` envelope's
 *   skew tolerance, see `batchEnvelopeTokenSkewSeconds`)
 * @returns the token's claims, or the 401 to answer
 */
export function authenticate(
  tokens: TokenAuthority,
  authorization: string | undefined,
  expiryGraceMs = 0,
): TokenClaims | GraphHttpError {
  const m = /^Bearer\s+(.+)$/i.exec((authorization ?? "").trim());
  const result = tokens.verify(m ? m[1] : undefined, expiryGraceMs);
  if (typeof result !== "string") {
    return result;
  }
  return unauthorized(result);
}

function unauthorized(reason: keyof typeof TOKEN_MESSAGES): GraphHttpError {
  return new GraphHttpError(401, "InvalidAuthenticationToken", TOKEN_MESSAGES[reason], {
    "WWW-Authenticate": WWW_AUTHENTICATE,
  });
}

/**
 * Throws the 401 a `$batch` item answers although its envelope was accepted: at the configured
 * `batchItem401Rate`, and, in the skew-tolerance mode (`batchEnvelopeTokenSkewSeconds` > 0), when
 * the token has expired by the time the item runs. Without that mode items trust the envelope.
 *
 * @param claims - the envelope's claims
 * @param prng - the fault-and-latency PRNG (not drawn from when the rate is 0)
 * @param config - `batchItem401Rate` and `batchEnvelopeTokenSkewSeconds`
 */
export function checkBatchItemToken(claims: TokenClaims, prng: Prng, config: EmulatorConfig): void {
  if (config.batchEnvelopeTokenSkewSeconds > 0 && isExpired(claims)) {
    throw unauthorized("expired");
  }
  if (config.batchItem401Rate > 0 && prng.next() < config.batchItem401Rate) {
    throw unauthorized("expired");
  }
}

/**
 * Throws the family's 403 when the caller's token does not allow the request: writes need the
 * route's write permission (phone-family writes `phoneWrite` unless the route names another),
 * reads the route's read permission, and some routes a second permission too; an app-only token
 * needs each among its `roles`, a delegated one among its scopes (`scp`, any case).
 *
 * @param route - the route's roles and family
 * @param isWrite - whether the method changes state
 * @param claims - the caller's token
 * @param config - the current config (it decides whether a route's second permission is needed)
 */
export function authorize(
  route: {
    role: Role;
    writeRole?: Role;
    family: RouteFamily;
    alsoNeeds?: { role: Role; when: (config: EmulatorConfig) => boolean };
  },
  isWrite: boolean,
  claims: TokenClaims,
  config: EmulatorConfig,
): void {
  const familyWrite: Role = route.family === "phone" ? "phoneWrite" : route.role;
  const role: Role = isWrite ? (route.writeRole ?? familyWrite) : route.role;
  const needed = [role];
  if (route.alsoNeeds?.when(config)) {
    needed.push(route.alsoNeeds.role);
  }
  const scopes = claims.delegated?.scopes.map((sc) => sc.toLowerCase());
  for (const r of needed) {
    const granted = scopes
      ? SCOPE_SETS[r].some((p) => scopes.includes(p.toLowerCase()))
      : ROLE_SETS[r].some((p) => claims.roles.includes(p));
    if (!granted) {
      throw refused(route.family, ROLE_SETS[r][0] as string);
    }
  }
}

/**
 * Throws the family's 403 when a delegated call's signed-in user holds none of the directory roles
 * Graph asks for it (policies/delegatedRoles.ts); app-only calls and directory reads pass.
 *
 * @param route - the route's read role and family
 * @param isWrite - whether the method changes state
 * @param claims - the caller's token (its `wids`)
 * @param targetIsAdmin - whether the user the path names is an administrator (see
 *   `TenantStore.holdsAdminRole`): writing an admin's methods needs a privileged role
 * @param config - `delegatedRoleCheck`
 */
export function requireDelegatedRole(
  route: { role: Role; family: RouteFamily },
  isWrite: boolean,
  claims: TokenClaims,
  targetIsAdmin: boolean,
  config: EmulatorConfig,
): void {
  if (!claims.delegated || !config.delegatedRoleCheck) {
    return;
  }
  const needed = delegatedRolesNeeded(route.family, isWrite, targetIsAdmin);
  const wids = claims.delegated.wids.map((w) => w.toLowerCase());
  if (needed && !needed.some((id) => wids.includes(id))) {
    throw refused(route.family, ROLE_SETS[route.role][0] as string);
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
 * Throws the configured 403 when a request would change the authentication methods of a user in a
 * restricted management administrative unit: Graph's application permissions (and tenant-wide
 * roles) do not reach such users, so the refusal concerns that user alone.
 *
 * @param route - the route's family (authentication methods are the `phone` family)
 * @param isWrite - whether the method changes state
 * @param user - the user the path names, when it names one that exists
 * @param config - `restrictedManagementError`
 */
export function requireManageable(
  route: { family: RouteFamily },
  isWrite: boolean,
  user: UserRec | undefined,
  config: EmulatorConfig,
): void {
  if (route.family === "phone" && isWrite && user?.restrictedManagement) {
    throw configuredError(config.restrictedManagementError);
  }
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
    throw nonPremiumTenant();
  }
  if (route.licence === "pim" && !store.pim) {
    throw configuredError(config.pimLicenceError);
  }
}

/** The registration report's 403 for a tenant without a premium licence. */
export function nonPremiumTenant(): GraphHttpError {
  return new GraphHttpError(
    403,
    "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
    "Neither tenant is B2C or tenant doesn't have premium license",
  );
}
