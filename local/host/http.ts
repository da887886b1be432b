/**
 * Loopback HTTP front of the local host: the Durable RPC API that `df.getClient(context)` calls
 * (`/durabletask/...`, also served under `/runtime/webhooks/durabletask/...` for the management
 * links clients hand out), the app's HTTP functions under `/api/...`, and invocation of client
 * functions (HTTP and timer) with their `durableClient` input binding.
 */
import * as http from "node:http";
import type { Engine } from "./engine.js";
import {
  invokeFunction,
  registeredFunctions,
  type RegisteredFunction,
  type RpcTypedData,
} from "./registry.js";
import type { InstanceStatus, RuntimeStatus } from "./types.js";

const RUNTIME_STATUSES: RuntimeStatus[] = [
  "Pending",
  "Running",
  "Completed",
  "Failed",
  "Terminated",
  "ContinuedAsNew",
];

/** A registered HTTP route of the app. */
export interface HttpRoute {
  functionName: string;
  route: string;
  methods: string[];
  /** Recorded only: the local host does not check keys. */
  authLevel: string;
}

/** What the HTTP front needs from the host. */
export interface HttpContext {
  engine: Engine;
  taskHubName: string;
  baseUrl: () => string;
  logger: { error(m: string): void };
}

/**
 * The `durableClient` binding value the Durable extension hands to client functions.
 *
 * @param baseUrl - host base URL, e.g. `http://127.0.0.1:7071`
 * @param taskHubName - task hub name
 */
export function clientBindingData(baseUrl: string, taskHubName: string): Record<string, unknown> {
  const webhooks = `${baseUrl}/runtime/webhooks/durabletask`;
  const q = `taskHub=${encodeURIComponent(taskHubName)}&connection=Storage&code=local`;
  const inst = `${webhooks}/instances/INSTANCEID`;
  return {
    taskHubName,
    creationUrls: {
      createNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?${q}`,
      createAndWaitOnNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${q}`,
    },
    managementUrls: {
      id: "INSTANCEID",
      statusQueryGetUri: `${inst}?${q}`,
      sendEventPostUri: `${inst}/raiseEvent/{eventName}?${q}`,
      terminatePostUri: `${inst}/terminate?reason={text}&${q}`,
      rewindPostUri: `${inst}/rewind?reason={text}&${q}`,
      purgeHistoryDeleteUri: `${inst}?${q}`,
      restartPostUri: `${inst}/restart?${q}`,
      suspendPostUri: `${inst}/suspend?reason={text}&${q}`,
      resumePostUri: `${inst}/resume?reason={text}&${q}`,
    },
    baseUrl: webhooks,
    requiredQueryStringParameters: "code=local",
    rpcBaseUrl: `${baseUrl}/durabletask/`,
    httpBaseUrl: webhooks,
  };
}

