/**
 * Loopback HTTP front of the local host: checks each request against the host's access rules
 * (`access.ts`), then routes it by its path prefix to the Durable client API (`durableApi.ts`) or
 * to the app's HTTP functions (`appHttp.ts`).
 */
import * as http from "node:http";
import { accessRefusal } from "./access.js";
import { handleApi } from "./appHttp.js";
import { handleDurable } from "./durableApi.js";
import { sendJson, type HttpContext } from "./httpCommon.js";

const DURABLE_PREFIXES = ["/durabletask/", "/runtime/webhooks/durabletask/"];

function route(
  ctx: HttpContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
): Promise<void> | undefined {
  const p = url.pathname;
  const durable = DURABLE_PREFIXES.find((prefix) => p.startsWith(prefix));
  if (durable) {
    return handleDurable(ctx, req, res, url, p.slice(durable.length));
  }
  if (p === "/api" || p.startsWith("/api/")) {
    return handleApi(ctx, req, res, url, p.slice(4));
  }
  return undefined;
}

/**
 * Creates the loopback server.
 *
 * @param ctx - host context
 */
export function createHostServer(ctx: HttpContext): http.Server {
  return http.createServer((req, res) => {
    const refusal = ctx.access ? accessRefusal(ctx.access, req) : undefined;
    if (refusal) {
      // The body is not read: close the connection rather than leave it half read.
      sendJson(
        res,
        refusal.status,
        { message: refusal.message },
        {
          Connection: "close",
          ...refusal.headers,
        },
      );
      return;
    }
    const url = new URL(req.url ?? "/", ctx.baseUrl());
    const work = route(ctx, req, res, url);
    if (!work) {
      sendJson(res, 404, { message: `LocalHost: nothing is served at '${url.pathname}'.` });
      return;
    }
    work.catch((err: unknown) => {
      ctx.logger.error(
        `LocalHost: request '${req.method} ${url.pathname}' failed: ${(err as Error).message}.`,
      );
      if (!res.headersSent) {
        sendJson(res, 500, { message: "LocalHost: internal error." });
      } else {
        res.end();
      }
    });
  });
}
