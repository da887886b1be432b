/**
 * What a run asks of an administrator who signs in (delegated access, the CLI's `deviceCode` and
 * `interactive`): Graph lets a delegated call do only what both the client's scopes and the
 * signed-in account's directory roles allow. Here are the scopes to request, the roles to hold,
 * and the check of a signed-in token against both.
 *
 * Roles per call, from each API's permissions page on learn.microsoft.com (the least privileged
 * roles it names, and Global Administrator): `authentication-post-phonemethods` and
 * `authentication-list-phonemethods` (users' methods), `authenticationmethodsroot-list-
 * userregistrationdetails`, `directoryaudit-list`, `rbacapplication-list-roleassignments` and
 * `rbacapplication-list-roleeligibilityscheduleinstances`.
 */
import type { Settings } from "../settings/index.js";
import { GRAPH_PERMISSIONS, type GraphPermission } from "./permissions.js";

/** The built-in directory roles a run may need, by display name, with their template ids (`wids`). */
export const DIRECTORY_ROLES = {
  "Global Administrator": "62e90394-69f5-4237-9190-012177145e10",
  "Privileged Authentication Administrator": "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
  "Authentication Administrator": "c4e39bd9-1100-46d3-8c65-fb160da0071f",
  "Privileged Role Administrator": "e8611ab8-c189-46e8-94e1-60213ab1f814",
  "Global Reader": "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
  "Reports Reader": "4a5d8f65-41da-4de4-8968-e035b65339cf",
  "Security Reader": "5d6b6bb7-de71-4623-b4af-96380a352509",
  "Security Operator": "5f2222b1-57c3-48ba-8ad5-d4759f1fde6f",
  "Security Administrator": "194ae4cb-b126-40b2-bd5b-6091b380977d",
  "Directory Readers": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
  "Authentication Policy Administrator": "0526716b-113d-4c15-b2c8-68e3c22b9f80",
} as const;

/** A role of {@link DIRECTORY_ROLES}. */
export type DirectoryRole = keyof typeof DIRECTORY_ROLES;

/** The settings that decide what a run reads and writes. */
export type RunAccessSettings = Pick<
  Settings,
  "dryRun" | "replaceExisting" | "skipAdmins" | "numberSettleDays" | "methods"
>;

/**
 * The read-only scope for users' authentication methods. The app's managed identity holds the
 * read-write role, which covers reads; a signed-in administrator's dry run asks for this one alone,
 * so that a token that plans nothing more can write nothing.
 */
export const METHODS_READ_SCOPE = "UserAuthenticationMethod.Read.All";

/** The scope that writes users' authentication methods. */
export const METHODS_WRITE_SCOPE: GraphPermission = "UserAuthenticationMethod.ReadWrite.All";

/** A delegated scope a run may ask for: one of the product's permissions, or the read-only one. */
export type DelegatedScope = GraphPermission | typeof METHODS_READ_SCOPE;

/** Every delegated scope, in the order a sign-in names them (reads of methods before writes). */
const DELEGATED_SCOPES: readonly DelegatedScope[] = [METHODS_READ_SCOPE, ...GRAPH_PERMISSIONS];

/** One thing a run does with Graph, and what a signed-in account needs for it. */
export interface AccessNeed {
  /** What the run does, completing "to …". */
  purpose: string;
  scopes: readonly DelegatedScope[];
  /** Any one of these roles will do; least privileged first. Empty: no role needed. */
  roles: readonly DirectoryRole[];
}

const REPORT_READERS: readonly DirectoryRole[] = [
  "Reports Reader",
  "Security Reader",
  "Security Administrator",
  "Global Reader",
  "Global Administrator",
];

const METHOD_READERS: readonly DirectoryRole[] = [
  "Global Reader",
  "Authentication Administrator",
  "Privileged Authentication Administrator",
  "Global Administrator",
];

/** Every need, with the settings under which a run has it. */
const NEEDS: readonly (AccessNeed & { when: (s: RunAccessSettings) => boolean })[] = [
  { purpose: "read users", scopes: ["User.Read.All"], roles: [], when: () => true },
  {
    purpose: "read the members of the staging and exclusion groups",
    scopes: ["GroupMember.Read.All"],
    roles: [],
    when: () => true,
  },
  {
    purpose: "read the authentication methods registration report",
    scopes: ["AuditLog.Read.All"],
    roles: REPORT_READERS,
    when: () => true,
  },
  {
    purpose: "read the authentication methods policy (the pre-flight of every run)",
    scopes: ["Policy.Read.AuthenticationMethod"],
    roles: [
      "Security Reader",
      "Global Reader",
      "Authentication Policy Administrator",
      "Security Administrator",
      "Global Administrator",
    ],
    when: () => true,
  },
  {
    // Any member may read the tenant's domains; Graph asks no directory role of them.
    purpose: "read the tenant's verified domains (METHODS with email)",
    scopes: ["Domain.Read.All"],
    roles: [],
    when: (s) => s.methods.includes("email"),
  },
  {
    purpose: "read the directory audit log (NUMBER_SETTLE_DAYS)",
    scopes: ["AuditLog.Read.All", "Directory.Read.All"],
    roles: REPORT_READERS,
    when: (s) => s.numberSettleDays > 0,
  },
  {
    purpose: "read who holds directory roles (SKIP_ADMINS)",
    scopes: ["RoleManagement.Read.Directory"],
    roles: [
      "Directory Readers",
      "Global Reader",
      "Privileged Role Administrator",
      "Global Administrator",
    ],
    when: (s) => s.skipAdmins,
  },
  {
    purpose: "read who is eligible for directory roles in PIM (SKIP_ADMINS)",
    scopes: ["RoleManagement.Read.Directory"],
    roles: [
      "Security Reader",
      "Global Reader",
      "Security Operator",
      "Security Administrator",
      "Privileged Role Administrator",
      "Global Administrator",
    ],
    when: (s) => s.skipAdmins,
  },
  {
    purpose: "read users' phone methods (REPLACE_EXISTING)",
    // A dry run asks for reads alone; a run that writes reads with its write scope (next row).
    scopes: [METHODS_READ_SCOPE],
    roles: METHOD_READERS,
    when: (s) => s.dryRun && s.replaceExisting,
  },
  {
    purpose: "read users' phone methods (REPLACE_EXISTING)",
    scopes: [METHODS_WRITE_SCOPE],
    roles: METHOD_READERS,
    when: (s) => !s.dryRun && s.replaceExisting,
  },
  {
    purpose: "write phone methods of users who hold no admin role",
    scopes: [METHODS_WRITE_SCOPE],
    roles: [
      "Authentication Administrator",
      "Privileged Authentication Administrator",
      "Global Administrator",
    ],
    when: (s) => !s.dryRun && s.skipAdmins,
  },
  {
    purpose: "write phone methods of admins too (SKIP_ADMINS=false)",
    scopes: [METHODS_WRITE_SCOPE],
    roles: ["Privileged Authentication Administrator", "Global Administrator"],
    when: (s) => !s.dryRun && !s.skipAdmins,
  },
];

