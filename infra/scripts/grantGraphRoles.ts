/**
 * Grants the app's managed identity the Microsoft Graph application roles it needs, and no
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
  const sleep =
    options.sleep ?? ((ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms)));
  const retryDelayMs = options.retryDelayMs ?? 10_000;
  const wanted = [...new Set(options.roles ?? REQUIRED_GRAPH_ROLES)];
  const graph = graphCalls({
    base,
    credential: options.credential,
    fetch: options.fetch ?? (globalThis.fetch as unknown as FetchLike),
    sleep,
    retryDelayMs,
  });
  checkPrincipalId(options.principalId);
  const run: GrantRun = {
    graph,
    principalId: options.principalId,
    log: options.log ?? ((): void => undefined),
    sleep,
    retryDelayMs,
    askAdmin: `Such an admin can run 'npx tsx infra/scripts/grantGraphRoles.ts --principal-id ${options.principalId}' later.`,
  };

  const graphSp = await findGraphServicePrincipal(run);
  const roles = applicationRoles(graphSp, wanted);
  const assignments = await readAssignments(run, Math.max(1, options.principalAttempts ?? 6));
  const { result, missing } = compareWithHeld(graphSp.id, assignments, roles, wanted);
  reportHeld(run.log, result);
  for (const name of missing) {
    if (options.dryRun) {
      run.log(`Dry run: would grant '${name}'.`);
      result.wouldGrant.push(name);
    } else if ((await assignRole(run, graphSp.id, name, roles.ids.get(name))) === "granted") {
      result.granted.push(name);
    } else {
      result.present.push(name);
    }
  }
  return result;
}

/** Graph as the steps see it: calls with the admin's token, throttling retries and paging. */
interface GraphCalls {
  /** Graph's v1.0 root, without a trailing slash. */
  root: string;
  /** One request; the parsed JSON body of a 2xx answer, else a {@link GraphCallError}. */
  call(method: string, url: string, body?: unknown): Promise<unknown>;
  /** Every item of a collection, following `@odata.nextLink`. */
  list<T>(url: string): Promise<T[]>;
}

/** The options of one {@link grantGraphRoles} call with their defaults filled in. */
interface GrantRun {
  graph: GraphCalls;
  principalId: string;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  retryDelayMs: number;
  /** Ends every permission error: how an admin who has the permission can finish the job. */
  askAdmin: string;
}

/** Refuses a value not shaped like an object id before anything is sent to Graph. */
function checkPrincipalId(principalId: string): void {
  if (!/^[0-9a-f-]{36}$/i.test(principalId)) {
    throw new GrantError(
      `GrantGraphRoles: the principal id '${principalId}' is not an object id. Pass the managed identity's principal (object) id, e.g. the azd output AZURE_MANAGED_IDENTITY_PRINCIPAL_ID.`,
      "badPrincipalId",
    );
  }
}

/**
 * Builds the Graph calls of one run. Throttled answers (429, 503, 504) are retried after
 * `Retry-After`, or `retryDelayMs` without one, up to {@link MAX_THROTTLE_RETRIES} times.
 */
