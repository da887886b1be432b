/**
 * Offline Microsoft Graph emulator: Graph over https, the App Service managed-identity endpoint
 * and a small admin API over plain http on loopback. This file is the public API and wires the
 * parts together; see README.md for where each behaviour lives.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTlsMaterial } from "./certs.js";
import {
  PROFILES,
  mergeConfig,
  type EmulatorConfig,
  type OutageMode,
  type ProfileName,
} from "./config.js";
import { GraphEngine } from "./engine.js";
import { MetricsCollector, type EmulatorMetrics } from "./metrics.js";
import { userState, type AdminContext, type UserState } from "./server/admin.js";
import { createControlServer } from "./server/controlServer.js";
import { DeviceCodeFlow, type DeviceCodeSummary } from "./server/deviceCode.js";
import { createGraphServer } from "./server/graphServer.js";
import { closeServer, listen } from "./server/http.js";
import { TokenIssuer } from "./server/tokenIssuer.js";
import { TenantStore } from "./store.js";
import { TokenAuthority } from "./tokens.js";
import type { OutageStatus } from "./policies/outage.js";
import type { FixtureUser, TenantFixture } from "./tenant/types.js";
import { readUserPatch, type UserPatch } from "./handlers/delta.js";

export {
  AZURE_CLI_CLIENT_ID,
  GRAPH_CLI_CLIENT_ID,
  PRODUCT_ROLES,
  PROFILES,
  TENANT_APP_CLIENT_ID,
  mergeConfig,
} from "./config.js";
export { BUILT_IN_ROLES } from "./tenant/roles.js";
export type { DeviceCodeState, DeviceCodeSummary } from "./server/deviceCode.js";
export type {
  ConfiguredError,
  EmulatorConfig,
  DeviceCodeAutoApprove,
  LatencyDistribution,
  OutageConfig,
  OutageMode,
  ProfileName,
  PublicClient,
  RouteKind,
  StormConfig,
} from "./config.js";
export type { EmulatorMetrics, MetricsSecond, OutageMetrics, RouteMetrics } from "./metrics.js";
export type { OutageStatus } from "./policies/outage.js";
export { EMAIL_METHOD_ID, PHONE_METHOD_IDS, PASSWORD_METHOD_ID } from "./store.js";
export type { UserPatch } from "./handlers/delta.js";

/** Options of `startEmulator`. */
export interface EmulatorOptions {
  /** The tenant to serve. */
  tenant: TenantFixture;
  /** Named profile; default `fast`. */
  profile?: ProfileName;
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
  users: UserState[];
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
  /**
   * Takes Graph down now (also `POST {adminUrl}/outage` `{ "seconds", "mode" }`): every Graph
   * request, `$batch` envelopes included, answers 503 with Retry-After (`503`) or has its
   * connection reset (`reset`); metrics count them under `outage` only. 0 seconds ends it.
   *
   * @param seconds - Graph seconds, scaled by `timeScale`
   * @param mode - `503` (default) or `reset`
   */
  startOutage(seconds: number, mode?: OutageMode): OutageStatus;
  /** Device codes handed out (also `GET {adminUrl}/device-codes`). */
  deviceCodes(): DeviceCodeSummary[];
  /**
   * Signs a user in on a pending device code (also `POST {adminUrl}/device-codes/{user_code}/approve`
   * `{ "user": "<upn>", "roles"?: [...] }`); the client's next poll gets a delegated token.
   *
   * @param userCode - the code the client shows
   * @param user - UPN or object id of the user
   * @param roles - the user's directory roles (display names or template ids), carried in `wids`;
   *   absent: the active roles the tenant fixture gives the user (directly or through a group)
   * @throws Error when there is no such pending code, user or role
   */
  approveDeviceCode(userCode: string, user: string, roles?: string[]): DeviceCodeSummary;
  /** Every token issued so far now gets 401 InvalidAuthenticationToken. */
  revokeAllTokens(): void;
  /** Users and their phone and email methods. */
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
   * Changes a user's directory properties as an administrator or an application would: delta
   * reports the change and the audit log gets an "Update user" event naming the actor. Also
   * `PATCH {adminUrl}/users/{id}` with the patch and `by` (a UPN) or `byApp` (an app name).
   *
   * @param id - user object id
   * @param patch - `mobilePhone`, `businessPhones` and/or `otherMails`
   * @param by - a UPN, or `{ app: "<display name>" }`; default the user `admin@{tenant domain}`
   * @returns the properties that changed, or undefined when there is no such user
   * @throws TypeError for a patch key or value a user does not take
   */
  updateUser(id: string, patch: UserPatch, by?: string | { app: string }): string[] | undefined;
  /**
   * Deletes a user: soft (delta reports `@removed.reason` `changed`) or, with `hard`, for good
   * (`deleted`). Also `DELETE {adminUrl}/users/{id}[?hard=true]`.
   *
   * @param id - user object id
   * @param opts - `hard: true` for a permanent delete
   * @returns false when there is no such user
   */
  deleteUser(id: string, opts?: { hard?: boolean }): boolean;
  /**
   * Adds a direct member to a group. Plain reads of the group's members see it at once; advanced
   * queries only after `advancedQueryLagMs`. Also `POST {adminUrl}/groups/{id}/members`
   * `{ "id": "<member id>" }`.
   *
   * @param groupId - the group
   * @param memberId - a user or group id
   * @returns false when it already was a member
   * @throws RangeError for an unknown group, TypeError for a member Graph would refuse
   */
  addGroupMember(groupId: string, memberId: string): boolean;
  /**
   * Removes a direct member from a group, with the same visibility as `addGroupMember`. Also
   * `DELETE {adminUrl}/groups/{id}/members/{memberId}`.
   *
   * @param groupId - the group
   * @param memberId - a user or group id
   * @returns false when it was not a direct member
   * @throws RangeError for an unknown group
   */
  removeGroupMember(groupId: string, memberId: string): boolean;
  /** Stops both servers and removes the CA file. */
  close(): Promise<void>;
}

