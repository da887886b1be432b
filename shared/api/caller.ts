/**
 * Who called the runs API, and what they may do. In Azure the API sits behind App Service
 * authentication with Microsoft Entra ID: the platform validates the caller's token and passes
 * the caller as `X-MS-CLIENT-PRINCIPAL` (base64 JSON with the token's claims) and
 * `X-MS-CLIENT-PRINCIPAL-ID`/`-NAME`, headers a caller cannot set through the platform. The app
 * checks them again, so a deployment with authentication switched off fails closed: in Azure, no
 * principal means 401. Locally (`serve`), the loopback API is guarded by its own token instead
 * and every caller is the local operator.
 */

/** App roles of the runs API (defined on its app registration). */
export const API_ROLES = { read: "Runs.Read", operate: "Runs.Operate" } as const;

/** What a request needs. */
export type Need = "read" | "operate";

/** The caller of a request. */
export interface Caller {
  /** Object id of the user or application (absent locally). */
  objectId?: string;
  /** A name for logs and reports: the UPN, an app's name, or `local operator`. */
  name: string;
  roles: string[];
}

/** Headers as the Functions runtime gives them. */
export interface HeaderSource {
  get(name: string): string | null;
}

interface ClientPrincipal {
  claims?: { typ?: string; val?: string }[];
  role_typ?: string;
  name_typ?: string;
}

const ROLE_CLAIMS = ["roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"];

/**
 * The caller, or the HTTP answer that refuses the request.
 *
 * @param headers - the request's headers.
 * @param need - what the route does.
 * @param inAzure - whether the app runs in Azure (`WEBSITE_INSTANCE_ID` is set).
 */
export function authorize(
  headers: HeaderSource,
  need: Need,
  inAzure: boolean,
): { caller: Caller } | { status: 401 | 403; error: string } {
  if (!inAzure) {
    return { caller: { name: "local operator", roles: [API_ROLES.read, API_ROLES.operate] } };
  }
  const encoded = headers.get("x-ms-client-principal");
  if (!encoded) {
    return {
      status: 401,
      error:
        "Sign in: the runs API needs a Microsoft Entra ID token (App Service authentication passed no caller).",
    };
  }
  const principal = decodePrincipal(encoded);
  if (!principal) {
    return { status: 401, error: "The caller could not be read from the platform's headers." };
  }
  const roleType = principal.role_typ ?? "roles";
  const roles = (principal.claims ?? [])
    .filter((c) => c.typ === roleType || ROLE_CLAIMS.includes(c.typ ?? ""))
    .map((c) => c.val ?? "");
  const caller: Caller = {
    objectId: headers.get("x-ms-client-principal-id") ?? undefined,
    name: headers.get("x-ms-client-principal-name") ?? "unknown caller",
    roles,
  };
  const allowed =
    need === "read"
      ? roles.includes(API_ROLES.read) || roles.includes(API_ROLES.operate)
      : roles.includes(API_ROLES.operate);
  if (!allowed) {
    const role = need === "read" ? API_ROLES.read : API_ROLES.operate;
    return {
      status: 403,
      error: `The caller needs the app role '${role}' of the runs API; an owner of its app registration grants it (see the README's security model).`,
    };
  }
  return { caller };
}

function decodePrincipal(encoded: string): ClientPrincipal | undefined {
  try {
    const value = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as unknown;
    return typeof value === "object" && value !== null ? (value as ClientPrincipal) : undefined;
  } catch {
    return undefined;
  }
}
