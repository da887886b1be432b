/**
 * `POST /$batch`: at most 20 items with unique ids, relative urls, `dependsOn` (a failed
 * dependency gives 424; cycles and unknown ids are refused), each item evaluated on its own
 * (auth of the envelope, then quota, faults and latency per item) and answered in completion order.
 */
import type { RouteKind } from "../config.js";
import type { MetricsCollector } from "../metrics.js";
import { splitPath, type GraphRequest } from "../request.js";
import {
  GraphHttpError,
  ODATA_JSON,
  errorResponse,
  newRequestId,
  type GraphResponse,
} from "../response.js";
import type { TokenClaims } from "../tokens.js";
import type { Outcome } from "./context.js";

/** What the batch handler needs from the engine. */
export interface BatchRunner {
  metrics: MetricsCollector;
  /** Validates the envelope's bearer token. */
  authenticate(authorization: string | undefined): TokenClaims | GraphHttpError;
  /** Answers one item like a top-level request, with the envelope's claims and no reset. */
  process(
    req: GraphRequest,
    segs: string[],
    claims: TokenClaims,
  ): Promise<Outcome & { kind: RouteKind }>;
  /** Records an answered request in the metrics and returns its answer. */
  finish(kind: RouteKind, response: GraphResponse, write: boolean): GraphResponse;
}

interface BatchItem {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string | undefined>;
  body?: unknown;
  dependsOn: string[];
}

interface ItemResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

const UNREADABLE_JSON =
  "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.";

/**
 * Answers a `$batch` envelope.
 *
 * @param runner - the engine's item processing, auth and metrics
 * @param req - the envelope
 * @param version - `v1.0` or `beta` (anything else is a 400)
 * @returns the envelope's answer: 200 with `responses`, or the envelope's own error
 */
export async function handleBatch(
  runner: BatchRunner,
  req: GraphRequest,
  version: string,
): Promise<GraphResponse> {
  const requestId = newRequestId();
  const clientRequestId = req.headers["client-request-id"];
  runner.metrics.recordBatch();
  const parsed = parseEnvelope(runner, req, version);
  if (parsed instanceof GraphHttpError) {
    return errorResponse(
      parsed.status,
      parsed.code,
      parsed.message,
      requestId,
      clientRequestId,
      parsed.headers,
    );
  }
  const { items, claims } = parsed;
  const runOne = (p: BatchItem): Promise<GraphResponse> =>
    runItem(runner, p, version, claims, req.headers.authorization);
  const responses = await runInDependencyOrder(runner, items, runOne);
  return {
    status: 200,
    headers: {
      "Content-Type": ODATA_JSON,
      "request-id": requestId,
      "client-request-id": clientRequestId ?? requestId,
    },
    body: { responses },
  };
}

/** Checks the envelope (version, method, token, body) and parses its items. */
function parseEnvelope(
  runner: BatchRunner,
  req: GraphRequest,
  version: string,
): { items: BatchItem[]; claims: TokenClaims } | GraphHttpError {
  const bad = (message: string): GraphHttpError => new GraphHttpError(400, "BadRequest", message);
  if (version !== "v1.0" && version !== "beta") {
    return bad(`Invalid version: ${version}`);
  }
  if (req.method.toUpperCase() !== "POST") {
    return new GraphHttpError(
      405,
      "Request_BadRequest",
      "Specified HTTP method is not allowed for the request target.",
      { Allow: "POST" },
    );
  }
  const claims = runner.authenticate(req.headers.authorization);
  if (claims instanceof GraphHttpError) {
    return claims;
  }
  if (req.bodyMalformed || req.body === undefined) {
    return bad(UNREADABLE_JSON);
  }
  const body = req.body as { requests?: unknown };
  if (typeof body !== "object" || body === null || !Array.isArray(body.requests)) {
    return bad("Invalid batch payload format.");
  }
  const raw = body.requests as unknown[];
  if (raw.length === 0) {
    return bad(
      "Invalid batch payload format. The batch request must contain at least one request.",
    );
  }
  if (raw.length > 20) {
    return bad("The number of requests in a batch exceeds the limit of 20.");
  }
  const items = parseItems(raw);
  if (typeof items === "string") {
    return bad(items);
  }
  const dependencyError = checkDependencies(items);
  return dependencyError === undefined ? { items, claims } : bad(dependencyError);
}

/** Parses the items; a string is the message of the envelope's 400. */
function parseItems(raw: unknown[]): BatchItem[] | string {
  const parsed: BatchItem[] = [];
  const ids = new Set<string>();
  for (const item of raw) {
    if (typeof item !== "object" || item === null) {
      return "Invalid batch payload format.";
    }
    const r = item as Record<string, unknown>;
    if (
      typeof r.id !== "string" ||
      r.id === "" ||
      typeof r.method !== "string" ||
      typeof r.url !== "string"
    ) {
      return "Invalid batch payload format. Each request needs string 'id', 'method' and 'url'.";
    }
    if (ids.has(r.id.toLowerCase())) {
      return `Batch request ids must be unique; '${r.id}' is repeated.`;
    }
    ids.add(r.id.toLowerCase());
    const headers = parseItemHeaders(r);
    if (typeof headers === "string") {
      return headers;
    }
    if (
      r.dependsOn !== undefined &&
      (!Array.isArray(r.dependsOn) || !r.dependsOn.every((d) => typeof d === "string"))
    ) {
      return `Invalid batch payload format. 'dependsOn' of request '${r.id}' must be an array of ids.`;
    }
    const dependsOn = (r.dependsOn as string[] | undefined) ?? [];
    parsed.push({ id: r.id, method: r.method, url: r.url, headers, body: r.body, dependsOn });
  }
  return parsed;
}

