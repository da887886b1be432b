/**
 * What every HTTP route of the local host shares: the host context it serves from, reading a
 * request body, and writing a JSON response.
 */
import type * as http from "node:http";
import type { HostAccess } from "./access.js";
import type { Engine } from "./engine.js";

/** What the HTTP front and the client functions it invokes need from the host. */
export interface HttpContext {
  engine: Engine;
  taskHubName: string;
  baseUrl: () => string;
  logger: { error(m: string): void };
  /** What every request must bring; absent: the server answers any loopback caller. */
  access?: HostAccess;
}

/**
 * Reads a whole request body.
 *
 * @param req - the request
 */
export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/**
 * Writes a JSON response (an empty body when `body` is undefined).
 *
 * @param res - the response
 * @param status - HTTP status code
 * @param body - value to serialise
 * @param headers - extra headers
 */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
  res.end(text);
}