function managementPayload(
  baseUrl: string,
  taskHubName: string,
  id: string,
): Record<string, string> {
  const urls = clientBindingData(baseUrl, taskHubName).managementUrls as Record<string, string>;
  const out: Record<string, string> = { id };
  for (const [k, v] of Object.entries(urls)) {
    if (k !== "id") {
      out[k] = v.replace("INSTANCEID", encodeURIComponent(id));
    }
  }
  return out;
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

function clientBindingName(fn: RegisteredFunction): string | undefined {
  return Object.entries(fn.metadata.bindings).find(
    ([, b]) =>
      b.direction === "in" && (b.type === "durableClient" || b.type === "orchestrationClient"),
  )?.[0];
}

/**
 * Invokes a client function (HTTP or timer) through the worker invocation model, adding the
 * `durableClient` binding value when the function declares one.
 *
 * @param ctx - host context
 * @param fn - the function
 * @param trigger - RPC data of the trigger
 */
export async function invokeClientFunction(
  ctx: HttpContext,
  fn: RegisteredFunction,
  trigger: RpcTypedData,
): Promise<RpcTypedData | null | undefined> {
  const inputs: Record<string, RpcTypedData | undefined> = { [fn.triggerBindingName]: trigger };
  const clientName = clientBindingName(fn);
  if (clientName) {
    inputs[clientName] = {
      string: JSON.stringify(clientBindingData(ctx.baseUrl(), ctx.taskHubName)),
    };
  }
  const response = await invokeFunction(fn, inputs);
  return response.returnValue;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? "" : JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", ...headers });
  res.end(text);
}

function statusCodeOf(s: InstanceStatus): number {
  switch (s.runtimeStatus) {
    case "Completed":
      return 200;
    case "Failed":
    case "Terminated":
      return 400;
    default:
      return 202;
  }
}

function truthy(v: string | null): boolean {
  return v !== null && v.toLowerCase() === "true";
}

async function handleDurable(
  ctx: HttpContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  rest: string,
): Promise<void> {
  const engine = ctx.engine;
  const method = (req.method ?? "GET").toUpperCase();
  const parts = rest
    .split("/")
    .filter((x) => x.length > 0)
    .map(decodeURIComponent);
  const body = await readBody(req);
  if (parts[0] === "orchestrators" && method === "POST" && parts.length >= 2) {
    const text = body.toString("utf8");
    let input: unknown;
    if (text.trim().length > 0) {
      try {
        input = JSON.parse(text) as unknown;
      } catch {
        sendJson(res, 400, { message: "LocalHost: the request body is not valid JSON." });
        return;
      }
    }
    try {
      const id = engine.startNew(parts[1]!, parts[2], input);
      const payload = managementPayload(ctx.baseUrl(), ctx.taskHubName, id);
      sendJson(res, 202, payload, { Location: payload.statusQueryGetUri! });
    } catch (err) {
      sendJson(res, 409, { message: (err as Error).message });
    }
    return;
  }
  if (parts[0] !== "instances") {
    sendJson(res, 404, { message: `LocalHost: no durable API at '${url.pathname}'.` });
    return;
  }
  const id = parts[1];
  if (id === undefined && method === "GET") {
    const runtimeStatus = url.searchParams.get("runtimeStatus");
    const from = url.searchParams.get("createdTimeFrom");
    const to = url.searchParams.get("createdTimeTo");
    const all = engine.list({
      ...(runtimeStatus
        ? {
            runtimeStatus: runtimeStatus
              .split(",")
              .filter((s): s is RuntimeStatus => RUNTIME_STATUSES.includes(s as RuntimeStatus)),
          }
        : {}),
      ...(from ? { createdTimeFrom: new Date(from) } : {}),
      ...(to ? { createdTimeTo: new Date(to) } : {}),
      ...(url.searchParams.get("instanceIdPrefix")
        ? { instanceIdPrefix: url.searchParams.get("instanceIdPrefix")! }
        : {}),
    });
    const token = req.headers["x-ms-continuation-token"];
    const start =
      typeof token === "string" && token.length > 0
        ? Number(Buffer.from(token, "base64").toString("utf8")) || 0
        : 0;
    const top = Number(url.searchParams.get("top") ?? "0");
    const size = top > 0 ? top : 100;
    const page = all.slice(start, start + size);
    const headers: Record<string, string> = {};
    if (start + size < all.length) {
      headers["x-ms-continuation-token"] = Buffer.from(String(start + size)).toString("base64");
    }
    sendJson(res, 200, page, headers);
    return;
  }
  if (id === undefined && method === "DELETE") {
    const runtimeStatus = url.searchParams.get("runtimeStatus");
    const from = url.searchParams.get("createdTimeFrom");
    const to = url.searchParams.get("createdTimeTo");
    const victims = engine.list({
      ...(runtimeStatus ? { runtimeStatus: runtimeStatus.split(",") as RuntimeStatus[] } : {}),
      ...(from ? { createdTimeFrom: new Date(from) } : {}),
      ...(to ? { createdTimeTo: new Date(to) } : {}),
    });
    let deleted = 0;
    for (const v of victims) {
      deleted += engine.purge(v.instanceId) ? 1 : 0;
    }
    sendJson(res, deleted > 0 ? 200 : 404, { instancesDeleted: deleted });
    return;
  }
  if (id === undefined) {
    sendJson(res, 405, {
      message: `LocalHost: method '${method}' is not allowed on the instance collection.`,
    });
    return;
  }
  const action = parts[2];
  if (action === undefined && method === "GET") {
    const status = engine.getStatus(
      id,
      truthy(url.searchParams.get("showHistory")),
      url.searchParams.get("showInput") !== "false",
    );
    if (!status) {
      sendJson(res, 404, { message: `LocalHost: no instance with id '${id}' exists.` });
      return;
    }
    sendJson(res, statusCodeOf(status), status);
    return;
  }
  if (action === undefined && method === "DELETE") {
    const existed = engine.purge(id);
    sendJson(res, existed ? 200 : 404, { instancesDeleted: existed ? 1 : 0 });
    return;
  }
  if (action === "raiseEvent" && method === "POST" && parts[3]) {
    const text = body.toString("utf8");
    let data: unknown;
    try {
      data = text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      sendJson(res, 400, { message: "LocalHost: the event payload is not valid JSON." });
      return;
    }
    const r = engine.raiseEvent(id, parts[3], data);
    sendJson(
      res,
      r === true ? 202 : r === "gone" ? 410 : 404,
      r === true ? undefined : { message: `LocalHost: instance '${id}' cannot receive events.` },
    );
    return;
  }
  if (action === "terminate" && method === "POST") {
    const r = engine.terminate(id, url.searchParams.get("reason") ?? "");
    sendJson(
      res,
      r === true ? 202 : r === "gone" ? 410 : 404,
      r === true ? undefined : { message: `LocalHost: instance '${id}' cannot be terminated.` },
    );
    return;
  }
  sendJson(res, 501, {
    message: `LocalHost: '${action ?? method}' is not supported by the local host.`,
  });
}

async function handleApi(
  ctx: HttpContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  rest: string,
): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  let matched: { fn: RegisteredFunction; params: Record<string, string> } | undefined;
  for (const r of httpRoutes()) {
    const params = matchRoute(r.route, rest);
    if (params && r.methods.includes(method)) {
      const fn = registeredFunctions().find((f) => f.name === r.functionName)!;
      matched = { fn, params };
      break;
    }
  }
  if (!matched) {
    sendJson(res, 404, {
      message: `LocalHost: no HTTP function matches '${method} ${url.pathname}'.`,
    });
    return;
  }
  const body = await readBody(req);
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
  let out: RpcTypedData | null | undefined;
  try {
    out = await invokeClientFunction(ctx, matched.fn, {
      http: {
        method,
        url: url.href,
        headers,
        query,
        params: matched.params,
        body: { bytes: body },
      },
    });
  } catch (err) {
    ctx.logger.error(
      `LocalHost: HTTP function '${matched.fn.name}' failed: ${(err as Error).message}.`,
    );
    sendJson(res, 500, { message: `LocalHost: function '${matched.fn.name}' failed.` });
    return;
  }
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
 * Creates the loopback server.
 *
 * @param ctx - host context
 */
export function createHostServer(ctx: HttpContext): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", ctx.baseUrl());
    const p = url.pathname;
    let work: Promise<void>;
    if (p.startsWith("/durabletask/")) {
      work = handleDurable(ctx, req, res, url, p.slice("/durabletask/".length));
    } else if (p.startsWith("/runtime/webhooks/durabletask/")) {
      work = handleDurable(ctx, req, res, url, p.slice("/runtime/webhooks/durabletask/".length));
    } else if (p === "/api" || p.startsWith("/api/")) {
      work = handleApi(ctx, req, res, url, p.slice(4));
    } else {
      sendJson(res, 404, { message: `LocalHost: nothing is served at '${p}'.` });
      return;
    }
    work.catch((err: unknown) => {
      ctx.logger.error(
        `LocalHost: request '${req.method} ${p}' failed: ${(err as Error).message}.`,
      );
      if (!res.headersSent) {
        sendJson(res, 500, { message: "LocalHost: internal error." });
      } else {
        res.end();
      }
    });
  });
}
