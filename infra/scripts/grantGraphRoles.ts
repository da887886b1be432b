/**
 * Grants the app's managed identity the four Microsoft Graph application roles it needs, and no
 * more. Managed identities have no consent screen, so an admin assigns the roles directly on
 * Graph's service principal. azd runs this after provisioning (`postprovision` hook in
 * `azure.yaml`); an admin can run it again at any time, since it only adds what is missing:
 *
 *   npx tsx infra/scripts/grantGraphRoles.ts --principal-id <object id> [--dry-run]
 *
 * The role ids are resolved by name from Graph's own service principal, never hard-coded, so the
 * script also works in national clouds (`--graph-base-url`). The admin's token goes only where
 * the app's may go: a Graph host of the public or a national cloud, or a loopback emulator with
 * `GRAPH_ALLOW_LOOPBACK=true` (`shared/graph/clouds.ts`).
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import type { TokenCredential } from "@azure/core-auth";
import {
  AzureCliCredential,
  AzureDeveloperCliCredential,
  ChainedTokenCredential,
} from "@azure/identity";
import { graphTargetProblems, parseGraphRoot } from "../../shared/graph/clouds.js";
import { graphResource } from "../../shared/graph/credentials.js";
import { onOff } from "../../shared/settings/parsers.js";

/** Client id (appId) of Microsoft Graph, the same in every tenant. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/**
 * The Graph application roles the app needs, and the only ones this script grants.
 * See `infra/README.md` for which call needs which role.
 */
export const REQUIRED_GRAPH_ROLES: readonly string[] = [
  "UserAuthenticationMethod.ReadWrite.All",
  "User.Read.All",
  "GroupMember.Read.All",
  "AuditLog.Read.All",
];

/** What the admin running the script needs, named in every permission error. */
export const ADMIN_REQUIREMENTS =
  "The account that runs this script needs the Graph permissions 'Application.Read.All' and " +
  "'AppRoleAssignment.ReadWrite.All' and an Entra role that may grant application permissions " +
  "(Privileged Role Administrator or Global Administrator).";

/** The part of a fetch response the script reads. */
export interface FetchResponseLike {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** A fetch function: the global one, or undici's with a custom CA for the emulator. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string },
) => Promise<FetchResponseLike>;

/** Options of {@link grantGraphRoles}. */
export interface GrantOptions {
  /** Object id of the managed identity's service principal (not its client id). */
  principalId: string;
  /** Credential of the admin, e.g. the Azure Developer CLI or Azure CLI sign-in. */
  credential: TokenCredential;
  /** Graph root without version; default `https://graph.microsoft.com`. */
  graphBaseUrl?: string;
  /** Let `graphBaseUrl` name a loopback emulator (`GRAPH_ALLOW_LOOPBACK`); default false. */
  allowLoopback?: boolean;
  /** The script runs in Azure (`WEBSITE_INSTANCE_ID` is set), where loopback is refused. */
  inAzure?: boolean;
  /** Resolve and report, but assign nothing. */
  dryRun?: boolean;
  /** Roles to grant; default {@link REQUIRED_GRAPH_ROLES}. */
  roles?: readonly string[];
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Progress lines (never tokens); default: nothing. */
  log?: (line: string) => void;
  /**
   * How often to look for the managed identity again when Graph does not know it yet (a new
   * identity takes a while to replicate to Graph); default 6.
   */
  principalAttempts?: number;
  /** Wait between those attempts and before retrying a throttled call, in ms; default 10,000. */
  retryDelayMs?: number;
  /** Default: `setTimeout`. Tests pass a no-op. */
  sleep?: (ms: number) => Promise<void>;
}

/** What {@link grantGraphRoles} found and did. */
export interface GrantResult {
  /** Object id of Graph's service principal in the tenant. */
  graphServicePrincipalId: string;
  /** Roles the identity already had. */
  present: string[];
  /** Roles assigned by this call (empty on a dry run). */
  granted: string[];
  /** Roles a dry run would have assigned. */
  wouldGrant: string[];
  /** Graph roles the identity has beyond the requested ones (reported, never removed). */
  extra: string[];
}

/** A failure the admin can act on; the message says what to do. */
export class GrantError extends Error {
  /**
   * @param message - full sentence(s) naming what failed and what to do
   * @param code - Graph `error.code`, or a code of the script (`principalNotFound`, ...)
   * @param status - HTTP status when Graph answered
   */
  constructor(
    message: string,
    readonly code: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "GrantError";
  }
}

interface GraphErrorBody {
  error?: { code?: string; message?: string };
}

interface AppRole {
  id: string;
  value: string | null;
  allowedMemberTypes?: string[];
}

interface ServicePrincipal {
  id: string;
  appId: string;
  appRoles?: AppRole[];
}

