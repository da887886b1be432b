/**
 * OAuth 2.0 answers as Entra ID gives them: the error body (`error`, `error_description` with its
 * AADSTS code, `error_codes`, ...), and the scopes of a token request split into Graph's delegated
 * scopes and the OpenID Connect ones.
 */
import { randomUUID } from "node:crypto";

/** An answer of an Entra endpoint: status and JSON body. */
export interface OAuthAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * An Entra error answer.
 *
 * @param status - HTTP status (400 for most OAuth errors)
 * @param error - the OAuth `error`, e.g. `authorization_pending`
 * @param description - `error_description`, starting with its AADSTS code
 */
export function oauthError(status: number, error: string, description: string): OAuthAnswer {
  const code = /^AADSTS(\d+)/.exec(description)?.[1];
  return {
    status,
    body: {
      error,
      error_description: description,
      error_codes: code === undefined ? [] : [Number(code)],
      timestamp: new Date()
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d{3}Z$/, "Z"),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    },
  };
}

/** Scopes that ask for sign-in artefacts rather than Graph permissions. */
const OIDC_SCOPES = new Set(["openid", "profile", "offline_access", "email"]);

/** Prefixes that name Microsoft Graph as the resource of a scope. */
const GRAPH_PREFIXES = ["https://graph.microsoft.com/", "00000003-0000-0000-c000-000000000000/"];

/** A token request's scopes. */
export interface RequestedScopes {
  /** Graph scopes asked for by name (without the resource prefix). */
  graph: string[];
  /** Whether `.default` was asked for: every scope the client carries. */
  all: boolean;
  /** OpenID Connect scopes asked for (`openid`, `profile`, `offline_access`, `email`). */
  oidc: string[];
  /** Whether Graph scopes were named with the resource (`https://graph.microsoft.com/...`). */
  prefixed: boolean;
}

/**
 * Splits the `scope` parameter; a scope of another resource is refused, since the emulator only
 * issues tokens for Graph.
 *
 * @param raw - the space-separated `scope` parameter
 * @returns the scopes, or the error answer
 */
export function parseScopes(raw: string): RequestedScopes | OAuthAnswer {
  const out: RequestedScopes = { graph: [], all: false, oidc: [], prefixed: false };
  for (const scope of raw.split(" ").filter((s) => s !== "")) {
    const lower = scope.toLowerCase();
    if (OIDC_SCOPES.has(lower)) {
      out.oidc.push(lower);
      continue;
    }
    const prefix = GRAPH_PREFIXES.find((p) => lower.startsWith(p));
    const name = prefix === undefined ? scope : scope.slice(prefix.length).replace(/^\/+/, "");
    if (prefix === undefined && scope.includes("/")) {
      return oauthError(
        400,
        "invalid_scope",
        `AADSTS70011: The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${scope} is not valid.`,
      );
    }
    out.prefixed ||= prefix !== undefined;
    if (name.toLowerCase() === ".default") {
      out.all = true;
    } else {
      out.graph.push(name);
    }
  }
  return out;
}

/**
 * The delegated scopes a token gets: those requested that the client carries (with the client's
 * spelling), or all it carries for `.default`. Entra would instead ask for consent (the tenant's
 * own app) or refuse (a first-party client); the emulator leaves the missing ones out, so Graph
 * answers 403 on the call that needs them.
 *
 * @param requested - the request's scopes
 * @param carried - the scopes the client carries
 */
export function grantedScopes(requested: RequestedScopes, carried: readonly string[]): string[] {
  if (requested.all) {
    return [...carried];
  }
  const wanted = new Set(requested.graph.map((s) => s.toLowerCase()));
  return carried.filter((s) => wanted.has(s.toLowerCase()));
}

/**
 * The `scope` of a token answer: the granted Graph scopes named as the request named them (with
 * the resource when it did, `.default` included; MSAL finds its cached token by these strings),
 * then the OpenID Connect scopes but `offline_access`.
 *
 * @param requested - the request's scopes
 * @param granted - the granted Graph scopes
 */
export function answeredScope(requested: RequestedScopes, granted: readonly string[]): string {
  const graph = requested.prefixed
    ? [...granted, ...(requested.all ? [".default"] : [])].map((s) => `${GRAPH_PREFIXES[0]}${s}`)
    : [...granted];
  return [...graph, ...requested.oidc.filter((s) => s !== "offline_access")].join(" ");
}
