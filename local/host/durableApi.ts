/**
 * The Durable client API the host serves: the RPC endpoints `df.getClient(context)` calls under
 * `/durabletask/...` (its `rpcBaseUrl`), also served under `/runtime/webhooks/durabletask/...` for
 * the management links client functions hand out.
 *
 * - `POST orchestrators/{name}[/{instanceId}]` starts an instance;
 * - `GET instances/` lists, `DELETE instances/` purges by filter;
 * - `instances/{id}[/{action}[/{name}]]` is routed through {@link INSTANCE_ROUTES}; an action
 *   that has no route there (suspend, resume, rewind, restart) answers 501.
 */
import type * as http from "node:http";
import { managementPayload } from "./clientBinding.js";
import { readBody, sendJson, type HttpContext } from "./httpCommon.js";
import type { InstanceFilter, InstanceStatus, RuntimeStatus } from "./types.js";

const RUNTIME_STATUSES: RuntimeStatus[] = [
  "Pending",
  "Running",
  "Completed",
  "Failed",
  "Terminated",
  "ContinuedAsNew",
];

/** One parsed request to the Durable API. */
interface DurableRequest {
  ctx: HttpContext;
  req: http.IncomingMessage;
  res: http.ServerResponse;
  url: URL;
  method: string;
  /** Decoded path segments after the API prefix. */
  parts: string[];
  body: Buffer;
}

/** A route on one instance: `instances/{id}` plus an optional action segment. */
interface InstanceRoute {
  method: string;
  /** The segment after the id; undefined for the instance itself. */
  action?: string;
  /** The route needs a name segment after the action (the event name). */
  needsName?: boolean;
  handle(r: DurableRequest, id: string): void;
}

function truthy(v: string | null): boolean {
  return v !== null && v.toLowerCase() === "true";
}

/** Status code of a status reply, as the extension's HTTP API answers. */
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

/** Answers an engine operation that returns true, "gone" (instance finished) or false. */
function sendOutcome(r: DurableRequest, outcome: boolean | "gone", refusal: string): void {
  sendJson(
    r.res,
    outcome === true ? 202 : outcome === "gone" ? 410 : 404,
    outcome === true ? undefined : { message: refusal },
  );
}

function startOrchestration(r: DurableRequest): void {
  const text = r.body.toString("utf8");
  let input: unknown;
  if (text.trim().length > 0) {
    try {
      input = JSON.parse(text) as unknown;
    } catch {
      sendJson(r.res, 400, { message: "LocalHost: the request body is not valid JSON." });
      return;
    }
  }
  try {
    const id = r.ctx.engine.startNew(r.parts[1]!, r.parts[2], input);
    const payload = managementPayload(r.ctx.baseUrl(), r.ctx.taskHubName, id);
    sendJson(r.res, 202, payload, { Location: payload.statusQueryGetUri! });
  } catch (err) {
    sendJson(r.res, 409, { message: (err as Error).message });
  }
}

/** The `createdTimeFrom` and `createdTimeTo` bounds a list or purge query gives, as dates. */
function createdTimeRange(
  q: URLSearchParams,
): Pick<InstanceFilter, "createdTimeFrom" | "createdTimeTo"> {
  const from = q.get("createdTimeFrom");
  const to = q.get("createdTimeTo");
  return {
    ...(from ? { createdTimeFrom: new Date(from) } : {}),
    ...(to ? { createdTimeTo: new Date(to) } : {}),
  };
}

function listInstances(r: DurableRequest): void {
  const q = r.url.searchParams;
  const runtimeStatus = q.get("runtimeStatus");
  const all = r.ctx.engine.list({
    ...(runtimeStatus
      ? {
          runtimeStatus: runtimeStatus
            .split(",")
            .filter((s): s is RuntimeStatus => RUNTIME_STATUSES.includes(s as RuntimeStatus)),
        }
      : {}),
    ...createdTimeRange(q),
    ...(q.get("instanceIdPrefix") ? { instanceIdPrefix: q.get("instanceIdPrefix")! } : {}),
  });
  // Pages of `top` (default 100); the continuation token is the next offset, base64-encoded.
  const token = r.req.headers["x-ms-continuation-token"];
  const start =
    typeof token === "string" && token.length > 0
      ? Number(Buffer.from(token, "base64").toString("utf8")) || 0
      : 0;
  const top = Number(q.get("top") ?? "0");
  const size = top > 0 ? top : 100;
  const page = all.slice(start, start + size);
  const headers: Record<string, string> = {};
  if (start + size < all.length) {
    headers["x-ms-continuation-token"] = Buffer.from(String(start + size)).toString("base64");
  }
  sendJson(r.res, 200, page, headers);
}