interface AppRoleAssignment {
  id: string;
  appRoleId: string;
  resourceId: string;
}

const MAX_THROTTLE_RETRIES = 5;

/**
 * Assigns the missing Graph application roles to a managed identity. Idempotent: a second call
 * finds every role present and changes nothing.
 *
 * @param options - see {@link GrantOptions}
 * @returns what was present, granted, would be granted, and extra
 * @throws GrantError naming the missing admin permission on 403, and the fix for other failures.
 */
export async function grantGraphRoles(options: GrantOptions): Promise<GrantResult> {
  const base = graphRootOf(options);
  const root = `${base}/v1.0`;
  const doFetch: FetchLike = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const log = options.log ?? ((): void => undefined);
  const sleep =
    options.sleep ?? ((ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)));
  const retryDelayMs = options.retryDelayMs ?? 10_000;
  const wanted = [...new Set(options.roles ?? REQUIRED_GRAPH_ROLES)];
  const scope = `${graphResource(base)}/.default`;
  if (!/^[0-9a-f-]{36}$/i.test(options.principalId)) {
    throw new GrantError(
      `GrantGraphRoles: the principal id '${options.principalId}' is not an object id. Pass the managed identity's principal (object) id, e.g. the azd output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID.`,
      "badPrincipalId",
    );
  }

  const call = async (method: string, url: string, body?: unknown): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      let token: string;
      try {
        const t = await options.credential.getToken(scope);
        if (!t) {
          throw new Error("no token");
        }
        token = t.token;
      } catch (e) {
        const reason = e instanceof Error ? e.message.split("\n")[0] : String(e);
        throw new GrantError(
          `GrantGraphRoles: could not get a Graph token for the admin (${reason}). Sign in with 'az login' (or 'azd auth login') as an administrator and run the script again.`,
          "noToken",
        );
      }
      const headers: Record<string, string> = {
        Authorization: `Bearer ${token}`,
        Accept: "application/json",
      };
      if (body !== undefined) {
        headers["Content-Type"] = "application/json";
      }
      let res: FetchResponseLike;
      try {
        res = await doFetch(url, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        const reason = e instanceof Error ? e.message : String(e);
        throw new GrantError(
          `GrantGraphRoles: Graph at '${base}' could not be reached (${reason}).`,
          "network",
        );
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text === "" ? undefined : JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      if (res.status >= 200 && res.status < 300) {
        return parsed;
      }
      const transient = res.status === 429 || res.status === 503 || res.status === 504;
      if (transient && attempt < MAX_THROTTLE_RETRIES) {
        const after = Number(res.headers.get("retry-after"));
        await sleep(Number.isFinite(after) && after > 0 ? after * 1000 : retryDelayMs);
        continue;
      }
      const err = (parsed as GraphErrorBody | undefined)?.error ?? {};
      throw new GraphCallError(
        res.status,
        err.code ?? "unknown",
        err.message ?? text.slice(0, 200),
      );
    }
  };

  const list = async <T>(url: string): Promise<T[]> => {
    const out: T[] = [];
    let next: string | undefined = url;
    while (next) {
      const page = (await call("GET", next)) as { value?: T[]; "@odata.nextLink"?: string };
      out.push(...(page?.value ?? []));
      next = page?.["@odata.nextLink"];
    }
    return out;
  };

  const askAdmin = `Such an admin can run 'npx tsx infra/scripts/grantGraphRoles.ts --principal-id ${options.principalId}' later.`;
  const deniedReading = (e: unknown): never => {
    if (e instanceof GraphCallError && e.status === 403) {
      throw new GrantError(
        `GrantGraphRoles: the signed-in account may not read service principals ('${e.code}'). It lacks 'Application.Read.All'. ${ADMIN_REQUIREMENTS} ${askAdmin}`,
        e.code,
        403,
      );
    }
    throw asGrantError(e);
  };

  // 1. Graph's service principal and its role ids by name.
  let graphSp: ServicePrincipal | undefined;
  try {
    const found = await list<ServicePrincipal>(
      `${root}/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${GRAPH_APP_ID}'`)}&$select=id,appId,appRoles`,
    );
    graphSp = found[0];
  } catch (e) {
    deniedReading(e);
  }
  if (!graphSp) {
    throw new GrantError(
      "GrantGraphRoles: Microsoft Graph's service principal was not found in this tenant. Check that you signed in to the right tenant.",
      "graphNotFound",
    );
  }
  const roleIds = new Map<string, string>();
  const roleNames = new Map<string, string>();
  for (const r of graphSp.appRoles ?? []) {
    if (r.value && (r.allowedMemberTypes ?? ["Application"]).includes("Application")) {
      roleIds.set(r.value, r.id);
      roleNames.set(r.id, r.value);
    }
  }
  const unknown = wanted.filter((w) => !roleIds.has(w));
  if (unknown.length > 0) {
    throw new GrantError(
      `GrantGraphRoles: Microsoft Graph has no application role ${unknown.map((u) => `'${u}'`).join(", ")}. Check the role names.`,
      "roleNotFound",
    );
  }

  // 2. What the identity has already; a new identity may not have replicated to Graph yet.
  const attempts = Math.max(1, options.principalAttempts ?? 6);
  let existing: AppRoleAssignment[] = [];
  for (let attempt = 1; ; attempt++) {
    try {
      existing = await list<AppRoleAssignment>(
        `${root}/servicePrincipals/${encodeURIComponent(options.principalId)}/appRoleAssignments`,
      );
      break;
    } catch (e) {
      if (e instanceof GraphCallError && e.status === 404) {
        if (attempt < attempts) {
          log(
            `Managed identity '${options.principalId}' is not visible in Graph yet; retrying (${attempt}/${attempts}).`,
          );
          await sleep(retryDelayMs);
          continue;
        }
        throw new GrantError(
          `GrantGraphRoles: no service principal with object id '${options.principalId}' was found. Pass the managed identity's principal id (not its client id), or wait a minute for a new identity to replicate and run the script again.`,
          "principalNotFound",
          404,
        );
      }
      deniedReading(e);
    }
  }
  const graphSpId = graphSp.id;
  const held = new Set(existing.filter((a) => a.resourceId === graphSpId).map((a) => a.appRoleId));
  const present = wanted.filter((w) => held.has(roleIds.get(w) ?? ""));
  const missing = wanted.filter((w) => !held.has(roleIds.get(w) ?? ""));
  const extra = [...held]
    .map((id) => roleNames.get(id) ?? id)
    .filter((name) => !wanted.includes(name))
    .sort();
  for (const name of present) {
    log(`Already granted: '${name}'.`);
  }
  for (const name of extra) {
    log(
      `Warning: the identity also holds '${name}', which the app does not need. Remove it in Entra ID > Enterprise applications > the identity > Permissions.`,
    );
  }

  // 3. Assign what is missing.
  const result: GrantResult = {
    graphServicePrincipalId: graphSp.id,
    present,
    granted: [],
    wouldGrant: [],
    extra,
  };
  for (const name of missing) {
    if (options.dryRun) {
      log(`Dry run: would grant '${name}'.`);
      result.wouldGrant.push(name);
      continue;
    }
    try {
      await call("POST", `${root}/servicePrincipals/${graphSp.id}/appRoleAssignedTo`, {
        principalId: options.principalId,
        resourceId: graphSp.id,
        appRoleId: roleIds.get(name),
      });
      log(`Granted: '${name}'.`);
      result.granted.push(name);
    } catch (e) {
      // Someone (or an earlier, interrupted run) assigned it between our read and this write.
      if (e instanceof GraphCallError && e.status === 400 && /already exists/i.test(e.message)) {
        log(`Already granted: '${name}'.`);
        result.present.push(name);
        continue;
      }
      if (e instanceof GraphCallError && e.status === 403) {
        throw new GrantError(
          `GrantGraphRoles: the signed-in account may not assign '${name}' ('${e.code}'). It lacks 'AppRoleAssignment.ReadWrite.All' or the Privileged Role Administrator role. ${ADMIN_REQUIREMENTS} ${askAdmin}`,
          e.code,
          403,
        );
      }
      throw asGrantError(e);
    }
  }
  return result;
}

