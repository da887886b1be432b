/**
 * Entra ID's endpoints on the https port, for `ClientSecretCredential` and `DeviceCodeCredential`
 * with authorityHost = graphBaseUrl and `disableInstanceDiscovery`:
 * `GET /{tenant}/v2.0/.well-known/openid-configuration`, `POST /{tenant}/oauth2/v2.0/devicecode`
 * (server/deviceCode.ts) and `POST /{tenant}/oauth2/v2.0/token` with the client-credentials,
 * device-code and refresh-token grants.
 */
import type http from "node:http";
import type { DeviceCodeFlow } from "./deviceCode.js";
import { sendJson } from "./http.js";
import { oauthError as oauthAnswer, type OAuthAnswer } from "./oauth.js";
import { GRAPH_RESOURCES, type TokenIssuer } from "./tokenIssuer.js";

/** What the Entra endpoints need to know. */
export interface EntraContext {
  /** Tenant id; its domain is accepted in the path too. */
  tenantId: string;
  domain: string;
  clientSecret: string;
  issuer: TokenIssuer;
  /** Absolute https root, known once the server listens. */
  baseUrl: () => string;
  /** The device-code flow and the delegated tokens it issues. */
  deviceCodes: DeviceCodeFlow;
}

const ENTRA_PATH =
  /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|oauth2\/v2\.0\/devicecode)$/;

/** The device-code grant as RFC 8628 and Entra's docs name it, and as MSAL sends it. */
const DEVICE_CODE_GRANTS = new Set(["urn:ietf:params:oauth:grant-type:device_code", "device_code"]);

/**
 * Answers an Entra request, if the path is one.
 *
 * @param ctx - tenant, secret, issuer and base URL
 * @param req - the incoming request
 * @param res - the response
 * @param path - the path without the query
 * @param rawBody - the form body
 * @returns false when the path is not an Entra endpoint (nothing was written)
 */
export function handleEntra(
  ctx: EntraContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  path: string,
  rawBody: string,
): boolean {
  const m = ENTRA_PATH.exec(path);
  if (!m) {
    return false;
  }
  const tenant = decodeURIComponent(m[1] ?? "").toLowerCase();
  if (tenant !== ctx.tenantId.toLowerCase() && tenant !== ctx.domain.toLowerCase()) {
    oauthError(res, 400, "invalid_tenant", `AADSTS90002: Tenant '${tenant}' not found.`);
  } else if (m[2]?.startsWith("v2.0")) {
    sendJson(res, 200, openIdConfiguration(ctx));
  } else if ((req.method ?? "GET") !== "POST") {
    oauthError(
      res,
      405,
      "invalid_request",
      "AADSTS900561: The endpoint only accepts POST requests.",
    );
  } else {
    const answer = tokenOrDeviceCode(ctx, m[2] ?? "", new URLSearchParams(rawBody));
    if (answer) {
      sendJson(res, answer.status, answer.body);
    } else {
      clientCredentials(ctx, res, new URLSearchParams(rawBody));
    }
  }
  return true;
}

/** The device-code endpoint and the token endpoint's user grants; undefined for the others. */
function tokenOrDeviceCode(
  ctx: EntraContext,
  endpoint: string,
  form: URLSearchParams,
): OAuthAnswer | undefined {
  if (endpoint.endsWith("devicecode")) {
    return ctx.deviceCodes.authorize(form);
  }
  const grant = form.get("grant_type");
  if (grant !== null && DEVICE_CODE_GRANTS.has(grant)) {
    return ctx.deviceCodes.redeem(form);
  }
  return grant === "refresh_token" ? ctx.deviceCodes.refresh(form) : undefined;
}

function oauthError(
  res: http.ServerResponse,
  status: number,
  error: string,
  description: string,
): void {
  const answer = oauthAnswer(status, error, description);
  sendJson(res, answer.status, answer.body);
}

function openIdConfiguration(ctx: EntraContext): Record<string, unknown> {
  const authority = `${ctx.baseUrl()}/${ctx.tenantId}`;
  return {
    token_endpoint: `${authority}/oauth2/v2.0/token`,
    authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
    end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
    device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
    issuer: `${ctx.baseUrl()}/${ctx.tenantId}/v2.0`,
    jwks_uri: `${authority}/discovery/v2.0/keys`,
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    token_endpoint_auth_methods_supported: [
      "client_secret_post",
      "private_key_jwt",
      "client_secret_basic",
    ],
    tenant_region_scope: "EU",
  };
}

function clientCredentials(
  ctx: EntraContext,
  res: http.ServerResponse,
  form: URLSearchParams,
): void {
  if (form.get("grant_type") !== "client_credentials") {
    oauthError(
      res,
      400,
      "unsupported_grant_type",
      "AADSTS70003: The app requested an unsupported grant type.",
    );
    return;
  }
  const scope = form.get("scope") ?? "";
  const forGraph = scope
    .split(" ")
    .some((sc) => GRAPH_RESOURCES.has(sc) || sc === "https://graph.microsoft.com//.default");
  if (!forGraph) {
    oauthError(
      res,
      400,
      "invalid_scope",
      `AADSTS1002012: The provided value for scope '${scope}' is not valid.`,
    );
    return;
  }
  if ((form.get("client_id") ?? "").toLowerCase() !== ctx.issuer.appId) {
    oauthError(
      res,
      400,
      "unauthorized_client",
      `AADSTS700016: Application with identifier '${form.get("client_id") ?? ""}' was not found in the directory.`,
    );
    return;
  }
  if (form.get("client_secret") !== ctx.clientSecret) {
    oauthError(res, 401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
    return;
  }
  const { token, expiresOn } = ctx.issuer.issueConfigured();
  const expiresIn = Math.max(1, expiresOn - Math.floor(Date.now() / 1000));
  sendJson(res, 200, {
    token_type: "Bearer",
    expires_in: expiresIn,
    ext_expires_in: expiresIn,
    access_token: token,
  });
}
