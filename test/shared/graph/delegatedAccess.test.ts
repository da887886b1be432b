/**
 * What an administrator's sign-in asks for and must hold: the scopes follow the run's settings
 * (no write scope for a dry run), the suggested roles cover every need without Global
 * Administrator, and a token's `scp` and `wids` are held against the needs, leaving unchecked
 * what the token does not show.
 */
import { describe, expect, it } from "vitest";
import {
  DIRECTORY_ROLES,
  delegatedClaims,
  missingAccess,
  runNeeds,
  runScopes,
  sufficientRoles,
  type RunAccessSettings,
} from "../../../shared/graph/delegatedAccess.js";

const WRITE = "UserAuthenticationMethod.ReadWrite.All";
const READ = "UserAuthenticationMethod.Read.All";

/** The settings' defaults, a run that writes. */
const base: RunAccessSettings = {
  dryRun: false,
  replaceExisting: false,
  skipAdmins: true,
  numberSettleDays: 3,
  methods: ["mobile"],
};

/** An unsigned JWT with these claims (the check reads, never verifies). */
function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part({ alg: "none" })}.${part(claims)}.`;
}

describe("runScopes", () => {
  it("asks a dry run for reads only, and a run that writes for the write scope", () => {
    expect(runScopes({ ...base, dryRun: true })).not.toContain(WRITE);
    expect(runScopes({ ...base, dryRun: true })).not.toContain(READ);
    expect(runScopes({ ...base, dryRun: true, replaceExisting: true })).toContain(READ);
    expect(runScopes({ ...base, dryRun: true, replaceExisting: true })).not.toContain(WRITE);
    expect(runScopes(base)).toContain(WRITE);
    expect(runScopes({ ...base, replaceExisting: true })).not.toContain(READ);
  });

  it("asks for the audit log and role reads only when the guards that read them are on", () => {
    expect(runScopes(base)).toEqual(
      expect.arrayContaining(["Directory.Read.All", "RoleManagement.Read.Directory"]),
    );
    expect(runScopes({ ...base, numberSettleDays: 0 })).not.toContain("Directory.Read.All");
    expect(runScopes({ ...base, skipAdmins: false })).not.toContain(
      "RoleManagement.Read.Directory",
    );
    for (const s of [base, { ...base, dryRun: true }, { ...base, numberSettleDays: 0 }]) {
      expect(runScopes(s)).toEqual(
        expect.arrayContaining(["User.Read.All", "GroupMember.Read.All", "AuditLog.Read.All"]),
      );
    }
  });

  it("asks every run for the methods policy (the pre-flight), and for domains only with email", () => {
    for (const s of [base, { ...base, dryRun: true }]) {
      expect(runScopes(s)).toContain("Policy.Read.AuthenticationMethod");
      expect(runScopes(s)).not.toContain("Domain.Read.All");
    }
    expect(runScopes({ ...base, methods: ["mobile", "email"] })).toContain("Domain.Read.All");
    expect(runScopes({ ...base, dryRun: true, methods: ["email"] })).toContain("Domain.Read.All");
  });
});

describe("sufficientRoles", () => {
  it("suggests a reader role and Authentication Administrator for writing non-admins", () => {
    const roles = sufficientRoles(runNeeds(base));
    expect(roles).toContain("Authentication Administrator");
    expect(roles).not.toContain("Global Administrator");
    for (const need of runNeeds(base).filter((n) => n.roles.length > 0)) {
      expect(
        need.roles.some((r) => roles.includes(r)),
        need.purpose,
      ).toBe(true);
    }
  });

  it("asks for Privileged Authentication Administrator when admins are written too", () => {
    const roles = sufficientRoles(runNeeds({ ...base, skipAdmins: false }));
    expect(roles).toContain("Privileged Authentication Administrator");
    expect(roles).not.toContain("Authentication Administrator");
  });

  it("asks a dry run for no role that writes", () => {
    const roles = sufficientRoles(runNeeds({ ...base, dryRun: true }));
    expect(roles).not.toContain("Authentication Administrator");
    expect(roles).not.toContain("Privileged Authentication Administrator");
  });
});

describe("missingAccess", () => {
  const needs = runNeeds(base);
  const wids = (...names: (keyof typeof DIRECTORY_ROLES)[]) => names.map((n) => DIRECTORY_ROLES[n]);

  it("finds nothing missing for a token with the run's scopes (any case) and covering roles", () => {
    const claims = delegatedClaims(
      jwt({
        scp: runScopes(base).join(" ").toLowerCase(),
        wids: wids("Authentication Administrator", "Global Reader"),
      }),
    );
    expect(missingAccess(claims!, needs)).toEqual({ scopes: [], roles: [], unchecked: [] });
  });

  it("names the write scope a client did not get and the needs no held role meets", () => {
    const scp = runScopes({ ...base, dryRun: true }).join(" ");
    const missing = missingAccess(
      delegatedClaims(jwt({ scp, wids: wids("Authentication Administrator") }))!,
      needs,
    );
    expect(missing.scopes).toEqual([WRITE]);
    expect(missing.roles.map((n) => n.purpose)).toEqual(
      expect.arrayContaining(["read the authentication methods registration report"]),
    );
    expect(missing.roles.every((n) => !n.roles.includes("Authentication Administrator"))).toBe(
      true,
    );
  });

  it("treats a Global Reader without a writing role as unable to write", () => {
    const missing = missingAccess(
      delegatedClaims(jwt({ scp: runScopes(base).join(" "), wids: wids("Global Reader") }))!,
      needs,
    );
    expect(missing.roles.map((n) => n.purpose)).toEqual([
      "write phone methods of users who hold no admin role",
    ]);
  });

  it("leaves unchecked what the token does not show, and reads no opaque token", () => {
    expect(missingAccess(delegatedClaims(jwt({}))!, needs)).toEqual({
      scopes: [],
      roles: [],
      unchecked: ["scopes", "roles"],
    });
    expect(delegatedClaims("opaque-token")).toBeUndefined();
  });
});