/**
 * Starts the emulator.
 *
 * @param options - tenant, profile, config overrides, host and port
 * @returns a handle with the URLs, secrets and controls
 */
export async function startEmulator(options: EmulatorOptions): Promise<EmulatorHandle> {
  const host = options.host ?? "127.0.0.1";
  const live = new LiveConfig(startingConfig(options));
  const directory = wireDirectory(options.tenant, live);
  const identityHeader = randomBytes(24).toString("base64url");
  const clientSecret = randomBytes(24).toString("base64url");
  const tls = await createTlsMaterial(host);
  const dir = mkdtempSync(join(tmpdir(), "graph-emulator-"));
  const caCertPath = join(dir, "ca.pem");
  writeFileSync(caCertPath, tls.caCertPem);

  // After the (slow) TLS material: the engine schedules the configured outage from its creation.
  const core = wireEngine(directory, live);
  const graphServer = createGraphServer(tls, core.engine, {
    tenantId: core.store.tenantId,
    domain: core.store.domain,
    clientSecret,
    issuer: core.issuer,
    baseUrl: live.baseUrl,
    deviceCodes: core.deviceCodes,
  });
  const controlServer = createControlServer(adminContext(core), identityHeader);
  const graphPort = await listen(graphServer, options.port ?? 0, host);
  const controlPort = await listen(controlServer, options.identityPort ?? 0, host);
  const urlHost = host.includes(":") ? `[${host}]` : host;
  live.setBaseUrl(`https://${urlHost}:${graphPort}`);
  const controlBase = `http://${urlHost}:${controlPort}`;

  const endpoints: EmulatorEndpoints = {
    graphBaseUrl: live.baseUrl(),
    identityEndpoint: `${controlBase}/msi/token`,
    identityHeader,
    adminUrl: `${controlBase}/admin`,
    caCertPath,
    caCertPem: tls.caCertPem,
    clientSecret,
  };
  return emulatorHandle(core, endpoints, async () => {
    await Promise.all([closeServer(graphServer), closeServer(controlServer)]);
    rmSync(dir, { recursive: true, force: true });
  });
}

/** The profile named in the options with their config overrides merged over it. */
function startingConfig(options: EmulatorOptions): EmulatorConfig {
  const profileName = options.profile ?? "fast";
  const profile = PROFILES[profileName];
  if (!profile) {
    throw new TypeError(`GraphEmulator: unknown profile '${String(profileName)}'.`);
  }
  return mergeConfig(profile, options.config ?? {});
}

/** The config in effect and the Graph base URL, which every part reads through the getters. */
class LiveConfig {
  private value: EmulatorConfig;
  private url = "";
  private listener: ((prev: EmulatorConfig, next: EmulatorConfig) => void) | undefined;

  /** The current config. */
  readonly current = (): EmulatorConfig => this.value;

