/**
 * The Graph access layer: `@microsoft/microsoft-graph-client` with a token-credential auth
 * provider and our own middleware (retries, token refresh, timeout, CA), plus paging that keeps
 * the headers on every page and `$batch` with per-item results. Every failure comes out as a
 * {@link GraphRequestError}.
 */
import {
  AuthenticationHandler,
  Client,
  GraphError,
  type GraphRequest,
} from "@microsoft/microsoft-graph-client";
import { TokenCredentialAuthenticationProvider } from "@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js";
import { graphResource, type GraphCredential } from "./credentials.js";
import { GraphRequestError, routeOf } from "./errors.js";
import {
  FetchHandler,
  ResilienceHandler,
  parseRetryAfter,
  type ResilienceOptions,
  type RetryPolicy,
} from "./transport.js";

/** Options of {@link GraphAccess}. */
export interface GraphAccessOptions {
  /** Graph root without the version, e.g. `https://graph.microsoft.com`. */
  baseUrl: string;
  credential: GraphCredential;
  /** Extra CA (PEM) to trust, e.g. the local emulator's. */
  caPem?: string;
  /** API version (default `v1.0`). */
  version?: "v1.0" | "beta";
  retry?: Partial<RetryPolicy>;
  requestTimeoutMs?: number;
  connections?: number;
  onRetry?: ResilienceOptions["onRetry"];
  onResponse?: ResilienceOptions["onResponse"];
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/** One page of a collection. */
export interface Page<T> {
  value: T[];
  /** The opaque link to the next page, absent on the last page. */
  nextLink?: string;
  /** `@odata.count`, which Graph sends only on the first page of a counted query. */
  count?: number;
}

/** Extra request headers. */
export type Headers = Record<string, string>;

/** One request inside a `$batch`. */
export interface BatchRequest {
  id: string;
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** Relative to the version root, e.g. `/users/{id}/authentication/phoneMethods`. */
  url: string;
  body?: unknown;
  headers?: Headers;
  dependsOn?: string[];
}

/** One answer from a `$batch`, in the order of the requests. */
export interface BatchResult {
  id: string;
  status: number;
  headers: Headers;
  body?: unknown;
  /** Set when the status is not 2xx. */
  error?: GraphRequestError;
}

/** Graph's documented maximum of requests in one `$batch`. */
export const MAX_BATCH_SIZE = 20;

/**
 * Talks to Microsoft Graph (or anything that keeps its contract).
 */
export class GraphAccess {
  readonly client: Client;
  private readonly transport: FetchHandler;
  private readonly version: string;
  private readonly credential: GraphCredential;

  constructor(options: GraphAccessOptions) {
    this.credential = options.credential;
    const base = new URL(options.baseUrl);
    const scope = `${graphResource(options.baseUrl)}/.default`;
    this.version = options.version ?? "v1.0";
    const resilience = new ResilienceHandler({
      credential: options.credential,
      retry: options.retry,
      onRetry: options.onRetry,
      onResponse: options.onResponse,
      sleep: options.sleep,
      random: options.random,
    });
    const auth = new AuthenticationHandler(
      new TokenCredentialAuthenticationProvider(options.credential, { scopes: [scope] }),
    );
    this.transport = new FetchHandler({
      caPem: options.caPem,
      requestTimeoutMs: options.requestTimeoutMs,
      connections: options.connections,
    });
    resilience.setNext(auth);
    auth.setNext(this.transport);
    this.client = Client.initWithMiddleware({
      middleware: resilience,
      baseUrl: base.origin + base.pathname.replace(/\/+$/, ""),
      defaultVersion: this.version,
      // The client attaches the token only to known Graph hosts and these (host name, no port).
      customHosts: new Set([base.hostname]),
    });
  }

  /**
   * GET a path or an absolute URL (such as a next link).
   *
   * @param pathOrUrl - `/users/{id}` or `https://.../v1.0/users?$skiptoken=...`.
   * @param headers - extra headers, e.g. `ConsistencyLevel: eventual`.
   */
  async get<T>(pathOrUrl: string, headers: Headers = {}): Promise<T> {
    return this.send<T>("GET", pathOrUrl, undefined, headers);
  }

