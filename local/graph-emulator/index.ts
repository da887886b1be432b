/**
 * Offline Microsoft Graph emulator: Graph over https, the App Service managed-identity endpoint
 * and a small admin API over plain http on loopback.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTlsMaterial } from "./certs.js";
import { PROFILES, mergeConfig, type EmulatorConfig } from "./config.js";
import { GraphEngine, type GraphRequest } from "./graph.js";
import { MetricsCollector, type EmulatorMetrics } from "./metrics.js";
import { PHONE_TYPES, TenantStore } from "./store.js";
import { TokenAuthority } from "./tokens.js";
import type { GraphResponse } from "./response.js";
import type { FixtureUser, TenantFixture } from "./tenant/types.js";

export { PROFILES, mergeConfig } from "./config.js";
export type {
  ConfiguredError,
  EmulatorConfig,
  LatencyDistribution,
  RouteKind,
  StormConfig,
} from "./config.js";
export type { EmulatorMetrics, MetricsSecond, RouteMetrics } from "./metrics.js";
export { PHONE_METHOD_IDS, PASSWORD_METHOD_ID } from "./store.js";

/** Options of `startEmulator`. */
export interface EmulatorOptions {
  /** The tenant to serve. */
  tenant: TenantFixture;
  /** Named profile; default `fast`. */
  profile?: "fast" | "realistic" | "hostile";
  /** Overrides on top of the profile. */
  config?: Partial<EmulatorConfig>;
  /** Host to listen on; default `127.0.0.1`. */
  host?: string;
  /** Port of the https Graph server; default 0 (random). */
  port?: number;
  /** Port of the plain-http identity and admin server; default 0 (random). */
  identityPort?: number;
}

/** What `GET {adminUrl}/state` returns. */
export interface EmulatorState {
  users: {
    id: string;
    userPrincipalName: string;
    phoneMethods: { phoneType: string; phoneNumber: string }[];
  }[];
}

/** A running emulator. */
export interface EmulatorHandle {
  /** `https://127.0.0.1:N`; clients append `/v1.0`. */
  graphBaseUrl: string;
  /** `http://127.0.0.1:M/msi/token` (App Service managed-identity protocol). */
  identityEndpoint: string;
  /** Secret expected in `X-IDENTITY-HEADER`. */
  identityHeader: string;
  /** `http://127.0.0.1:M/admin`. */
  adminUrl: string;
  /** PEM file of the CA that signed the https certificate. */
  caCertPath: string;
  /** The same CA as PEM text. */
  caCertPem: string;
  /** Tenant id of the fixture. */
  tenantId: string;
  /** Client id the managed-identity tokens are issued for. */
  appId: string;
  /**
   * Client secret of `appId` for the client-credentials endpoint
   * (`POST {graphBaseUrl}/{tenantId}/oauth2/v2.0/token`, authority host = `graphBaseUrl`).
   */
  clientSecret: string;
  /** Current effective config (a copy; change it with `setConfig`). */
  readonly config: EmulatorConfig;
  /**
   * Changes the config at runtime. A change of a quota, its window or `timeScale` starts the
   * quota buckets over, full.
   *
   * @param patch - keys to override
   */
  setConfig(patch: Partial<EmulatorConfig>): void;
  /**
   * Issues a token directly (for tests).
   *
   * @param opts - roles (default: `grantedRoles`) and real lifetime in seconds (default: the
   *   configured, scaled lifetime)
   */
  issueToken(opts?: { roles?: string[]; lifetimeSeconds?: number }): string;
  /** Every token issued so far now gets 401 InvalidAuthenticationToken. */
  revokeAllTokens(): void;
  /** Users and their phone methods. */
  state(): EmulatorState;
  /** Metrics since start or the last reset. */
  metrics(): EmulatorMetrics;
  /** Starts metrics over. */
  resetMetrics(): void;
  /**
   * Creates or updates a user (restoring a soft-deleted one); changed directory properties are
   * reported by `/users/delta`. Also `POST {adminUrl}/users` with the user as JSON.
   *
   * @param user - a user in the tenant-fixture shape; phone and other methods, when listed,
   *   replace the user's methods without surfacing in delta
   * @returns whether the user was created rather than updated
   * @throws TenantFixtureError when the user does not match the fixture schema
   */
  upsertUser(user: FixtureUser): { created: boolean };
  /**
   * Deletes a user: soft (delta reports `@removed.reason` `changed`) or, with `hard`, for good
   * (`deleted`). Also `DELETE {adminUrl}/users/{id}[?hard=true]`.
   *
   * @param id - user object id
   * @param opts - `hard: true` for a permanent delete
   * @returns false when there is no such user
   */
  deleteUser(id: string, opts?: { hard?: boolean }): boolean;
  /** Stops both servers and removes the CA file. */
  close(): Promise<void>;
}