function graphCalls(settings: {
  base: string;
  credential: TokenCredential;
  fetch: FetchLike;
  sleep: (ms: number) => Promise<void>;
  retryDelayMs: number;
}): GraphCalls {
  const scope = `${graphResource(settings.base)}/.default`;
  const call = async (method: string, url: string, body?: unknown): Promise<unknown> => {
    for (let attempt = 0; ; attempt++) {
      const token = await adminToken(settings.credential, scope);
      const res = await send(settings.fetch, settings.base, { method, url, token, body });
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
        await settings.sleep(
          Number.isFinite(after) && after > 0 ? after * 1000 : settings.retryDelayMs,
        );
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
  return { root: `${settings.base}/v1.0`, call, list };
}

/** The admin's Graph token, or a {@link GrantError} telling them to sign in. */
async function adminToken(credential: TokenCredential, scope: string): Promise<string> {
  try {
    const t = await credential.getToken(scope);
    if (!t) {
      throw new Error("no token");
    }
    return t.token;
  } catch (e) {
    const reason = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new GrantError(
      `GrantGraphRoles: could not get a Graph token for the admin (${reason}). Sign in with 'az login' (or 'azd auth login') as an administrator and run the script again.`,
      "noToken",
    );
  }
}

/** One HTTP request to Graph; a {@link GrantError} when Graph cannot be reached at all. */
async function send(
  doFetch: FetchLike,
  base: string,
  request: { method: string; url: string; token: string; body?: unknown },
): Promise<FetchResponseLike> {
  const { method, url, token, body } = request;
  const headers: Record<string, string> = {
    Authorization: `Bearer ${token}`,
    Accept: "application/json",
  };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  try {
    return await doFetch(url, {
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
}

/** Turns a failed read of service principals into the error that names the missing permission. */
function deniedReading(run: GrantRun, e: unknown): never {
  if (e instanceof GraphCallError && e.status === 403) {
    throw new GrantError(
      `GrantGraphRoles: the signed-in account may not read service principals ('${e.code}'). It lacks 'Application.Read.All'. ${ADMIN_REQUIREMENTS} ${run.askAdmin}`,
      e.code,
      403,
    );
  }
  throw asGrantError(e);
}

/** Step 1: Graph's own service principal in the tenant, which holds the role definitions. */
async function findGraphServicePrincipal(run: GrantRun): Promise<ServicePrincipal> {
  let graphSp: ServicePrincipal | undefined;
  try {
    const found = await run.graph.list<ServicePrincipal>(
      `${run.graph.root}/servicePrincipals?$filter=${encodeURIComponent(`appId eq '${GRAPH_APP_ID}'`)}&$select=id,appId,appRoles`,
    );
    graphSp = found[0];
  } catch (e) {
    deniedReading(run, e);
  }
  if (!graphSp) {
    throw new GrantError(
      "GrantGraphRoles: Microsoft Graph's service principal was not found in this tenant. Check that you signed in to the right tenant.",
      "graphNotFound",
    );
  }
  return graphSp;
}

/** Graph's application roles, by name and by id. */
interface RoleIndex {
  ids: Map<string, string>;
  names: Map<string, string>;
}

/** Step 2: the ids of Graph's application roles by name; fails naming any wanted role it lacks. */
function applicationRoles(graphSp: ServicePrincipal, wanted: string[]): RoleIndex {
  const ids = new Map<string, string>();
  const names = new Map<string, string>();
  for (const r of graphSp.appRoles ?? []) {
    if (r.value && (r.allowedMemberTypes ?? ["Application"]).includes("Application")) {
      ids.set(r.value, r.id);
      names.set(r.id, r.value);
    }
  }
  const unknown = wanted.filter((w) => !ids.has(w));
  if (unknown.length > 0) {
    throw new GrantError(
      `GrantGraphRoles: Microsoft Graph has no application role ${unknown.map((u) => `'${u}'`).join(", ")}. Check the role names.`,
      "roleNotFound",
    );
  }
  return { ids, names };
}

/** Step 3: what the identity holds already; a new identity may not have replicated to Graph yet. */
async function readAssignments(run: GrantRun, attempts: number): Promise<AppRoleAssignment[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run.graph.list<AppRoleAssignment>(
        `${run.graph.root}/servicePrincipals/${encodeURIComponent(run.principalId)}/appRoleAssignments`,
      );
    } catch (e) {
      if (e instanceof GraphCallError && e.status === 404) {
        if (attempt < attempts) {
          run.log(
            `Managed identity '${run.principalId}' is not visible in Graph yet; retrying (${attempt}/${attempts}).`,
          );
          await run.sleep(run.retryDelayMs);
          continue;
        }
        throw new GrantError(
          `GrantGraphRoles: no service principal with object id '${run.principalId}' was found. Pass the managed identity's principal id (not its client id), or wait a minute for a new identity to replicate and run the script again.`,
          "principalNotFound",
          404,
        );
      }
      deniedReading(run, e);
    }
  }
}

/** Sorts the wanted roles into held and missing, and names the Graph roles held beyond them. */
function compareWithHeld(
  graphSpId: string,
  assignments: AppRoleAssignment[],
  roles: RoleIndex,
  wanted: string[],
): { result: GrantResult; missing: string[] } {
  const held = new Set(
    assignments.filter((a) => a.resourceId === graphSpId).map((a) => a.appRoleId),
  );
  const present = wanted.filter((w) => held.has(roles.ids.get(w) ?? ""));
  const missing = wanted.filter((w) => !held.has(roles.ids.get(w) ?? ""));
  const extra = [...held]
    .map((id) => roles.names.get(id) ?? id)
    .filter((name) => !wanted.includes(name))
    .sort();
  const result: GrantResult = {
    graphServicePrincipalId: graphSpId,
    present,
    granted: [],
    wouldGrant: [],
    extra,
  };
  return { result, missing };
}

/** Step 4: says what is granted already, and warns about roles the app does not need. */
function reportHeld(log: (line: string) => void, found: GrantResult): void {
  for (const name of found.present) {
    log(`Already granted: '${name}'.`);
  }
  for (const name of found.extra) {
    log(
      `Warning: the identity also holds '${name}', which the app does not need. Remove it in Entra ID > Enterprise applications > the identity > Permissions.`,
    );
  }
}

/**
 * Step 5: assigns one missing role. `present` when someone (or an earlier, interrupted run)
 * assigned it between our read and this write.
 */
async function assignRole(
  run: GrantRun,
  graphSpId: string,
  name: string,
  appRoleId: string | undefined,
): Promise<"granted" | "present"> {
  try {
    await run.graph.call(
      "POST",
      `${run.graph.root}/servicePrincipals/${graphSpId}/appRoleAssignedTo`,
      {
        principalId: run.principalId,
        resourceId: graphSpId,
        appRoleId,
      },
    );
    run.log(`Granted: '${name}'.`);
    return "granted";
  } catch (e) {
    if (e instanceof GraphCallError && e.status === 400 && /already exists/i.test(e.message)) {
      run.log(`Already granted: '${name}'.`);
      return "present";
    }
    if (e instanceof GraphCallError && e.status === 403) {
      throw new GrantError(
        `GrantGraphRoles: the signed-in account may not assign '${name}' ('${e.code}'). It lacks 'AppRoleAssignment.ReadWrite.All' or the Privileged Role Administrator role. ${ADMIN_REQUIREMENTS} ${run.askAdmin}`,
        e.code,
        403,
      );
    }
    throw asGrantError(e);
  }
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
