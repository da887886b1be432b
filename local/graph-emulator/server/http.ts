/**
 * Plain Node http plumbing shared by the emulator's servers: reading bodies and headers, writing
 * Graph answers and JSON, listening and closing.
 */
import type http from "node:http";
import type { AddressInfo } from "node:net";
import type { GraphResponse } from "../response.js";

/** Largest request body read; a bigger one is treated as unreadable. */
const MAX_BODY = 4 * 1024 * 1024;

/**
 * The request headers with lower-case names, repeated ones joined.
 *
 * @param req - the incoming request
 */
export function headerMap(req: http.IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/**
 * Reads the whole body as UTF-8.
 *
 * @param req - the incoming request
 * @returns the body, or undefined when it is over 4 MiB or the stream fails
 */
export function readBody(req: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        tooBig = true;
      } else {
        chunks.push(c);
      }
    });
    req.on("end", () => resolve(tooBig ? undefined : Buffer.concat(chunks).toString("utf8")));
    req.on("error", () => resolve(undefined));
  });
}

/**
 * Writes a Graph answer, or resets the connection when the answer says so.
 *
 * @param res - the response
 * @param r - the answer
 */
export function send(res: http.ServerResponse, r: GraphResponse): void {
  if (r.reset) {
    res.socket?.destroy();
    return;
  }
  const payload = r.body === undefined ? undefined : JSON.stringify(r.body);
  const headers: Record<string, string | number> = { ...r.headers, Date: new Date().toUTCString() };
  if (payload !== undefined) {
    headers["Content-Length"] = Buffer.byteLength(payload);
  } else {
    headers["Content-Length"] = 0;
    delete headers["Content-Type"];
  }
  res.writeHead(r.status, headers);
  res.end(payload);
}

/**
 * Writes a JSON answer.
 *
 * @param res - the response
 * @param status - HTTP status
 * @param body - serialised as JSON
 */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

/**
 * Starts listening.
 *
 * @param server - the server
 * @param port - port, 0 for a random one
 * @param host - host to bind
 * @returns the port bound
 */
export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/**
 * Stops a server and drops its open connections.
 *
 * @param server - the server
 */
export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