const MAX_BODY = 4 * 1024 * 1024;

function headerMap(req: http.IncomingMessage): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

function readBody(req: http.IncomingMessage): Promise<string | undefined> {
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

function send(res: http.ServerResponse, r: GraphResponse): void {
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

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(payload),
  });
  res.end(payload);
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const GRAPH_RESOURCES = new Set([
  "https://graph.microsoft.com",
  "https://graph.microsoft.com/",
  "https://graph.microsoft.com/.default",
]);

/**
 * Starts the emulator.
 *
 * @param options - tenant, profile, config overrides, host and port
 * @returns a handle with the URLs, secrets and controls
 */
export async function startEmulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  const host = options.host ?? "127.0.0.1";
  const profileName = options.profile ?? "fast";
  const profile = PROFILES[profileName];
  if (!profile) {
    throw new TypeError(`GraphEmulator: unknown profile '${String(profileName)}'.`);
  }
  let config = mergeConfig(profile, options.config ?? {});
  const store = new TenantStore(options.tenant);
  const tokens = new TokenAuthority(store.tenantId);
  const metrics = new MetricsCollector();
  const appId = randomUUID();
  const identityHeader = randomBytes(24).toString("base64url");
  const tls = await createTlsMaterial(host);
  const dir = mkdtempSync(join(tmpdir(), "graph-emulator-"));
  const caCertPath = join(dir, "ca.pem");
  writeFileSync(caCertPath, tls.caCertPem);

  let graphBaseUrl = "";
  const engine = new GraphEngine({
    store,
    tokens,
    metrics,
    config: () => config,
    baseUrl: () => graphBaseUrl,
  });

  const issue = (roles: string[], realMs: number, advertisedMs: number): string => {
    metrics.recordToken();
    return tokens.issue(appId, roles, realMs, advertisedMs).token;
  };
  const issueConfigured = (): { token: string; expiresOn: number } => {
    const scale = config.timeScale * 1000;
    const real = config.tokenLifetimeSeconds * scale;
    const advertised = config.advertisedTokenLifetimeSeconds * scale;
    const token = issue(config.grantedRoles, real, advertised);
    return { token, expiresOn: Math.floor((Date.now() + advertised) / 1000) };
  };

  const clientSecret = randomBytes(24).toString("base64url");
  const tenantNames = new Set([store.tenantId.toLowerCase(), store.domain.toLowerCase()]);
  // Entra ID's client-credentials flow on the https port, for ClientSecretCredential with
  // authorityHost = graphBaseUrl and disableInstanceDiscovery.
  const handleEntra = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    gr: GraphRequest,
    raw: string,
  ): boolean => {
    const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token)$/.exec(
      gr.path,
    );
    if (!m) {
      return false;
    }
    const tenant = decodeURIComponent(m[1] ?? "").toLowerCase();
    const oauthError = (status: number, error: string, description: string): void =>
      sendJson(res, status, {
        error,
        error_description: description,
        error_codes: [],
        timestamp: new Date().toISOString(),
      });
    if (!tenantNames.has(tenant)) {
      oauthError(400, "invalid_tenant", `AADSTS90002: Tenant '${tenant}' not found.`);
      return true;
    }
    const authority = `${graphBaseUrl}/${store.tenantId}`;
    if (m[2]?.startsWith("v2.0")) {
      sendJson(res, 200, {
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
        device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
        issuer: `${graphBaseUrl}/${store.tenantId}/v2.0`,
        jwks_uri: `${authority}/discovery/v2.0/keys`,
        response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
        scopes_supported: ["openid", "profile", "email", "offline_access"],
        token_endpoint_auth_methods_supported: [
          "client_secret_post",
          "private_key_jwt",
          "client_secret_basic",
        ],
        tenant_region_scope: "EU",
      });
      return true;
    }
    if ((req.method ?? "GET") !== "POST") {
      oauthError(405, "invalid_request", "AADSTS900561: The endpoint only accepts POST requests.");
      return true;
    }
    const form = new URLSearchParams(raw);
    if (form.get("grant_type") !== "client_credentials") {
      oauthError(
        400,
        "unsupported_grant_type",
        "AADSTS70003: The app requested an unsupported grant type.",
      );
      return true;
    }
    const scope = form.get("scope") ?? "";
    if (
      !scope
        .split(" ")
        .some((sc) => GRAPH_RESOURCES.has(sc) || sc === "https://graph.microsoft.com//.default")
    ) {
      oauthError(
        400,
        "invalid_scope",
        `AADSTS1002012: The provided value for scope '${scope}' is not valid.`,
      );
      return true;
    }
    if ((form.get("client_id") ?? "").toLowerCase() !== appId) {
      oauthError(
        400,
        "unauthorized_client",
        `AADSTS700016: Application with identifier '${form.get("client_id") ?? ""}' was not found in the directory.`,
      );
      return true;
    }
    if (form.get("client_secret") !== clientSecret) {
      oauthError(401, "invalid_client", "AADSTS7000215: Invalid client secret provided.");
      return true;
    }
    const { token, expiresOn } = issueConfigured();
    const expiresIn = Math.max(1, expiresOn - Math.floor(Date.now() / 1000));
    sendJson(res, 200, {
      token_type: "Bearer",
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: token,
    });
    return true;
  };

  const graphServer = https.createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    void (async () => {
      try {
        const raw = await readBody(req);
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
        if (handleEntra(req, res, gr, raw ?? "")) {
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
    })();
  });
  graphServer.keepAliveTimeout = 30_000;

  const state = (): EmulatorState => ({
    users: store.users.map((u) => ({
      id: u.id,
      userPrincipalName: u.userPrincipalName,
      phoneMethods: PHONE_TYPES.filter((t) => u.phones[t]).map((t) => ({
        phoneType: t,
        phoneNumber: u.phones[t]?.phoneNumber ?? "",
      })),
    })),
  });

  const setConfig = (patch: Partial<EmulatorConfig>): void => {
    const next = mergeConfig(config, patch);
    const reseed = next.seed !== config.seed;
    const quotaKeys = [
      "timeScale",
      "writeQuota",
      "writeQuotaWindowSeconds",
      "resourceUnitQuota",
      "resourceUnitWindowSeconds",
      "reportsQuota",
      "reportsQuotaWindowSeconds",
      "phoneWriteQuotaModel",
    ] as const;
    const quotasChanged = quotaKeys.some((k) => next[k] !== config[k]);
    config = next;
    if (reseed) {
      engine.reseed(next.seed);
    }
    if (quotasChanged) {
      engine.resetBuckets();
    }
  };

  const sideServer = http.createServer((req, res) => {
    void (async () => {
      try {
        const raw = (await readBody(req)) ?? "";
        const url = new URL(req.url ?? "/", "http://localhost");
        const method = req.method ?? "GET";
        const path = url.pathname.replace(/\/+$/, "");
        if (path === "/msi/token") {
          handleIdentity(req, res, url);
          return;
        }
        if (path.startsWith("/admin")) {
          handleAdmin(res, method, path.slice("/admin".length), raw, url.searchParams);
          return;
        }
        sendJson(res, 404, {
          error: { code: "NotFound", message: `GraphEmulator: no route '${path}'.` },
        });
      } catch (e) {
        if (!res.headersSent) {
          sendJson(res, 400, {
            error: { code: "BadRequest", message: e instanceof Error ? e.message : String(e) },
          });
        }
      }
    })();
  });

  const handleIdentity = (req: http.IncomingMessage, res: http.ServerResponse, url: URL): void => {
    if ((req.method ?? "GET") !== "GET") {
      sendJson(res, 405, { statusCode: 405, message: "The identity endpoint only answers GET." });
      return;
    }
    const secret = req.headers["x-identity-header"];
    if (secret === undefined || secret === "") {
      sendJson(res, 400, {
        statusCode: 400,
        message: "The 'X-IDENTITY-HEADER' request header is missing.",
      });
      return;
    }
    if (secret !== identityHeader) {
      sendJson(res, 401, {
        statusCode: 401,
        message: "The 'X-IDENTITY-HEADER' value is not valid.",
      });
      return;
    }
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion !== "2019-08-01") {
      sendJson(res, 400, {
        statusCode: 400,
        message: `The api-version '${apiVersion ?? ""}' is not supported; use '2019-08-01'.`,
      });
      return;
    }
    const resource = url.searchParams.get("resource");
    if (!resource || !GRAPH_RESOURCES.has(resource)) {
      sendJson(res, 400, {
        statusCode: 400,
        message: `AADSTS500011: The resource principal named '${resource ?? ""}' was not found in the tenant.`,
      });
      return;
    }
    const clientId = url.searchParams.get("client_id");
    if (clientId !== null && clientId.toLowerCase() !== appId) {
      sendJson(res, 400, {
        statusCode: 400,
        message: `No managed identity with client id '${clientId}' is assigned to this resource.`,
      });
      return;
    }
    const { token, expiresOn } = issueConfigured();
    sendJson(res, 200, {
      access_token: token,
      expires_on: String(expiresOn),
      resource,
      token_type: "Bearer",
      client_id: appId,
    });
  };

  const handleAdmin = (
    res: http.ServerResponse,
    method: string,
    sub: string,
    raw: string,
    query: URLSearchParams,
  ): void => {
    const parseBody = (): Record<string, unknown> => {
      if (raw.trim() === "") {
        return {};
      }
      try {
        return JSON.parse(raw) as Record<string, unknown>;
      } catch {
        throw new Error("GraphEmulator: the admin request body is not valid JSON.");
      }
    };
    if (method === "GET" && sub === "/state") {
      writeStateStream(res);
      return;
    }
    if (method === "GET" && sub === "/metrics") {
      sendJson(res, 200, metrics.snapshot());
      return;
    }
    if (method === "GET" && sub === "/config") {
      sendJson(res, 200, config);
      return;
    }
    if (method === "POST" && sub === "/config") {
      setConfig(parseBody() as Partial<EmulatorConfig>);
      sendJson(res, 200, config);
      return;
    }
    if (method === "POST" && sub === "/revoke-tokens") {
      tokens.revokeAll();
      res.writeHead(204).end();
      return;
    }
    if (method === "POST" && sub === "/reset-metrics") {
      metrics.reset();
      res.writeHead(204).end();
      return;
    }
    if (method === "POST" && sub === "/token") {
      const b = parseBody();
      const roles = Array.isArray(b.roles) ? b.roles.map(String) : config.grantedRoles;
      const ms =
        typeof b.lifetimeSeconds === "number"
          ? b.lifetimeSeconds * 1000
          : config.tokenLifetimeSeconds * config.timeScale * 1000;
      sendJson(res, 200, { access_token: issue(roles, ms, ms), token_type: "Bearer" });
      return;
    }
    if (method === "POST" && sub === "/users") {
      sendJson(res, 200, engine.usersDelta.upsertUser(parseBody()));
      return;
    }
    const userPath = /^\/users\/([^/]+)$/.exec(sub);
    if (method === "DELETE" && userPath) {
      const id = decodeURIComponent(userPath[1] ?? "");
      if (engine.usersDelta.deleteUser(id, { hard: query.get("hard") === "true" })) {
        res.writeHead(204).end();
      } else {
        sendJson(res, 404, {
          error: { code: "NotFound", message: `GraphEmulator: no user '${id}' to delete.` },
        });
      }
      return;
    }
    sendJson(res, 404, {
      error: { code: "NotFound", message: `GraphEmulator: no admin route '${method} ${sub}'.` },
    });
  };

  // Streams the state so a million users do not need one giant string.
  const writeStateStream = (res: http.ServerResponse): void => {
    res.writeHead(200, { "Content-Type": "application/json" });
    const users = store.users;
    let i = 0;
    const writeChunk = (): void => {
      while (i < users.length) {
        const end = Math.min(users.length, i + 5000);
        const parts: string[] = [];
        for (; i < end; i++) {
          const u = users[i];
          if (!u) {
            continue;
          }
          parts.push(
            JSON.stringify({
              id: u.id,
              userPrincipalName: u.userPrincipalName,
              phoneMethods: PHONE_TYPES.filter((t) => u.phones[t]).map((t) => ({
                phoneType: t,
                phoneNumber: u.phones[t]?.phoneNumber ?? "",
              })),
            }),
          );
        }
        const prefix = end <= 5000 ? '{"users":[' : ",";
        if (!res.write(prefix + parts.join(","))) {
          res.once("drain", writeChunk);
          return;
        }
      }
      res.end(users.length === 0 ? '{"users":[]}' : "]}");
    };
    writeChunk();
  };

  const graphPort = await listen(graphServer, options.port ?? 0, host);
  const sidePort = await listen(sideServer, options.identityPort ?? 0, host);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  graphBaseUrl = `https://${urlHost}:${graphPort}`;
  const sideBase = `http://${urlHost}:${sidePort}`;

  return {
    graphBaseUrl,
    identityEndpoint: `${sideBase}/msi/token`,
    identityHeader,
    adminUrl: `${sideBase}/admin`,
    caCertPath,
    caCertPem: tls.caCertPem,
    tenantId: store.tenantId,
    appId,
    clientSecret,
    get config(): EmulatorConfig {
      return structuredClone(config);
    },
    setConfig,
    issueToken(opts = {}): string {
      const roles = opts.roles ?? config.grantedRoles;
      if (opts.lifetimeSeconds !== undefined) {
        const ms = opts.lifetimeSeconds * 1000;
        return issue(roles, ms, ms);
      }
      const scale = config.timeScale * 1000;
      return issue(
        roles,
        config.tokenLifetimeSeconds * scale,
        config.advertisedTokenLifetimeSeconds * scale,
      );
    },
    revokeAllTokens: () => tokens.revokeAll(),
    state,
    metrics: () => metrics.snapshot(),
    resetMetrics: () => metrics.reset(),
    upsertUser: (user) => engine.usersDelta.upsertUser(user),
    deleteUser: (id, opts) => engine.usersDelta.deleteUser(id, opts),
    async close(): Promise<void> {
      await Promise.all([closeServer(graphServer), closeServer(sideServer)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
