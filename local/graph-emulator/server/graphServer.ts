/**
 * The https server of Graph: parses each request into a {@link GraphRequest}, lets the Entra
 * endpoints answer theirs, and hands the rest to the engine.
 */
import { randomUUID } from "node:crypto";
import type http from "node:http";
import https from "node:https";
import type { GraphEngine } from "../engine.js";
import type { GraphRequest } from "../request.js";
import { handleEntra, type EntraContext } from "./entra.js";
import { headerMap, readBody, send, sendJson } from "./http.js";

/**
 * Creates (does not start) the Graph server.
 *
 * @param tls - key and certificate (PEM)
 * @param engine - answers Graph requests
 * @param entra - the client-credentials endpoints' context
 */
export function createGraphServer(
  tls: { keyPem: string; certPem: string },
  engine: GraphEngine,
  entra: EntraContext,
): https.Server {
  const server = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    void serve(req, res, engine, entra);
  });
  server.keepAliveTimeout = 30_000;
  return server;
}

async function serve(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  engine: GraphEngine,
  entra: EntraContext,
): Promise<void> {
  try {
    const raw = await readBody(req);
    const gr = parseRequest(req, raw);
    if (handleEntra(entra, req, res, gr.path, raw ?? "")) {
      return;
    }
    send(res, await engine.handle(gr));
  } catch (e) {
    // Last resort: the engine answers errors itself, so this only guards socket failures.
    if (!res.headersSent) {
      res.setHeader("request-id", randomUUID());
      sendJson(res, 500, {
        error: {
          code: "UnknownError",
          message: `GraphEmulator: internal error: ${e instanceof Error ? e.message : String(e)}`,
          innerError: {
            date: new Date().toISOString(),
            "request-id": randomUUID(),
            "client-request-id": randomUUID(),
          },
        },
      });
    }
  }
}

/** The request as the engine sees it; a body that is too big or not JSON is marked malformed. */
function parseRequest(req: http.IncomingMessage, raw: string | undefined): GraphRequest {
  const url = req.url ?? "/";
  const qi = url.indexOf("?");
  const gr: GraphRequest = {
    method: req.method ?? "GET",
    path: qi >= 0 ? url.slice(0, qi) : url,
    query: new URLSearchParams(qi >= 0 ? url.slice(qi + 1) : ""),
    headers: headerMap(req),
  };
  if (raw === undefined) {
    gr.bodyMalformed = true;
  } else if (raw.trim() !== "") {
    try {
      gr.body = JSON.parse(raw) as unknown;
    } catch {
      gr.bodyMalformed = true;
    }
  }
  return gr;
}
