/**
 * Signing in before a run starts, so that a run which cannot do its work stops before its first
 * Graph call, and so before any write. An administrator's sign-in (`deviceCode`, `interactive`)
 * is told what the run will ask of the account, made once, and held against the run's needs; the
 * Azure CLI's sign-in is refused for a run that reads or writes authentication methods.
 */
import {
  createGraphCredential,
  userSignInClientId,
  type GraphCredential,
} from "../../shared/graph/credentials.js";
import { AZURE_CLI_CLIENT_ID } from "../../shared/graph/publicClients.js";
import {
  delegatedClaims,
  METHODS_READ_SCOPE,
  METHODS_WRITE_SCOPE,
  missingAccess,
  runNeeds,
  runScopes,
  sufficientRoles,
  type AccessNeed,
  type RunAccessSettings,
} from "../../shared/graph/delegatedAccess.js";
import { graphCaPem } from "../../shared/services.js";
import type { Settings } from "../../shared/settings/index.js";

/** Where the README explains the sign-in, named in every message that sends the reader there. */
const README_SECTION = "README: 'Run against a real tenant from a laptop'";

/** Options of {@link signInForRun}. */
export interface SignInOptions {
  /** Where the notice and the device-code prompt go (default stderr). */
  write?: (text: string) => void;
}

/**
 * Signs in for a run when `GRAPH_AUTH` is an administrator's sign-in, after saying which client,
 * scopes and directory roles it takes; checks the Azure CLI's sign-in against the run.
 *
 * @param settings - the run's settings.
 * @param options - see {@link SignInOptions}.
 * @returns the signed-in credential for the run's services, or undefined when the services make
 *   their own (managed identity, app registrations, the Azure CLI).
 * @throws Error with one line naming what is missing, before any Graph call.
 */
export async function signInForRun(
  settings: Settings,
  options: SignInOptions = {},
): Promise<GraphCredential | undefined> {
  const write = options.write ?? ((text: string) => process.stderr.write(text));
  if (settings.graphAuth === "azureCli") {
    refuseAzureCliFor(settings);
    return undefined;
  }
  if (settings.graphAuth !== "deviceCode" && settings.graphAuth !== "interactive") {
    return undefined;
  }
  const needs = runNeeds(settings);
  write(signInNotice(settings, needs));
  const credential = createGraphCredential(settings, {
    caPem: graphCaPem(settings),
    onDeviceCode: (message) => write(`${message}\n`),
    userScopes: runScopes(settings),
  });
  const token = await credential.getToken([]);
  const claims = token ? delegatedClaims(token.token) : undefined;
  const missing = claims && missingAccess(claims, needs);
  const problem = missing && missingText(missing, userSignInClientId(settings));
  if (problem) {
    throw new Error(
      `The signed-in account cannot do what this run needs: ${problem}. Nothing was written.`,
    );
  }
  if (!missing || missing.unchecked.length > 0) {
    write(
      `The token does not show its ${missing?.unchecked.join(" and ") ?? "scopes and roles"}; Graph will check them at each call.\n`,
    );
  }
  return credential;
}

/**
 * Refuses the Azure CLI's sign-in, before any Graph call, for a run that needs an
 * authentication-methods scope (a write, or a dry run's reads of phone methods): the Azure CLI's
 * own client carries none, and Microsoft's first-party clients cannot be consented to more.
 */
function refuseAzureCliFor(settings: RunAccessSettings): void {
  const scopes = runScopes(settings);
  if (scopes.includes(METHODS_WRITE_SCOPE)) {
    throw new Error(
      `--auth azureCli can plan but not write (the Azure CLI's client carries no '${METHODS_WRITE_SCOPE}' scope), so sign in with --auth deviceCode or --auth interactive and --client-id <your app registration> (${README_SECTION}).`,
    );
  }
  if (scopes.includes(METHODS_READ_SCOPE)) {
    throw new Error(
      `--auth azureCli cannot read users' phone methods, which REPLACE_EXISTING needs even in a dry run (the Azure CLI's client carries no '${METHODS_READ_SCOPE}' scope), so sign in with --auth deviceCode or --auth interactive and --client-id <your app registration> (${README_SECTION}).`,
    );
  }
}

/** What the administrator reads before signing in: client, scopes and the roles to hold. */
function signInNotice(settings: Settings, needs: readonly AccessNeed[]): string {
  const clientId = userSignInClientId(settings);
  const client =
    settings.clientId === undefined
      ? `Microsoft Graph Command Line Tools ('${clientId}'; --client-id names your own app registration)`
      : `'${clientId}'`;
  const how =
    settings.graphAuth === "interactive" ? "in the browser that opens" : "with the code below";
  // Needs that take the same roles share a line.
  const byRoles = new Map<string, string[]>();
  for (const need of needs.filter((n) => n.roles.length > 0)) {
    const key = orList(need.roles);
    byRoles.set(key, [...(byRoles.get(key) ?? []), need.purpose]);
  }
  const lines = [...byRoles].map(
    ([roles, purposes]) => `  - ${roles}: to ${purposes.join(", to ")}\n`,
  );
  return (
    `Sign in ${how} as an administrator of the tenant. Client: ${client}; delegated scopes: ${runScopes(settings).join(", ")}.\n` +
    `The account needs active directory roles (activate eligible ones in PIM first): ${andList(sufficientRoles(needs))} cover this run. In detail, one role of each line:\n` +
    lines.join("")
  );
}

/** The one-line account of what a token lacks, or undefined when it lacks nothing. */
function missingText(
  missing: ReturnType<typeof missingAccess>,
  clientId: string,
): string | undefined {
  const consent =
    clientId === AZURE_CLI_CLIENT_ID
      ? "the Azure CLI's own client cannot be consented to it: use your own app registration"
      : "grant admin consent for it";
  const parts = [
    ...missing.roles.map((n) => `an active role among ${orList(n.roles)} (to ${n.purpose})`),
    ...(missing.scopes.length > 0
      ? [
          `the scope${missing.scopes.length > 1 ? "s" : ""} ${missing.scopes.map((s) => `'${s}'`).join(", ")}, which the client '${clientId}' did not get (${consent}: ${README_SECTION})`,
        ]
      : []),
  ];
  return parts.length > 0 ? parts.join("; ") : undefined;
}

function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} or ${items.at(-1)}`;
}

function andList(items: readonly string[]): string {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}
