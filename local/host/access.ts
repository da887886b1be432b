/**
 * Who may talk to the host's HTTP server, when the host is started with `access`. Any web page
 * open in the user's browser can reach a loopback port: with a form post or a `no-cors` fetch
 * (cross-site request forgery), or by DNS rebinding a name of its own to 127.0.0.1. Three checks
 * shut those doors, in this order:
 *
 * - `loopbackOnly`: the `Host` header must be a loopback name with the server's port; a rebound
 *   name is not (answer 421);
 * - `token`: every request carries `Authorization: Bearer <token>`, which no page can know
 *   (answer 401);
 * - `jsonBodies`: a request with a body, or with a content type, must send `application/json`,
 *   which a page cannot send cross-site without a CORS preflight the host never grants
 *   (answer 415). A request without a body needs no content type.
 *
 * Callers in other processes read the token from {@link ACCESS_TOKEN_FILE} in the host's state
 * directory, which only the user can read.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import type * as http from "node:http";
import * as path from "node:path";

/** What the host's HTTP server requires of every request. */
export interface HostAccess {
  /** Every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** The `Host` header must be 127.0.0.1, localhost or [::1] with the server's port. */
  loopbackOnly?: boolean;
  /** A request body must be `application/json`. */
  jsonBodies?: boolean;
}

/** Why a request is refused: the status and a message that names what to send. */
export interface AccessRefusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** The file in the host's state directory that holds the token (mode 0600). */
export const ACCESS_TOKEN_FILE = "access-token";

/** The user name the host's own Durable client sends its token under (see `clientBinding.ts`). */
export const CLIENT_USER = "host";

const LOOPBACK_NAMES = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** A new random token: 256 bits, URL-safe (it travels in a header and in URL userinfo). */
export function newAccessToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * Writes the token where callers in other processes find it, readable and writable only by the
 * user. An old file is removed first: `mode` applies only when a file is created.
 *
 * @param stateDir - the host's state directory.
 * @param token - the token.
 * @returns the file's path.
 */
export async function writeAccessToken(stateDir: string, token: string): Promise<string> {
  const file = path.join(stateDir, ACCESS_TOKEN_FILE);
  await rm(file, { force: true });
  await writeFile(file, token, { mode: 0o600, flag: "wx" });
  return file;
}

/**
 * Removes the token file (the token dies with the host that made it).
 *
 * @param stateDir - the host's state directory.
 */
export async function removeAccessToken(stateDir: string): Promise<void> {
  await rm(path.join(stateDir, ACCESS_TOKEN_FILE), { force: true });
}

/** Compares in constant time, so the answer's timing tells nothing about the token. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Whether the `Authorization` header carries the token: as `Bearer <token>`, or as Basic with the
 * token as password. Basic is how the host's own Durable client sends it: `durable-functions`
 * takes no headers, so the token rides in the userinfo of the client's RPC base URL, which its
 * HTTP client sends as Basic.
 */
function carriesToken(header: string | undefined, token: string): boolean {
  const [scheme, value] = (header ?? "").trim().split(/\s+/, 2);
  if (value === undefined) {
    return false;
  }
  if (scheme!.toLowerCase() === "bearer") {
    return sameSecret(value, token);
  }
  if (scheme!.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    return colon >= 0 && sameSecret(decoded.slice(colon + 1), token);
  }
  return false;
}

/** Whether the `Host` header names this machine with the port the request came in on. */
function loopbackHost(req: http.IncomingMessage): boolean {
  const host = (req.headers.host ?? "").toLowerCase();
  const colon = host.lastIndexOf(":");
  if (colon < 0 || host.endsWith("]")) {
    return false;
  }
  return (
    LOOPBACK_NAMES.has(host.slice(0, colon)) &&
    host.slice(colon + 1) === String(req.socket.localPort)
  );
}

/** Whether the request has a body or says it has one, and whether that body is JSON. */
function nonJsonBody(req: http.IncomingMessage): boolean {
  const type = req.headers["content-type"];
  const length = Number(req.headers["content-length"] ?? "0");
  const hasBody = length > 0 || req.headers["transfer-encoding"] !== undefined;
  if (!hasBody && type === undefined) {
    return false;
  }
  return (type ?? "").split(";")[0]!.trim().toLowerCase() !== "application/json";
}

/**
 * Checks a request against the host's access rules.
 *
 * @param access - the rules the host was started with.
 * @param req - the request (only its headers and socket are read).
 * @returns why it is refused, or undefined when it may pass.
 */
export function accessRefusal(
  access: HostAccess,
  req: http.IncomingMessage,
): AccessRefusal | undefined {
  if (access.loopbackOnly && !loopbackHost(req)) {
    return {
      status: 421,
      message: "LocalHost: the Host header must be 127.0.0.1, localhost or [::1] with this port.",
    };
  }
  if (access.token !== undefined && !carriesToken(req.headers.authorization, access.token)) {
    return {
      status: 401,
      message:
        "LocalHost: send the host's token as 'Authorization: Bearer <token>' (printed at start, and in the access-token file of its state directory).",
      headers: { "WWW-Authenticate": 'Bearer realm="local host"' },
    };
  }
  if (access.jsonBodies && nonJsonBody(req)) {
    return {
      status: 415,
      message: "LocalHost: a request body must be sent as 'Content-Type: application/json'.",
    };
  }
  return undefined;
}