/**
 * The Graph root the admin's token may go to, checked by the app's own rule before any token is
 * asked for.
 *
 * @throws GrantError naming the setting to fix.
 */
function graphRootOf(options: GrantOptions): string {
  const parsed = parseGraphRoot(options.graphBaseUrl ?? "https://graph.microsoft.com");
  const problems =
    "problem" in parsed
      ? [{ setting: "GRAPH_BASE_URL", problem: parsed.problem }]
      : graphTargetProblems({
          root: parsed.root,
          allowLoopback: options.allowLoopback === true,
          inAzure: options.inAzure === true,
          caFile: false,
        });
  if (problems.length > 0) {
    throw new GrantError(
      `GrantGraphRoles: ${problems.map((p) => `${p.setting === "GRAPH_BASE_URL" ? "'--graph-base-url' (GRAPH_BASE_URL)" : `'${p.setting}'`} ${p.problem}`).join("; ")}.`,
      "badGraphBaseUrl",
    );
  }
  return (parsed as { root: string }).root;
}

/** A non-2xx Graph answer inside this module. */
class GraphCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "GraphCallError";
  }
}

function asGrantError(e: unknown): GrantError {
  if (e instanceof GrantError) {
    return e;
  }
  if (e instanceof GraphCallError) {
    if (e.status === 401) {
      return new GrantError(
        `GrantGraphRoles: Graph refused the admin's token ('${e.code}'). Sign in again with 'azd auth login' or 'az login' and run the script again.`,
        e.code,
        401,
      );
    }
    return new GrantError(
      `GrantGraphRoles: Graph answered ${e.status} '${e.code}': ${e.message.replace(/\.?$/, ".")}`,
      e.code,
      e.status,
    );
  }
  return new GrantError(
    `GrantGraphRoles: ${e instanceof Error ? e.message : String(e)}`.replace(/\.?$/, "."),
    "unexpected",
  );
}

