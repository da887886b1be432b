/**
 * The Microsoft Graph permissions the product needs: one list, granted as application roles to the
 * app's managed identity (`infra/scripts/grantGraphRoles.ts`) and asked for as delegated scopes
 * when an administrator signs in to the CLI (`delegatedAccess.ts`). `infra/README.md` says which
 * call needs which.
 */
export const GRAPH_PERMISSIONS = [
  "UserAuthenticationMethod.ReadWrite.All",
  "User.Read.All",
  "GroupMember.Read.All",
  "AuditLog.Read.All",
  "RoleManagement.Read.Directory",
  // The directory audit log needs it beside AuditLog.Read.All (Graph's permissions table for
  // directoryAudits); without it the settled-numbers guard trusts only its own history.
  "Directory.Read.All",
  // The pre-flight reads the authentication methods policy before any write.
  "Policy.Read.AuthenticationMethod",
  // The tenant's verified domains, read only when METHODS includes email (no internal address
  // becomes an email method). Granted whatever METHODS says, so turning email on needs no new
  // grant; it reads domain names only, which Directory.Read.All already covers.
  "Domain.Read.All",
] as const;

/** One of {@link GRAPH_PERMISSIONS}. */
export type GraphPermission = (typeof GRAPH_PERMISSIONS)[number];