/**
 * What a run with these settings does with Graph.
 *
 * @param settings - the run's settings.
 */
export function runNeeds(settings: RunAccessSettings): AccessNeed[] {
  return NEEDS.filter((n) => n.when(settings)).map(({ purpose, scopes, roles }) => ({
    purpose,
    scopes,
    roles,
  }));
}

/**
 * The delegated scopes a run asks for: exactly those its needs name (a dry run no write scope),
 * in the order of the product's one list of Graph permissions.
 *
 * @param settings - the run's settings.
 */
export function runScopes(settings: RunAccessSettings): DelegatedScope[] {
  const named = new Set(runNeeds(settings).flatMap((n) => n.scopes));
  return DELEGATED_SCOPES.filter((p) => named.has(p));
}

/**
 * A few roles that together meet every need (greedily: the role meeting most needs still unmet,
 * the less privileged on a tie; never Global Administrator), for a one-line suggestion.
 *
 * @param needs - from {@link runNeeds}.
 */
export function sufficientRoles(needs: readonly AccessNeed[]): DirectoryRole[] {
  let unmet = needs.filter((n) => n.roles.length > 0);
  const chosen: DirectoryRole[] = [];
  while (unmet.length > 0) {
    const meets = (role: DirectoryRole): number =>
      unmet.filter((n) => n.roles.includes(role)).length;
    let best: DirectoryRole | undefined;
    for (const role of unmet.flatMap((n) => n.roles)) {
      if (role !== "Global Administrator" && (best === undefined || meets(role) > meets(best))) {
        best = role;
      }
    }
    if (best === undefined) {
      return [...chosen, "Global Administrator"];
    }
    const picked = best;
    chosen.push(picked);
    unmet = unmet.filter((n) => !n.roles.includes(picked));
  }
  return chosen;
}

/** The claims of a delegated access token that the check reads. */
export interface DelegatedClaims {
  /** Space-separated scope names (`scp`). */
  scp?: string;
  /** Template ids of the account's active directory roles (`wids`). */
  wids?: string[];
}

/**
 * The claims of a JWT access token, read without verifying it (Graph verifies it; the CLI only
 * reads what Graph will read). Undefined when the token is not a readable JWT: Microsoft may make
 * access tokens opaque to clients, and then only Graph can tell.
 *
 * @param token - the access token.
 */
export function delegatedClaims(token: string): DelegatedClaims | undefined {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8"),
    ) as Record<string, unknown>;
    const wids = payload.wids;
    return {
      scp: typeof payload.scp === "string" ? payload.scp : undefined,
      wids: Array.isArray(wids)
        ? wids.filter((w): w is string => typeof w === "string")
        : undefined,
    };
  } catch {
    return undefined;
  }
}

/** What a signed-in token lacks for a run. */
export interface MissingAccess {
  /** Scopes the token does not carry. */
  scopes: DelegatedScope[];
  /** Needs none of whose roles the token's `wids` names. */
  roles: AccessNeed[];
  /** What the token did not let the check see (no `scp`, or no `wids`). */
  unchecked: ("scopes" | "roles")[];
}

/**
 * Holds a token's claims against a run's needs. A claim the token lacks is left unchecked rather
 * than counted as missing: Graph remains the judge of what it cannot see here.
 *
 * @param claims - from {@link delegatedClaims}.
 * @param needs - from {@link runNeeds}.
 */
export function missingAccess(
  claims: DelegatedClaims,
  needs: readonly AccessNeed[],
): MissingAccess {
  const unchecked: MissingAccess["unchecked"] = [];
  let scopes: DelegatedScope[] = [];
  if (claims.scp === undefined) {
    unchecked.push("scopes");
  } else {
    const held = new Set(claims.scp.split(" ").map((s) => s.toLowerCase()));
    const wanted = new Set(needs.flatMap((n) => n.scopes));
    scopes = DELEGATED_SCOPES.filter((p) => wanted.has(p) && !held.has(p.toLowerCase()));
  }
  let roles: AccessNeed[] = [];
  if (claims.wids === undefined) {
    unchecked.push("roles");
  } else {
    const held = new Set(claims.wids.map((w) => w.toLowerCase()));
    roles = needs.filter(
      (n) => n.roles.length > 0 && !n.roles.some((r) => held.has(DIRECTORY_ROLES[r])),
    );
  }
  return { scopes, roles, unchecked };
}