function purgeInstances(r: DurableRequest): void {
  const q = r.url.searchParams;
  const runtimeStatus = q.get("runtimeStatus");
  const victims = r.ctx.engine.list({
    ...(runtimeStatus ? { runtimeStatus: runtimeStatus.split(",") as RuntimeStatus[] } : {}),
    ...createdTimeRange(q),
  });
  let deleted = 0;
  for (const v of victims) {
    deleted += r.ctx.engine.purge(v.instanceId) ? 1 : 0;
  }
  sendJson(r.res, deleted > 0 ? 200 : 404, { instancesDeleted: deleted });
}

function getInstance(r: DurableRequest, id: string): void {
  const status = r.ctx.engine.getStatus(
    id,
    truthy(r.url.searchParams.get("showHistory")),
    r.url.searchParams.get("showInput") !== "false",
  );
  if (!status) {
    sendJson(r.res, 404, { message: `LocalHost: no instance with id '${id}' exists.` });
    return;
  }
  sendJson(r.res, statusCodeOf(status), status);
}

function purgeInstance(r: DurableRequest, id: string): void {
  const existed = r.ctx.engine.purge(id);
  sendJson(r.res, existed ? 200 : 404, { instancesDeleted: existed ? 1 : 0 });
}

function raiseEvent(r: DurableRequest, id: string): void {
  const text = r.body.toString("utf8");
  let data: unknown;
  try {
    data = text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    sendJson(r.res, 400, { message: "LocalHost: the event payload is not valid JSON." });
    return;
  }
  const outcome = r.ctx.engine.raiseEvent(id, r.parts[3]!, data);
  sendOutcome(r, outcome, `LocalHost: instance '${id}' cannot receive events.`);
}

function terminateInstance(r: DurableRequest, id: string): void {
  const outcome = r.ctx.engine.terminate(id, r.url.searchParams.get("reason") ?? "");
  sendOutcome(r, outcome, `LocalHost: instance '${id}' cannot be terminated.`);
}

/** Routes on one instance; a new client operation (e.g. suspend) is one more entry. */
const INSTANCE_ROUTES: InstanceRoute[] = [
  { method: "GET", handle: getInstance },
  { method: "DELETE", handle: purgeInstance },
  { method: "POST", action: "raiseEvent", needsName: true, handle: raiseEvent },
  { method: "POST", action: "terminate", handle: terminateInstance },
];

/**
 * Serves one request to the Durable API.
 *
 * @param ctx - host context
 * @param req - the request
 * @param res - the response
 * @param url - parsed request URL
 * @param rest - the path after the API prefix
 */
export async function handleDurable(
  ctx: HttpContext,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  rest: string,
): Promise<void> {
  const method = (req.method ?? "GET").toUpperCase();
  const parts = rest
    .split("/")
    .filter((x) => x.length > 0)
    .map(decodeURIComponent);
  const r: DurableRequest = { ctx, req, res, url, method, parts, body: await readBody(req) };
  if (parts[0] === "orchestrators" && method === "POST" && parts.length >= 2) {
    startOrchestration(r);
    return;
  }
  if (parts[0] !== "instances") {
    sendJson(res, 404, { message: `LocalHost: no durable API at '${url.pathname}'.` });
    return;
  }
  const id = parts[1];
  if (id === undefined) {
    if (method === "GET") {
      listInstances(r);
    } else if (method === "DELETE") {
      purgeInstances(r);
    } else {
      sendJson(res, 405, {
        message: `LocalHost: method '${method}' is not allowed on the instance collection.`,
      });
    }
    return;
  }
  const action = parts[2];
  const route = INSTANCE_ROUTES.find(
    (x) => x.method === method && x.action === action && (!x.needsName || parts[3]),
  );
  if (route) {
    route.handle(r, id);
    return;
  }
  sendJson(res, 501, {
    message: `LocalHost: '${action ?? method}' is not supported by the local host.`,
  });
}
