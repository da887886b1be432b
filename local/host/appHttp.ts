/**
 * The app's own HTTP functions under `/api/...`: their routes (Functions route templates), which
 * function a request reaches, and turning the request into the worker's HTTP trigger data and
 * the function's answer back into a response.
 */
import type * as http from "node:http";
import { invokeClientFunction } from "./clientBinding.js";
import { readBody, sendJson, type HttpContext } from "./httpCommon.js";
import { registeredFunctions, type RegisteredFunction, type RpcTypedData } from "./registry.js";

/** A registered HTTP route of the app. */
export interface HttpRoute {
  functionName: string;
  route: string;
  methods: string[];
  /** Recorded only: the local host does not check keys. */
  authLevel: string;
}

/** HTTP routes of every registered HTTP-triggered function. */
export function httpRoutes(): HttpRoute[] {
  return registeredFunctions()
    .filter((f) => f.trigger === "httpTrigger")
    .map((f) => {
      const b = f.metadata.bindings[f.triggerBindingName]!;
      return {
        functionName: f.name,
        route: (b.route ?? f.name).replace(/^\/+|\/+$/g, ""),
        methods: (b.methods ?? ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]).map(
          (m) => m.toUpperCase(),
        ),
        authLevel: b.authLevel ?? "function",
      };
    });
}

/**
 * Matches a request path against a Functions route template (`{id}`, `{id?}`, `{id:int}`,
 * `{*rest}`).
 *
 * @param template - route template without the `api/` prefix
 * @param pathname - request path without the `api/` prefix
 * @returns the route parameters, or undefined when it does not match
 */
export function matchRoute(template: string, pathname: string): Record<string, string> | undefined {
  const t = template.split("/").filter((x) => x.length > 0);
  const p = pathname.split("/").filter((x) => x.length > 0);
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!;
    const m = /^\{(\*)?([A-Za-z0-9_]+)(?::[^}?]+)?(\?)?\}$/.exec(seg);
    if (!m) {
      if (p[i]?.toLowerCase() !== seg.toLowerCase()) {
        return undefined;
      }
      continue;
    }
    const [, star, name, optional] = m;
    if (star) {
      params[name!] = p.slice(i).map(decodeURIComponent).join("/");
      return params;
    }
    if (p[i] === undefined) {
      if (optional) {
        continue;
      }
      return undefined;
    }
    params[name!] = decodeURIComponent(p[i]!);
  }
  return p.length <= t.length ? params : undefined;
}

/** The first registered function whose route and methods match, with its route parameters. */
function findHttpFunction(
  method: string,
  rest: string,
): { fn: RegisteredFunction; params: Record<string, string> } | undefined {
  for (const r of httpRoutes()) {
    const params = matchRoute(r.route, rest);
    if (params && r.methods.includes(method)) {
      const fn = registeredFunctions().find((f) => f.name === r.functionName)!;
      return { fn, params };
    }
  }
  return undefined;
}

function httpTrigger(
  req: http.IncomingMessage,
  method: string,
  url: URL,
  params: Record<string, string>,
  body: Buffer,
): RpcTypedData {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) {
      headers[k] = Array.isArray(v) ? v.join(", ") : v;
    }
  }
  const query: Record<string, string> = {};
  url.searchParams.forEach((v, k) => {
    query[k] = v;
  });
  return { http: { method, url: url.href, headers, query, params, body: { bytes: body } } };
}

function writeResponse(res: http.ServerResponse, out: RpcTypedData | null | undefined): void {
  const h = out?.http;
  if (!h) {
    res.writeHead(204);
    res.end();
    return;
  }
  const payload = h.body?.bytes
    ? Buffer.from(h.body.bytes)
    : Buffer.from(h.body?.string ?? "", "utf8");
  res.writeHead(Number(h.statusCode ?? 200), h.headers ?? {});
  res.end(payload);
}

/**
 * Serves one request to the app's HTTP functions.
 *
 * @param ctx - host context
 * @param req - the request
 * @param res - the response
 * @param url - parsed request URL
 * @param rest - the path after `/api`
 */
export async function handleApi(
  ctx: HttpContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  rest: string,
): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const matched = findHttpFunction(method, rest);
  if (!matched) {
    sendJson(res, 404, {
      message: `LocalHost: no HTTP function matches '${method} ${url.pathname}'.`,
    });
    return;
  }
  const trigger = httpTrigger(req, method, url, matched.params, await readBody(req));
  let out: RpcTypedData | null | undefined;
  try {
    out = await invokeClientFunction(ctx, matched.fn, trigger);
  } catch (err) {
    ctx.logger.error(
      `LocalHost: HTTP function '${matched.fn.name}' failed: ${(err as Error).message}.`,
    );
    sendJson(res, 500, { message: `LocalHost: function '${matched.fn.name}' failed.` });
    return;
  }
  writeResponse(res, out);
}
