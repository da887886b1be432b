/**
 * The App Service managed-identity endpoint (`GET /msi/token?resource=…&api-version=2019-08-01`
 * with `X-IDENTITY-HEADER`), which `ManagedIdentityCredential` finds through `IDENTITY_ENDPOINT`
 * and `IDENTITY_HEADER`.
 */
import type http from "node:http";
import { sendJson } from "./http.js";
import { GRAPH_RESOURCES, type TokenIssuer } from "./tokenIssuer.js";

/**
 * Answers a token request of the managed-identity protocol.
 *
 * @param issuer - issues the token (and knows the identity's client id)
 * @param identityHeader - the secret the caller must send
 * @param req - the incoming request
 * @param res - the response
 * @param url - the parsed request URL
 */
export function handleManagedIdentity(
  issuer: TokenIssuer,
  identityHeader: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): void {
  const refusal = checkRequest(issuer, identityHeader, req, url);
  if (refusal) {
    sendJson(res, refusal.statusCode, refusal);
    return;
  }
  const { token, expiresOn } = issuer.issueConfigured();
  sendJson(res, 200, {
    access_token: token,
    expires_on: String(expiresOn),
    resource: url.searchParams.get("resource"),
    token_type: "Bearer",
    client_id: issuer.appId,
  });
}

/** The endpoint's error answer for a request it refuses, or undefined. */
function checkRequest(
  issuer: TokenIssuer,
  identityHeader: string,
  req: http.IncomingMessage,
  url: URL,
): { statusCode: number; message: string } | undefined {
  if ((req.method ?? "GET") !== "GET") {
    return { statusCode: 405, message: "The identity endpoint only answers GET." };
  }
  const secret = req.headers["x-identity-header"];
  if (secret === undefined || secret === "") {
    return { statusCode: 400, message: "The 'X-IDENTITY-HEADER' request header is missing." };
  }
  if (secret !== identityHeader) {
    return { statusCode: 401, message: "The 'X-IDENTITY-HEADER' value is not valid." };
  }
  const apiVersion = url.searchParams.get("api-version");
  if (apiVersion !== "2019-08-01") {
    return {
      statusCode: 400,
      message: `The api-version '${apiVersion ?? ""}' is not supported; use '2019-08-01'.`,
    };
  }
  const resource = url.searchParams.get("resource");
  if (!resource || !GRAPH_RESOURCES.has(resource)) {
    return {
      statusCode: 400,
      message: `AADSTS500011: The resource principal named '${resource ?? ""}' was not found in the tenant.`,
    };
  }
  const clientId = url.searchParams.get("client_id");
  if (clientId !== null && clientId.toLowerCase() !== issuer.appId) {
    return {
      statusCode: 400,
      message: `No managed identity with client id '${clientId}' is assigned to this resource.`,
    };
  }
  return undefined;
}