  /** The Graph base URL; empty until the https server listens. */
  readonly baseUrl = (): string => this.url;

  /** Merges a patch over the current config and tells the listener what changed. */
  readonly set = (patch: Partial<EmulatorConfig>): void => {
    const prev = this.value;
    this.value = mergeConfig(prev, patch);
    this.listener?.(prev, this.value);
  };

  constructor(initial: EmulatorConfig) {
    this.value = initial;
  }

  /** Sets who follows config changes (the engine, once there is one). */
  onChange(listener: (prev: EmulatorConfig, next: EmulatorConfig) => void): void {
    this.listener = listener;
  }

  setBaseUrl(url: string): void {
    this.url = url;
  }
}

/** The tenant and who may call it: the parts wired before the TLS material. */
interface Directory {
  store: TenantStore;
  tokens: TokenAuthority;
  metrics: MetricsCollector;
  issuer: TokenIssuer;
}

/** The emulator's parts, wired around one {@link LiveConfig}. */
interface EmulatorCore extends Directory {
  live: LiveConfig;
  engine: GraphEngine;
  deviceCodes: DeviceCodeFlow;
}

function wireDirectory(tenant: TenantFixture, live: LiveConfig): Directory {
  const store = new TenantStore(tenant);
  const tokens = new TokenAuthority(store.tenantId);
  const metrics = new MetricsCollector();
  const issuer = new TokenIssuer(tokens, metrics, randomUUID(), live.current);
  return { store, tokens, metrics, issuer };
}

function wireEngine(directory: Directory, live: LiveConfig): EmulatorCore {
  const { store, tokens, metrics, issuer } = directory;
  const config = live.current;
  const baseUrl = live.baseUrl;
  const engine = new GraphEngine({ store, tokens, metrics, config, baseUrl });
  live.onChange((prev, next) => engine.configChanged(prev, next));
  const deviceCodes = new DeviceCodeFlow({ store, issuer, config, baseUrl });
  return { ...directory, live, engine, deviceCodes };
}

function adminContext(core: EmulatorCore): AdminContext {
  return {
    store: core.store,
    metrics: core.metrics,
    tokens: core.tokens,
    issuer: core.issuer,
    usersDelta: core.engine.usersDelta,
    outage: core.engine.outage,
    deviceCodes: core.deviceCodes,
    config: core.live.current,
    setConfig: core.live.set,
  };
}

/** Where a running emulator answers, and the secrets its clients need. */
type EmulatorEndpoints = Pick<
  EmulatorHandle,
  | "graphBaseUrl"
  | "identityEndpoint"
  | "identityHeader"
  | "adminUrl"
  | "caCertPath"
  | "caCertPem"
  | "clientSecret"
>;

function emulatorHandle(
  core: EmulatorCore,
  endpoints: EmulatorEndpoints,
  close: () => Promise<void>,
): EmulatorHandle {
  const { store, engine, deviceCodes, issuer, live } = core;
  return {
    ...endpoints,
    tenantId: store.tenantId,
    appId: issuer.appId,
    get config(): EmulatorConfig {
      return structuredClone(live.current());
    },
    setConfig: live.set,
    issueToken: (opts = {}) => issuer.issueForTest(opts),
    startOutage: (seconds, mode = "503") => {
      engine.outage.start(seconds, mode, live.current());
      return engine.outage.status();
    },
    deviceCodes: () => deviceCodes.list(),
    approveDeviceCode: (userCode, user, roles) => {
      const answer = deviceCodes.approve(userCode, user, roles);
      if ("message" in answer) {
        throw new Error(answer.message);
      }
      return answer;
    },
    revokeAllTokens: () => core.tokens.revokeAll(),
    state: () => ({ users: store.users.map(userState) }),
    metrics: () => core.metrics.snapshot(),
    resetMetrics: () => core.metrics.reset(),
    upsertUser: (user) => engine.usersDelta.upsertUser(user),
    deleteUser: (id, opts) => engine.usersDelta.deleteUser(id, opts),
    updateUser: (id, patch, by) =>
      engine.usersDelta.patchUser(
        id,
        readUserPatch({ ...patch }),
        typeof by === "string" ? { userPrincipalName: by } : by,
      ),
    addGroupMember: (groupId, memberId) => store.addGroupMember(groupId, memberId),
    removeGroupMember: (groupId, memberId) => store.removeGroupMember(groupId, memberId),
    close,
  };
}
