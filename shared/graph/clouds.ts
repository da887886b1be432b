/**
 * Where the app may send its Graph token: the Microsoft Graph hosts of the public and national
 * clouds, each with the Entra ID authority that issues tokens for it, or a loopback emulator the
 * operator names explicitly (`GRAPH_ALLOW_LOOPBACK`). The one home of this rule: the settings,
 * the credentials and the grant script read it here.
 *
 * Hosts and authorities as Microsoft lists them in "Microsoft Graph national cloud deployments"
 * (https://learn.microsoft.com/graph/deployments). Microsoft Cloud Germany closed in 2021 and is
 * not listed.
 */
import type { AzureAuthorityHosts } from "@azure/identity";

/** A cloud Microsoft Graph runs in. */
export interface GraphCloud {
  /** The cloud's name, as Microsoft's list names it. */
  name: string;
  /** Host name of Microsoft Graph in this cloud. */
  graphHost: string;
  /**
   * Entra ID authority that issues tokens for it. Typed by `@azure/identity`'s own list; only the
   * type is imported, so reading settings does not load the identity library.
   */
  authorityHost: `${AzureAuthorityHosts}`;
}

/** Microsoft Graph in the public and national clouds. */
export const GRAPH_CLOUDS: readonly GraphCloud[] = [
  {
    name: "global service",
    graphHost: "graph.microsoft.com",
    authorityHost: "https://login.microsoftonline.com",
  },
  {
    name: "US Government L4",
    graphHost: "graph.microsoft.us",
    authorityHost: "https://login.microsoftonline.us",
  },
  {
    name: "US Government L5 (DoD)",
    graphHost: "dod-graph.microsoft.us",
    authorityHost: "https://login.microsoftonline.us",
  },
  {
    name: "China operated by 21Vianet",
    graphHost: "microsoftgraph.chinacloudapi.cn",
    authorityHost: "https://login.chinacloudapi.cn",
  },
];

/** Host names, as `URL.hostname` spells them, that only reach this machine. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "[::1]", "localhost"];

/** The public cloud's Graph: the token audience a loopback emulator stands in for. */
export const PUBLIC_GRAPH_ORIGIN = "https://graph.microsoft.com";

const CLOUD_ROOTS = GRAPH_CLOUDS.map((c) => `https://${c.graphHost}`).join(", ");

/**
 * Checks the shape of a Graph base URL and returns its root: an https origin, without a path
 * other than an optional `/v1.0` (stripped), user name, password, query or fragment. Messages
 * complete "'GRAPH_BASE_URL' …" and never quote the value.
 *
 * @param value - the setting's text.
 * @returns the root (`https://host[:port]`), or the problem.
 */
export function parseGraphRoot(value: string): { root: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return { problem: "is not a valid URL" };
  }
  if (url.protocol !== "https:") {
    return { problem: "must be an https URL (Graph clients send tokens only over https)" };
  }
  if (url.username !== "" || url.password !== "") {
    return { problem: "must not carry a user name or password" };
  }
  if (url.search !== "" || url.hash !== "") {
    return { problem: "must not carry a query or a fragment" };
  }
  if (!/^\/*(v1\.0\/*)?$/.test(url.pathname)) {
    return { problem: "must be the Graph root, with no path other than /v1.0" };
  }
  return { root: url.origin };
}

/**
 * The cloud whose Graph a root names, or undefined (a loopback emulator, or not Graph at all).
 * Graph answers on the https default port only, so a root with a port names no cloud.
 *
 * @param root - a root from {@link parseGraphRoot}.
 */
export function graphCloudOf(root: string): GraphCloud | undefined {
  const url = new URL(root);
  return url.port === "" ? GRAPH_CLOUDS.find((c) => c.graphHost === url.hostname) : undefined;
}

/**
 * Whether a root names this machine (any port).
 *
 * @param root - a root from {@link parseGraphRoot}.
 */
export function isLoopbackRoot(root: string): boolean {
  return LOOPBACK_HOSTS.includes(new URL(root).hostname);
}

/** What decides whether a Graph root may get a token. */
export interface GraphTarget {
  /** A root from {@link parseGraphRoot}; undefined when it did not parse (only the rest is checked). */
  root: string | undefined;
  /** `GRAPH_ALLOW_LOOPBACK`. */
  allowLoopback: boolean;
  /** The app runs in Azure (`WEBSITE_INSTANCE_ID` is set). */
  inAzure: boolean;
  /** `GRAPH_CA_FILE` is set. */
  caFile: boolean;
}

/** One refused setting: its name and what is wrong (the shape of a settings problem). */
export interface GraphTargetProblem {
  setting: "GRAPH_BASE_URL" | "GRAPH_ALLOW_LOOPBACK" | "GRAPH_CA_FILE";
  problem: string;
}

/**
 * The rule: a token goes to a cloud's Graph host, or to a loopback emulator when
 * `GRAPH_ALLOW_LOOPBACK` names one outside Azure; an extra CA applies only to such an emulator.
 *
 * @param target - see {@link GraphTarget}.
 * @returns every broken part of the rule, empty when the root may get a token.
 */
export function graphTargetProblems(target: GraphTarget): GraphTargetProblem[] {
  const problems: GraphTargetProblem[] = [];
  if (target.allowLoopback && target.inAzure) {
    problems.push({
      setting: "GRAPH_ALLOW_LOOPBACK",
      problem:
        "must not be true in Azure (WEBSITE_INSTANCE_ID is set): a loopback Graph emulator runs only on a developer's machine",
    });
  }
  if (target.root === undefined) {
    return problems;
  }
  const loopbackAllowed = target.allowLoopback && !target.inAzure;
  const loopback = isLoopbackRoot(target.root);
  if (loopback && !target.allowLoopback) {
    problems.push({
      setting: "GRAPH_BASE_URL",
      problem: "names a loopback host: set GRAPH_ALLOW_LOOPBACK=true to use a local Graph emulator",
    });
  } else if (!loopback && graphCloudOf(target.root) === undefined) {
    problems.push({
      setting: "GRAPH_BASE_URL",
      problem: `must be the Microsoft Graph root of the public or a national cloud (${CLOUD_ROOTS}, without a port), or a loopback emulator with GRAPH_ALLOW_LOOPBACK=true`,
    });
  }
  if (target.caFile && !(loopback && loopbackAllowed)) {
    problems.push({
      setting: "GRAPH_CA_FILE",
      problem:
        "applies only to a loopback Graph emulator (GRAPH_BASE_URL on 127.0.0.1, ::1 or localhost with GRAPH_ALLOW_LOOPBACK=true); Microsoft Graph needs no extra CA",
    });
  }
  return problems;
}