function parseItemHeaders(r: Record<string, unknown>): Record<string, string | undefined> | string {
  const headers: Record<string, string | undefined> = {};
  if (r.headers === undefined) {
    return headers;
  }
  if (typeof r.headers !== "object" || r.headers === null || Array.isArray(r.headers)) {
    return `Invalid batch payload format. The headers of request '${String(r.id)}' must be an object.`;
  }
  for (const [k, v] of Object.entries(r.headers as Record<string, unknown>)) {
    headers[k.toLowerCase()] = String(v);
  }
  return headers;
}

/** Refuses unknown or self dependencies and cycles, which would otherwise wait forever. */
function checkDependencies(items: BatchItem[]): string | undefined {
  const byId = new Map(items.map((p) => [p.id.toLowerCase(), p]));
  for (const p of items) {
    for (const d of p.dependsOn) {
      if (!byId.has(d.toLowerCase()) || d.toLowerCase() === p.id.toLowerCase()) {
        return `Request '${p.id}' depends on '${d}', which is not a request of this batch.`;
      }
    }
  }
  const state = new Map<string, number>();
  const cyclic = (id: string): boolean => {
    const s = state.get(id);
    if (s === 1) {
      return true;
    }
    if (s === 2) {
      return false;
    }
    state.set(id, 1);
    for (const d of byId.get(id)?.dependsOn ?? []) {
      if (cyclic(d.toLowerCase())) {
        return true;
      }
    }
    state.set(id, 2);
    return false;
  };
  return items.some((p) => cyclic(p.id.toLowerCase()))
    ? "The dependsOn chain of the batch contains a cycle."
    : undefined;
}

/** Runs every item once its dependencies are done; a failed dependency answers 424. */
async function runInDependencyOrder(
  runner: BatchRunner,
  items: BatchItem[],
  runOne: (p: BatchItem) => Promise<GraphResponse>,
): Promise<ItemResponse[]> {
  const byId = new Map(items.map((p) => [p.id.toLowerCase(), p]));
  const results = new Map<string, Promise<ItemResponse>>();
  const order: ItemResponse[] = [];
  const run = (p: BatchItem): Promise<ItemResponse> => {
    const existing = results.get(p.id.toLowerCase());
    if (existing) {
      return existing;
    }
    const promise = (async () => {
      for (const d of p.dependsOn) {
        const dep = await run(byId.get(d.toLowerCase()) as BatchItem);
        if (dep.status >= 400) {
          return failedDependency(runner, p, d);
        }
      }
      const res = await runOne(p);
      const item = {
        id: p.id,
        status: res.status,
        headers: res.headers,
        ...(res.body !== undefined ? { body: res.body } : {}),
      };
      order.push(item);
      return item;
    })();
    results.set(p.id.toLowerCase(), promise);
    return promise;
  };
  const all = await Promise.all(items.map((p) => run(p)));
  // Completion order, as Graph does not promise request order; 424s come last.
  return [...order, ...all.filter((a) => !order.includes(a))];
}

function failedDependency(runner: BatchRunner, p: BatchItem, dependency: string): ItemResponse {
  const failed = errorResponse(
    424,
    "FailedDependency",
    `The request depends on request '${dependency}', which failed.`,
    newRequestId(),
    p.headers["client-request-id"],
  );
  runner.metrics.record("batch", 424, false);
  return { id: p.id, status: 424, headers: failed.headers, body: failed.body };
}

/** Answers one item: relative url, body checks, then the engine's processing. */
async function runItem(
  runner: BatchRunner,
  p: BatchItem,
  version: string,
  claims: TokenClaims,
  authorization: string | undefined,
): Promise<GraphResponse> {
  const requestId = newRequestId();
  const clientRequestId = p.headers["client-request-id"];
  const bad = (message: string): GraphResponse => {
    runner.metrics.record("unknown", 400, false);
    return errorResponse(400, "BadRequest", message, requestId, clientRequestId);
  };
  if (/^[a-z]+:\/\//i.test(p.url)) {
    return bad("Batch request URLs must be relative, e.g. '/users'.");
  }
  if (p.body !== undefined && !p.headers["content-type"]) {
    return bad("A Content-Type header is required for a batch request with a body.");
  }
  const rel = p.url.startsWith("/") ? p.url : `/${p.url}`;
  const qi = rel.indexOf("?");
  const path = `/${version}${qi >= 0 ? rel.slice(0, qi) : rel}`;
  const query = new URLSearchParams(qi >= 0 ? rel.slice(qi + 1) : "");
  const segs = splitPath(path);
  if (segs instanceof GraphHttpError) {
    return bad(segs.message);
  }
  if (segs[1] === "$batch") {
    return bad("A batch request cannot contain another batch.");
  }
  let body = p.body;
  if (typeof body === "string" && (p.headers["content-type"] ?? "").includes("json")) {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      const unreadable = errorResponse(
        400,
        "BadRequest",
        UNREADABLE_JSON,
        requestId,
        clientRequestId,
      );
      return runner.finish("unknown", unreadable, false);
    }
  }
  const headers = { ...p.headers, authorization };
  const itemReq: GraphRequest = { method: p.method, path, query, headers, body };
  const { response, write, kind } = await runner.process(itemReq, segs, claims);
  delete response.headers["request-id"];
  delete response.headers["client-request-id"];
  return runner.finish(kind, response, write);
}