/** Parsed command line. */
export interface GrantCommand {
  principalId?: string;
  graphBaseUrl?: string;
  /** `GRAPH_ALLOW_LOOPBACK` from the environment: the Graph root may be a loopback emulator. */
  allowLoopback: boolean;
  /** `WEBSITE_INSTANCE_ID` is set: the script runs in Azure. */
  inAzure: boolean;
  dryRun: boolean;
  help: boolean;
}

/** Usage text of the command line. */
export const USAGE = `Usage: npx tsx infra/scripts/grantGraphRoles.ts [--principal-id ID] [--graph-base-url URL] [--dry-run]

Grants the managed identity the Graph application roles
${REQUIRED_GRAPH_ROLES.map((r) => `  ${r}`).join("\n")}
and nothing more. Without --principal-id the azd output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID is used.
--graph-base-url (or GRAPH_BASE_URL) names Microsoft Graph of the public or a national cloud; a
loopback emulator also needs GRAPH_ALLOW_LOOPBACK=true.
${ADMIN_REQUIREMENTS}`;

/**
 * Reads the command line, falling back to the azd environment (azd passes its outputs to hooks
 * as environment variables).
 *
 * @param argv - arguments after the script name
 * @param env - environment, usually `process.env`
 * @returns the command
 * @throws TypeError for an unknown option, or a `GRAPH_ALLOW_LOOPBACK` that is not true or false.
 */
export function parseCommand(
  argv: string[],
  env: Record<string, string | undefined>,
): GrantCommand {
  const { values } = parseArgs({
    args: argv,
    options: {
      "principal-id": { type: "string" },
      "graph-base-url": { type: "string" },
      "dry-run": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const nonEmpty = (v: string | undefined): string | undefined =>
    v === undefined || v.trim() === "" ? undefined : v.trim();
  const allowLoopback = onOff.safeParse(nonEmpty(env.GRAPH_ALLOW_LOOPBACK) ?? "false");
  if (!allowLoopback.success) {
    throw new TypeError("'GRAPH_ALLOW_LOOPBACK' must be true or false");
  }
  return {
    principalId:
      nonEmpty(values["principal-id"]) ?? nonEmpty(env.AZURE_MANAGED_IDENTITY_PRINCIPAL_ID),
    graphBaseUrl: nonEmpty(values["graph-base-url"]) ?? nonEmpty(env.GRAPH_BASE_URL),
    allowLoopback: allowLoopback.data,
    inAzure: nonEmpty(env.WEBSITE_INSTANCE_ID) !== undefined,
    dryRun: values["dry-run"] === true,
    help: values.help === true,
  };
}

/**
 * Runs the command line: signs in with the Azure CLI, else the Azure Developer CLI.
 *
 * @param argv - arguments after the script name
 * @returns the process exit code
 */
export async function main(argv: string[]): Promise<number> {
  let command: GrantCommand;
  try {
    command = parseCommand(argv, process.env);
  } catch (e) {
    const reason = (e instanceof Error ? e.message : String(e)).replace(/\.?$/, ".");
    process.stderr.write(`GrantGraphRoles: ${reason}\n${USAGE}\n`);
    return 2;
  }
  if (command.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!command.principalId) {
    process.stderr.write(
      "GrantGraphRoles: no managed identity given. Pass --principal-id or run it from azd, which sets AZURE_MANAGED_IDENTITY_PRINCIPAL_ID.\n",
    );
    return 2;
  }
  const tenantId = process.env.AZURE_TENANT_ID || undefined;
  // Azure CLI first: its Graph token carries the signed-in admin's directory rights
  // (Directory.AccessAsUser.All); azd's sign-in is the fallback when az is not signed in.
  const credential = new ChainedTokenCredential(
    new AzureCliCredential({ tenantId }),
    new AzureDeveloperCliCredential({ tenantId }),
  );
  try {
    const result = await grantGraphRoles({
      principalId: command.principalId,
      graphBaseUrl: command.graphBaseUrl,
      allowLoopback: command.allowLoopback,
      inAzure: command.inAzure,
      dryRun: command.dryRun,
      credential,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return 0;
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

const invokedAs = process.argv[1] ? path.resolve(process.argv[1]) : "";
if (invokedAs === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