  /**
   * POST a JSON body.
   *
   * @param path - relative path.
   * @param body - JSON body.
   * @param headers - extra headers.
   */
  async post<T>(path: string, body: unknown, headers: Headers = {}): Promise<T> {
    return this.send<T>("POST", path, body, headers);
  }

  /**
   * PATCH a JSON body.
   *
   * @param path - relative path.
   * @param body - JSON body.
   * @param headers - extra headers.
   */
  async patch<T>(path: string, body: unknown, headers: Headers = {}): Promise<T> {
    return this.send<T>("PATCH", path, body, headers);
  }

  /**
   * DELETE a resource.
   *
   * @param path - relative path.
   * @param headers - extra headers.
   */
  async delete(path: string, headers: Headers = {}): Promise<void> {
    await this.send<unknown>("DELETE", path, undefined, headers);
  }

  /**
   * Fetches one page of a collection. Pass the first page's path with its query, then each
   * returned `nextLink` with the **same** headers: Graph does not carry `ConsistencyLevel` into
   * next links.
   *
   * @param pathOrNextLink - the first page's path or a next link.
   * @param headers - headers to send on this page.
   */
  async getPage<T>(pathOrNextLink: string, headers: Headers = {}): Promise<Page<T>> {
    const body = await this.get<{
      value?: T[];
      "@odata.nextLink"?: string;
      "@odata.count"?: number;
    }>(pathOrNextLink, headers);
    const page: Page<T> = { value: Array.isArray(body?.value) ? body.value : [] };
    if (typeof body?.["@odata.nextLink"] === "string") {
      page.nextLink = body["@odata.nextLink"];
    }
    if (typeof body?.["@odata.count"] === "number") {
      page.count = body["@odata.count"];
    }
    return page;
  }

  /**
   * Iterates all pages of a collection, sending the same headers on every page.
   *
   * @param path - the first page's path with its query.
   * @param headers - headers for every page.
   */
  async *pages<T>(path: string, headers: Headers = {}): AsyncGenerator<Page<T>> {
    let link: string | undefined = path;
    while (link !== undefined) {
      const page: Page<T> = await this.getPage<T>(link, headers);
      yield page;
      link = page.nextLink;
    }
  }

  /**
   * Sends up to 20 requests in one `$batch` and returns each item's own result, in request
   * order. The envelope is retried like any POST (only after a 429); items are not retried here:
   * each has its own status, `Retry-After` and error, for the caller to act on.
   *
   * @param requests - 1 to 20 requests with unique ids.
   */
  async batch(requests: BatchRequest[]): Promise<BatchResult[]> {
    if (requests.length === 0 || requests.length > MAX_BATCH_SIZE) {
      throw new RangeError(
        `GraphClient: a batch holds 1 to ${MAX_BATCH_SIZE} requests, not ${requests.length}.`,
      );
    }
    const ids = new Set(requests.map((r) => r.id));
    if (ids.size !== requests.length) {
      throw new RangeError("GraphClient: batch request ids must be unique.");
    }
    const payload = {
      requests: requests.map((r) => ({
        id: r.id,
        method: r.method,
        url: r.url,
        ...(r.body !== undefined
          ? { body: r.body, headers: { "Content-Type": "application/json", ...r.headers } }
          : r.headers
            ? { headers: r.headers }
            : {}),
        ...(r.dependsOn ? { dependsOn: r.dependsOn } : {}),
      })),
    };
    const response = await this.post<{ responses?: unknown }>("/$batch", payload);
    const answers = Array.isArray(response?.responses)
      ? (response.responses as RawBatchResponse[])
      : [];
    const byId = new Map(answers.map((a) => [String(a.id).toLowerCase(), a]));
    return requests.map((request) => {
      const answer = byId.get(request.id.toLowerCase());
      if (!answer) {
        return {
          id: request.id,
          status: 0,
          headers: {},
          error: new GraphRequestError({
            status: 0,
            code: "missingBatchResponse",
            graphMessage: "The batch answer has no response for this request",
            method: request.method,
            route: routeOf(request.url),
          }),
        };
      }
      const headers = lowerCaseKeys(answer.headers);
      const status = Number(answer.status);
      const result: BatchResult = { id: request.id, status, headers, body: answer.body };
      if (!(status >= 200 && status < 300)) {
        const error = (answer.body as { error?: GraphErrorBody } | undefined)?.error;
        result.error = new GraphRequestError({
          status,
          code: error?.code ?? `http${status}`,
          graphMessage: error?.message,
          requestId: error?.innerError?.["request-id"] ?? headers["request-id"],
          clientRequestId: error?.innerError?.["client-request-id"],
          retryAfterMs: parseRetryAfter(headers["retry-after"]),
          method: request.method,
          route: routeOf(request.url),
        });
      }
      return result;
    });
  }

  /**
   * Drops the cached token, so the next request carries a fresh one: what the transport does
   * after an outer 401, for callers that meet a 401 inside a `$batch` whose envelope passed.
   */
  refreshToken(): void {
    this.credential.invalidate();
  }

  /** Closes pooled connections. */
  async close(): Promise<void> {
    await this.transport.close();
  }

  private async send<T>(
    method: string,
    pathOrUrl: string,
    body: unknown,
    headers: Headers,
  ): Promise<T> {
    const request: GraphRequest = this.client.api(pathOrUrl).headers(headers);
    try {
      switch (method) {
        case "GET":
          return (await request.get()) as T;
        case "POST":
          return (await request.post(body)) as T;
        case "PATCH":
          return (await request.patch(body)) as T;
        default:
          return (await request.delete()) as T;
      }
    } catch (error) {
      throw toGraphRequestError(error, method, pathOrUrl);
    }
  }
}

interface GraphErrorBody {
  code?: string;
  message?: string;
  innerError?: { "request-id"?: string; "client-request-id"?: string };
}

interface RawBatchResponse {
  id: string | number;
  status: number | string;
  headers?: Record<string, string>;
  body?: unknown;
}

function lowerCaseKeys(headers: Record<string, string> | undefined): Headers {
  const out: Headers = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    out[key.toLowerCase()] = String(value);
  }
  return out;
}

/**
 * Turns whatever the Graph client threw into a {@link GraphRequestError}.
 *
 * @param error - a `GraphError`, a network error, or anything else.
 * @param method - the HTTP method.
 * @param pathOrUrl - the request path or URL (only its route is kept).
 */
export function toGraphRequestError(
  error: unknown,
  method: string,
  pathOrUrl: string,
): GraphRequestError {
  if (error instanceof GraphRequestError) {
    return error;
  }
  const route = routeOf(pathOrUrl);
  if (error instanceof GraphError && error.statusCode > 0) {
    const headers = error.headers as { get?(name: string): string | null } | undefined;
    let graphMessage: string | undefined = error.message || undefined;
    let clientRequestId: string | undefined;
    try {
      const parsed =
        typeof error.body === "string" ? (JSON.parse(error.body) as GraphErrorBody) : undefined;
      graphMessage = parsed?.message ?? graphMessage;
      clientRequestId = parsed?.innerError?.["client-request-id"];
    } catch {
      // A body that is not Graph's envelope: keep what the client parsed.
    }
    return new GraphRequestError(
      {
        status: error.statusCode,
        code: error.code ?? `http${error.statusCode}`,
        graphMessage,
        requestId: error.requestId ?? headers?.get?.("request-id") ?? undefined,
        clientRequestId: clientRequestId ?? headers?.get?.("client-request-id") ?? undefined,
        retryAfterMs: parseRetryAfter(headers?.get?.("retry-after")),
        method,
        route,
      },
      { cause: error },
    );
  }
  const cause = error instanceof GraphError ? (error.stack ?? error.message) : error;
  const name =
    error instanceof GraphError
      ? `${error.code ?? ""} ${String(error.body ?? "")}`
      : error instanceof Error
        ? `${error.name} ${error.message}`
        : String(error);
  const code = /timeout/i.test(name) ? "timeout" : "networkError";
  return new GraphRequestError(
    { status: 0, code, graphMessage: undefined, method, route },
    { cause },
  );
}
