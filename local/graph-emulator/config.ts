/**
 * Configuration of the Graph emulator: quotas, latencies, faults and the undocumented behaviours
 * that Microsoft leaves open. Every duration here is in "Graph seconds" and is multiplied by
 * `timeScale` before use, so quotas, latencies, token lifetimes and Retry-After stay in proportion.
 */
import { QUOTA_SHAPE_NAMES, type QuotaShapeName } from "./policies/quotaShapes.js";

/** A latency distribution for one route kind, in unscaled milliseconds. */
export interface LatencyDistribution {
  /** Mean latency in milliseconds; 0 disables the delay. */
  meanMs: number;
  /**
   * 99th percentile in milliseconds. The delay is drawn from a log-normal fitted to mean and p99;
   * when `p99Ms <= meanMs` the delay is constant at `meanMs`.
   */
  p99Ms: number;
}

/** Route kinds used for latency, metrics and quotas. */
export type RouteKind =
  | "users.list"
  | "users.get"
  | "users.delta"
  | "groups.list"
  | "groups.get"
  | "groups.transitiveMembers"
  | "roleAssignments.list"
  | "roleEligibilities.list"
  | "auditLogs.directoryAudits"
  | "domains.list"
  | "domains.get"
  | "methodsPolicy.get"
  | "report.list"
  | "report.get"
  | "phoneMethods.list"
  | "phoneMethods.get"
  | "phoneMethods.create"
  | "phoneMethods.update"
  | "phoneMethods.delete"
  | "authMethods.list"
  | "emailMethods.list"
  | "emailMethods.get"
  | "emailMethods.create"
  | "emailMethods.update"
  | "emailMethods.delete"
  | "servicePrincipals"
  | "batch"
  | "unknown";

/** A configurable error answer for a behaviour Microsoft does not document. */
export interface ConfiguredError {
  /** HTTP status (4xx). */
  status: number;
  /** Graph `error.code`. */
  code: string;
  /** Graph `error.message`. */
  message: string;
}

/** User properties the audit log records when the admin API changes them. */
export type AuditedProperty = "mobilePhone" | "businessPhones" | "otherMails";

/** Periodic throttling storms: during a storm every Graph request is answered 429. */
export interface StormConfig {
  /** Seconds between storm starts (scaled); 0 disables storms. */
  periodSeconds: number;
  /** Seconds each storm lasts (scaled). */
  durationSeconds: number;
}

/** How Graph fails during an outage: 503 with Retry-After, or connections reset. */
export type OutageMode = "503" | "reset";

/** An outage scheduled by config: Graph down for a while, some time after the config applies. */
export interface OutageConfig {
  /** Seconds (scaled) from when this config applies (start or change) to the outage. */
  startSeconds: number;
  /** Seconds (scaled) the outage lasts; 0 = no outage. */
  durationSeconds: number;
  /** `503` (Retry-After: `fault503RetryAfterSeconds`) or `reset`. */
  mode: OutageMode;
}

/** A public client (an app a user signs in to) known to the emulator's Entra endpoints. */
export interface PublicClient {
  displayName: string;
  /**
   * Delegated Graph scopes the client carries (consented or preauthorized): a token gets those of
   * the requested scopes that are listed here, and all of them for `.default`.
   */
  scopes: string[];
}

/** Approves device codes without an admin call, as a user who signs in promptly would. */
export interface DeviceCodeAutoApprove {
  enabled: boolean;
  /** Polls answered `authorization_pending` before the code is approved (0: the first poll gets the token). */
  pendingPolls: number;
  /** UPN (or object id) of the user who signs in. */
  user: string;
  /**
   * Directory roles of that user (display names or template ids), carried in `wids`; absent: the
   * roles the tenant gives the user (active ones, direct or through a group, see roleGrants.ts).
   */
  roles?: string[];
}

/** All knobs of the emulator. */
export interface EmulatorConfig {
  /**
   * Multiplies every latency, token lifetime, Retry-After and quota window (0.01 = 100 times faster).
   * Quotas keep their request counts, so the enforced rate scales by `1 / timeScale`.
   */
  timeScale: number;
  /** Seed of the PRNG used for faults and latency draws, so runs are reproducible. */
  seed: number;
  /** Token lifetime the server actually honours, in seconds (scaled). */
  tokenLifetimeSeconds: number;
  /**
   * Token lifetime announced in `expires_on` / `exp`, in seconds (scaled). Set it longer than
   * `tokenLifetimeSeconds` to make tokens expire mid-run while the client believes they are valid.
   */
  advertisedTokenLifetimeSeconds: number;
  /**
   * Application roles carried by app-only tokens: those of the managed-identity and
   * client-credentials endpoints, and the admin API's and the handle's unless they name others;
   * default {@link PRODUCT_ROLES}.
   */
  grantedRoles: string[];
  /**
   * Public clients the device-code flow accepts, by client id, with the delegated scopes each may
   * get. The defaults: the Azure CLI's client (also `DeviceCodeCredential`'s default), which
   * carries none of the authentication-methods scopes; the Microsoft Graph command-line tools;
   * and an app registration of the tenant's own that carries exactly what a run needs.
   */
  publicClients: Record<string, PublicClient>;
  /** Seconds (scaled) a device code stays valid (`expires_in`; Entra: 900). */
  deviceCodeLifetimeSeconds: number;
  /** Seconds (scaled, possibly fractional) between token polls (`interval`; Entra: 5). */
  deviceCodeIntervalSeconds: number;
  /** Approve device codes without `POST {adminUrl}/device-codes/{user_code}/approve`. */
  deviceCodeAutoApprove: DeviceCodeAutoApprove;
  /**
   * Whether delegated calls also need the signed-in user's directory role (`wids`): writing
   * authentication methods needs Authentication Administrator (non-admin users) or Privileged
   * Authentication Administrator, reading them Global Reader or one of those, the report a
   * reports reader role; Global Administrator passes. Directory reads need no role.
   */
  delegatedRoleCheck: boolean;
  /** Write quota per app+tenant: requests per window (documented 3,000). */
  writeQuota: number;
  /** Write quota window in seconds (documented 150). */
  writeQuotaWindowSeconds: number;
  /**
   * How the write quota admits writes; Microsoft does not document it for phone methods, so a
   * client's limiter can be tried against each: `tokenBucket` (how the emulator models the
   * documented quota: `writeQuota` per window, refilled continuously, up to `writeQuotaBurst` at
   * once), `slidingWindow` (at most `writeQuota` in any window, e.g. 40 per 2 s), or `fixedWindow`
   * (at most `writeQuota` per window, windows back to back from when the quota started).
   */
  writeQuotaShape: QuotaShapeName;
  /**
   * Bucket size of the `tokenBucket` write quota: the most writes that pass at once after a quiet
   * spell; 0 = `writeQuota` (the documented bucket). The window shapes ignore it.
   */
  writeQuotaBurst: number;
  /** Resource-unit quota per app+tenant (documented 8,000 for tenants above 500 users). */
  resourceUnitQuota: number;
  /** Resource-unit window in seconds (documented 10). */
  resourceUnitWindowSeconds: number;
  /** Reports quota per app+tenant on `/reports/...` (documented 5). */
  reportsQuota: number;
  /** Reports quota window in seconds (documented 10). */
  reportsQuotaWindowSeconds: number;
  /**
   * Which quota phone-method requests count against (undocumented). `directory`: 1 RU plus
   * 1 write of the write quota (in its `writeQuotaShape`) per POST/PATCH/DELETE, 1 RU per GET.
   * `reports`: every phone-method request (read or write, as the reports reading of the limits
   * implies) takes one slot of the reports quota, i.e. 0.5 requests/s with the defaults.
   */
  phoneWriteQuotaModel: "directory" | "reports";
  /** Periodic throttling storms. */
  storm: StormConfig;
  /**
   * When to send `x-ms-throttle-limit-percentage`: `above80` (documented: only when usage is above
   * 0.8 of a limit), `always`, or `never`.
   */
  throttleLimitPercentageHeader: "above80" | "always" | "never";
  /**
   * Whether phone-method writes carry `x-ms-throttle-limit-percentage` when
   * `throttleLimitPercentageHeader` would send it. The header is documented only for the identity
   * service limits, and authenticationMethod is listed under the reports limits, so on a real
   * tenant it likely never arrives for these writes: `false` reproduces that, and is the default
   * of the `realistic` and `hostile` profiles (`fast` keeps `true`).
   */
  phoneWriteUsageHeader: boolean;
  /** Latency per route kind (unscaled); kinds not listed use `defaultLatency`. */
  latency: Partial<Record<RouteKind, LatencyDistribution>>;
  /** Latency of route kinds not listed in `latency`. */
  defaultLatency: LatencyDistribution;
  /** Probability (0-1) that a Graph request is answered 503 with Retry-After. */
  fault503Rate: number;
  /** Probability (0-1) that a Graph request is answered 504. */
  fault504Rate: number;
  /**
   * Probability (0-1) that a top-level Graph request has its connection reset without an answer.
   * Inside `$batch` a reset becomes a 504 item, since items have no connection of their own.
   */
  faultResetRate: number;
  /**
   * A scheduled outage: every Graph request, `$batch` envelopes included, answers 503 with
   * Retry-After (or is reset) from `startSeconds` after this config applies, for
   * `durationSeconds`. `POST {adminUrl}/outage` starts one at once instead.
   */
  outage: OutageConfig;
  /** Retry-After seconds (unscaled) sent with an injected 503 (and an outage's 503). */
  fault503RetryAfterSeconds: number;
  /**
   * When a fault is injected on a write, whether the write is applied first (so the client must
   * reconcile, as Graph advises after a 5xx on a non-idempotent POST).
   */
  faultAfterWrite: boolean;
  /**
   * Probability (0-1) that a `$batch` item answers 401 `InvalidAuthenticationToken` although the
   * envelope's token was accepted. Graph documents only the envelope's 401; inner ones have been
   * seen, and a robust client treats them like an outer one (one fresh token, then a retry).
   */
  batchItem401Rate: number;
  /**
   * Seconds (scaled) after its expiry that a token still gets a `$batch` envelope accepted, as a
   * gateway with clock-skew tolerance would; each item then checks the expiry strictly, so every
   * item of such a batch answers 401 while the envelope answers 200. 0 = envelope checks strictly.
   */
  batchEnvelopeTokenSkewSeconds: number;
  /**
   * Milliseconds (scaled) a created, updated or deleted authentication method stays invisible to
   * GETs of that user's methods after the write (which itself is answered at once): the directory
   * replicates, so a read right after a write may not see it. 0 = reads see writes at once.
   */
  readAfterWriteLagMs: number;
  /**
   * Milliseconds (scaled) during which a group membership change made through the admin API is
   * not yet visible to advanced queries of group members (`ConsistencyLevel: eventual` and/or
   * `$count`), which read an index that lags; plain reads see it at once. Graph gives no figure.
   */
  advancedQueryLagMs: number;
  /**
   * Whether `GET /auditLogs/directoryAudits` needs `Directory.Read.All` (or
   * `Directory.ReadWrite.All`) beside `AuditLog.Read.All`, as its permissions table says for
   * applications; without it the reports family's 403 names `Directory.Read.All`. (On a real
   * tenant the missing permission is reported to show as intermittent licence-check failures.)
   */
  directoryAuditsNeedDirectoryRead: boolean;
  /** Largest `$top` of the directory audit log (undocumented; default 999). */
  auditMaxTop: number;
  /** Page size of the directory audit log without `$top` (undocumented; default 100). */
  auditDefaultTop: number;
  /**
   * How `modifiedProperties` values are encoded (undocumented): `compact` = `["+45 20123456"]`,
   * `pretty` = `[\r\n  "+45 20123456"\r\n]` (the unified audit log's spelling).
   */
  auditValueStyle: "compact" | "pretty";
  /**
   * The name each audited user property has in `modifiedProperties` (only MobilePhone is seen in
   * public examples; the others are assumptions).
   */
  auditPropertyNames: Record<AuditedProperty, string>;
  /** Seconds (scaled) before a phone-method change is visible in the registration report. */
  reportLagSeconds: number;
  /**
   * How many methods SSPR asks for (the tenant's setting, 1 or 2): the report's
   * `isSsprRegistered` is true when a user has that many methods SSPR accepts.
   */
  ssprMethodsRequired: 1 | 2;
  /**
   * The N-th registration-report page request (`GET .../userRegistrationDetails`, counted from the
   * start or from the config change that set this key) answers 403
   * `Authentication_RequestFromNonPremiumTenantOrB2CTenant` although the tenant is premium; the
   * same request retried succeeds. 0 = never. Reported on licensed tenants (docs-contrib#8777).
   */
  reportLicence403OnRequest: number;
  /**
   * Probability (0-1) that a registration-report page request answers that licence 403; the retry
   * of a refused URL always succeeds.
   */
  reportLicence403Rate: number;
  /** Maximum `$top` accepted by the registration report (undocumented; default 999). */
  reportMaxTop: number;
  /** Page size of the registration report when `$top` is absent (undocumented; default 100). */
  reportDefaultTop: number;
  /** Status of a successful phone-method POST: 201 (reference page) or 200 (tutorial sample). */
  createStatus: 200 | 201;
  /** `smsSignInState` of a new mobile method when the tenant has SMS sign-in enabled. */
  smsSignInStateForNewMobile: "ready" | "notAllowedByPolicy" | "notConfigured" | "notEnabled";
  /** Regular expression (source) that phone numbers must match on create and update. */
  phoneNumberPattern: string;
  /** Whether deleting the default method (mobile while alternateMobile exists) is refused. */
  forbidDeleteDefault: boolean;
  /** Answer to a POST of a phone type the user already has (undocumented). */
  duplicatePhoneTypeError: ConfiguredError;
  /** Answer to a POST of alternateMobile by a user without mobile (undocumented). */
  alternateWithoutMobileError: ConfiguredError;
  /** Answer to a number that fails `phoneNumberPattern` (undocumented). */
  invalidPhoneNumberError: ConfiguredError;
  /** Answer to a DELETE of the default method (undocumented). */
  deleteDefaultError: ConfiguredError;
  /**
   * Answer to a write of the authentication methods of a user in a restricted management
   * administrative unit (fixture `restrictedManagement`). The docs say only that application
   * permissions do not apply there; the default mirrors Graph's permission refusal on these APIs.
   */
  restrictedManagementError: ConfiguredError;
  /**
   * Answer to a POST of an email method by a user who has one (documented: "A user may only have
   * one email authentication method"; the answer is not).
   */
  duplicateEmailMethodError: ConfiguredError;
  /** Regular expression (source) an email method's `emailAddress` must match. */
  emailAddressPattern: string;
  /** Answer to an `emailAddress` that fails `emailAddressPattern` (undocumented). */
  invalidEmailAddressError: ConfiguredError;
  /**
   * Answer of `roleEligibilityScheduleInstances` in a tenant without Entra ID P2 (fixture
   * `tenant.pim: false`). Not documented; observed: 400 `AadPremiumLicenseRequired`.
   */
  pimLicenceError: ConfiguredError;
  /**
   * Lifetime of `/users/delta` delta and skip tokens in seconds (scaled), counted from when each
   * token was issued; documented 7 days for directory objects.
   */
  deltaTokenLifetimeSeconds: number;
  /**
   * Answer to an expired delta or skip token (docs: "40X with codes such as syncStateNotFound";
   * a sync reset is `410 Gone`). A `Location` header with a fresh initial delta URL (the
   * round's `$select` and `$filter` kept) is sent with it whatever the status.
   */
  deltaTokenExpiredError: ConfiguredError;
}

/**
 * The Graph permissions the product needs, by name: as application roles of its managed identity
 * (the default `grantedRoles`), and as the delegated scopes of the public clients that can run it.
 * Graph's directoryAudits page lists AuditLog.Read.All and Directory.Read.All for it, and the role
 * checks read role assignments with RoleManagement.Read.Directory; the pre-flight reads the
 * authentication methods policy (Policy.Read.AuthenticationMethod), and the email method the
 * tenant's domains (Domain.Read.All).
 */
export const PRODUCT_ROLES: readonly string[] = [
  "UserAuthenticationMethod.ReadWrite.All",
  "User.Read.All",
  "GroupMember.Read.All",
  "AuditLog.Read.All",
  "RoleManagement.Read.Directory",
  "Directory.Read.All",
  "Policy.Read.AuthenticationMethod",
  "Domain.Read.All",
];

/** The Azure CLI's client id, which `DeviceCodeCredential` uses when given none. */
export const AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/** The Microsoft Graph command-line tools' (Graph PowerShell) client id. */
export const GRAPH_CLI_CLIENT_ID = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
/** The client id the emulator gives "the tenant's own app registration" for the CLI. */
export const TENANT_APP_CLIENT_ID = "5e3b1c2a-8f4d-4a6b-9c7e-2d1f0a9b8c7d";

const PUBLIC_CLIENTS: Record<string, PublicClient> = {
  [AZURE_CLI_CLIENT_ID]: {
    displayName: "Microsoft Azure CLI",
    // Preauthorized first-party scopes; none of them reaches the authentication-methods APIs.
    scopes: [
      "Application.ReadWrite.All",
      "AppRoleAssignment.ReadWrite.All",
      "AuditLog.Read.All",
      "Directory.AccessAsUser.All",
      "Group.ReadWrite.All",
      "User.Read.All",
      "User.ReadWrite.All",
    ],
  },
  [GRAPH_CLI_CLIENT_ID]: {
    displayName: "Microsoft Graph Command Line Tools",
    scopes: [...PRODUCT_ROLES, "User.Read"],
  },
  [TENANT_APP_CLIENT_ID]: {
    displayName: "mfa-prepopulate CLI (the tenant's own app registration)",
    // The delegated permissions the README has an administrator consent for it: the product's,
    // and the read-only methods scope a dry run with REPLACE_EXISTING asks for instead of writes.
    scopes: [...PRODUCT_ROLES, "UserAuthenticationMethod.Read.All"],
  },
};

const BASE: EmulatorConfig = {
  timeScale: 1,
  seed: 1,
  tokenLifetimeSeconds: 4500,
  advertisedTokenLifetimeSeconds: 4500,
  grantedRoles: [...PRODUCT_ROLES],
  publicClients: PUBLIC_CLIENTS,
  deviceCodeLifetimeSeconds: 900,
  deviceCodeIntervalSeconds: 5,
  deviceCodeAutoApprove: { enabled: false, pendingPolls: 0, user: "" },
  delegatedRoleCheck: true,
  writeQuota: 3000,
  writeQuotaWindowSeconds: 150,
  writeQuotaShape: "tokenBucket",
  writeQuotaBurst: 0,
  resourceUnitQuota: 8000,
  resourceUnitWindowSeconds: 10,
  reportsQuota: 5,
  reportsQuotaWindowSeconds: 10,
  phoneWriteQuotaModel: "directory",
  storm: { periodSeconds: 0, durationSeconds: 0 },
  throttleLimitPercentageHeader: "above80",
  phoneWriteUsageHeader: true,
  latency: {},
  defaultLatency: { meanMs: 0, p99Ms: 0 },
  fault503Rate: 0,
  fault504Rate: 0,
  faultResetRate: 0,
  fault503RetryAfterSeconds: 5,
  outage: { startSeconds: 0, durationSeconds: 0, mode: "503" },
  faultAfterWrite: false,
  batchItem401Rate: 0,
  batchEnvelopeTokenSkewSeconds: 0,
  readAfterWriteLagMs: 0,
  advancedQueryLagMs: 0,
  directoryAuditsNeedDirectoryRead: true,
  auditMaxTop: 999,
  auditDefaultTop: 100,
  auditValueStyle: "compact",
  auditPropertyNames: {
    mobilePhone: "MobilePhone",
    businessPhones: "TelephoneNumber",
    otherMails: "OtherMail",
  },
  reportLagSeconds: 0,
  ssprMethodsRequired: 1,
  reportLicence403OnRequest: 0,
  reportLicence403Rate: 0,
  reportMaxTop: 999,
  reportDefaultTop: 100,
  createStatus: 201,
  smsSignInStateForNewMobile: "ready",
  phoneNumberPattern: "^\\+\\d{1,3} \\d+(x\\d+)?$",
  forbidDeleteDefault: true,
  duplicatePhoneTypeError: {
    status: 400,
    code: "badRequest",
    message: "A phone method of this type already exists for the user.",
  },
  alternateWithoutMobileError: {
    status: 400,
    code: "badRequest",
    message: "An alternate mobile phone can only be added when the user has a mobile phone.",
  },
  invalidPhoneNumberError: {
    status: 400,
    code: "badRequest",
    message: "Invalid phone number. The expected format is '+{country code} {number}x{extension}'.",
  },
  deleteDefaultError: {
    status: 400,
    code: "badRequest",
    message: "The default authentication method cannot be deleted.",
  },
  restrictedManagementError: {
    status: 403,
    code: "accessDenied",
    message: "Request Authorization failed",
  },
  duplicateEmailMethodError: {
    status: 400,
    code: "badRequest",
    message: "An email authentication method already exists for the user.",
  },
  emailAddressPattern:
    '^[^@\\s"(),:;<>\\[\\]\\\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$',
  invalidEmailAddressError: {
    status: 400,
    code: "badRequest",
    message: "Invalid email address.",
  },
  pimLicenceError: {
    status: 400,
    code: "AadPremiumLicenseRequired",
    message:
      "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.",
  },
  deltaTokenLifetimeSeconds: 7 * 24 * 3600,
  deltaTokenExpiredError: {
    status: 410,
    code: "syncStateNotFound",
    message:
      "The sync state is no longer available. Start a new round from the URL in the Location header.",
  },
};

/** Latencies measured or assumed for Graph in `realistic` (create phone: mean 1.86 s, p99 2.9 s). */
const REALISTIC_LATENCY: Partial<Record<RouteKind, LatencyDistribution>> = {
  "phoneMethods.create": { meanMs: 1860, p99Ms: 2900 },
  "phoneMethods.update": { meanMs: 1200, p99Ms: 2200 },
  "phoneMethods.delete": { meanMs: 900, p99Ms: 1800 },
  "phoneMethods.list": { meanMs: 250, p99Ms: 700 },
  "phoneMethods.get": { meanMs: 200, p99Ms: 600 },
  "authMethods.list": { meanMs: 300, p99Ms: 800 },
  "users.list": { meanMs: 450, p99Ms: 1500 },
  "users.get": { meanMs: 120, p99Ms: 400 },
  "users.delta": { meanMs: 450, p99Ms: 1500 },
  "groups.list": { meanMs: 150, p99Ms: 500 },
  "groups.transitiveMembers": { meanMs: 500, p99Ms: 1600 },
  "report.list": { meanMs: 900, p99Ms: 3000 },
  "report.get": { meanMs: 300, p99Ms: 900 },
};

/** Names of the profiles. */
export type ProfileName = "fast" | "realistic" | "hostile";

/** The named profiles; `config` overrides apply on top of the chosen one. */
export const PROFILES: Record<ProfileName, EmulatorConfig> = {
  fast: { ...BASE },
  realistic: {
    ...BASE,
    latency: REALISTIC_LATENCY,
    defaultLatency: { meanMs: 150, p99Ms: 500 },
    advancedQueryLagMs: 5000,
    reportLagSeconds: 300,
    // What a real tenant most likely does (see phoneWriteUsageHeader); a config patch turns it on.
    phoneWriteUsageHeader: false,
  },
  hostile: {
    ...BASE,
    latency: REALISTIC_LATENCY,
    defaultLatency: { meanMs: 150, p99Ms: 500 },
    // Short real lifetime with a long advertised one: tokens die mid-run behind the client's back.
    tokenLifetimeSeconds: 600,
    advertisedTokenLifetimeSeconds: 4500,
    storm: { periodSeconds: 300, durationSeconds: 30 },
    fault503Rate: 0.02,
    fault504Rate: 0.01,
    faultResetRate: 0.005,
    faultAfterWrite: true,
    advancedQueryLagMs: 15_000,
    reportLagSeconds: 1800,
    phoneWriteUsageHeader: false,
  },
};

/**
 * Merges a partial config over a base, validating the numbers that would break the server.
 *
 * @param base - the starting config (a profile or the current config)
 * @param patch - overrides
 * @returns the merged config
 */
export function mergeConfig(base: EmulatorConfig, patch: Partial<EmulatorConfig>): EmulatorConfig {
  checkPatchShape(patch);
  const merged: EmulatorConfig = {
    ...base,
    ...patch,
    latency: { ...base.latency, ...(patch.latency ?? {}) },
    storm: { ...base.storm, ...(patch.storm ?? {}) },
    outage: { ...base.outage, ...(patch.outage ?? {}) },
    deviceCodeAutoApprove: {
      ...base.deviceCodeAutoApprove,
      ...(patch.deviceCodeAutoApprove ?? {}),
    },
  };
  checkQuotaKeys(merged);
  checkFaultKeys(merged);
  checkIdentityKeys(merged);
  checkOutageKey(merged.outage);
  checkBehaviourKeys(merged);
  return merged;
}

/** Checks a patch's keys and their kinds, and its latencies: the admin API feeds it untrusted JSON. */
function checkPatchShape(patch: Partial<EmulatorConfig>): void {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) {
    throw new TypeError("GraphEmulator: the config patch must be a JSON object.");
  }
  const known = new Set(Object.keys(BASE));
  for (const [key, value] of Object.entries(patch)) {
    if (!known.has(key)) {
      throw new TypeError(`GraphEmulator: unknown config key '${key}'.`);
    }
    // A shallow check: the value is of the same kind as the base value.
    const expected: unknown = BASE[key as keyof EmulatorConfig];
    const sameKind =
      Array.isArray(expected) === Array.isArray(value) &&
      typeof expected === typeof value &&
      value !== null;
    if (!sameKind) {
      throw new TypeError(`GraphEmulator: config key '${key}' has the wrong type.`);
    }
  }
  for (const dist of [...Object.values(patch.latency ?? {}), patch.defaultLatency]) {
    if (dist !== undefined && !(Number.isFinite(dist.meanMs) && Number.isFinite(dist.p99Ms))) {
      throw new TypeError("GraphEmulator: a latency needs numeric 'meanMs' and 'p99Ms'.");
    }
  }
}

/** Checks the time scale and the quotas, which divide and schedule everything else. */
function checkQuotaKeys(config: EmulatorConfig): void {
  if (!(config.timeScale > 0) || !Number.isFinite(config.timeScale)) {
    throw new RangeError("GraphEmulator: timeScale must be a positive finite number.");
  }
  for (const key of ["writeQuota", "resourceUnitQuota", "reportsQuota"] as const) {
    if (!(config[key] > 0)) {
      throw new RangeError(`GraphEmulator: '${key}' must be positive.`);
    }
  }
  if (!(QUOTA_SHAPE_NAMES as readonly string[]).includes(config.writeQuotaShape)) {
    throw new RangeError(
      `GraphEmulator: 'writeQuotaShape' must be one of ${QUOTA_SHAPE_NAMES.map((n) => `'${n}'`).join(", ")}.`,
    );
  }
  if (!(config.writeQuotaBurst >= 0 && Number.isFinite(config.writeQuotaBurst))) {
    throw new RangeError("GraphEmulator: 'writeQuotaBurst' must be 0 or a positive number.");
  }
}

/** Checks the fault probabilities and the report's licence 403. */
function checkFaultKeys(config: EmulatorConfig): void {
  for (const key of [
    "fault503Rate",
    "fault504Rate",
    "faultResetRate",
    "batchItem401Rate",
    "reportLicence403Rate",
  ] as const) {
    if (!(config[key] >= 0 && config[key] <= 1)) {
      throw new RangeError(`GraphEmulator: '${key}' must be between 0 and 1.`);
    }
  }
  if (!(
    Number.isInteger(config.reportLicence403OnRequest) && config.reportLicence403OnRequest >= 0
  )) {
    throw new RangeError("GraphEmulator: 'reportLicence403OnRequest' must be 0 or a whole number.");
  }
}

/** Checks the scheduled outage's window and mode. */
function checkOutageKey(outage: OutageConfig): void {
  if (!(outage.startSeconds >= 0 && outage.durationSeconds >= 0)) {
    throw new RangeError(
      "GraphEmulator: 'outage' needs 'startSeconds' and 'durationSeconds' of 0 or more.",
    );
  }
  if (outage.mode !== "503" && outage.mode !== "reset") {
    throw new RangeError("GraphEmulator: 'outage.mode' must be '503' or 'reset'.");
  }
}

/** Checks the keys of the undocumented behaviours: lags, skew, SSPR, audit log and patterns. */
function checkBehaviourKeys(config: EmulatorConfig): void {
  if (!(config.readAfterWriteLagMs >= 0)) {
    throw new RangeError("GraphEmulator: 'readAfterWriteLagMs' must be 0 or more.");
  }
  if (!(config.batchEnvelopeTokenSkewSeconds >= 0)) {
    throw new RangeError("GraphEmulator: 'batchEnvelopeTokenSkewSeconds' must be 0 or more.");
  }
  if (config.ssprMethodsRequired !== 1 && config.ssprMethodsRequired !== 2) {
    throw new RangeError("GraphEmulator: 'ssprMethodsRequired' must be 1 or 2.");
  }
  if (config.auditValueStyle !== "compact" && config.auditValueStyle !== "pretty") {
    throw new RangeError("GraphEmulator: 'auditValueStyle' must be 'compact' or 'pretty'.");
  }
  if (!(config.auditMaxTop >= 1 && config.auditDefaultTop >= 1)) {
    throw new RangeError("GraphEmulator: 'auditMaxTop' and 'auditDefaultTop' must be at least 1.");
  }
  // Fails early on a bad pattern instead of on the first write.
  new RegExp(config.phoneNumberPattern);
  new RegExp(config.emailAddressPattern);
}

/** Checks the device-code keys, which the admin API feeds from untrusted JSON. */
function checkIdentityKeys(config: EmulatorConfig): void {
  for (const [id, client] of Object.entries(config.publicClients)) {
    const ok =
      typeof client === "object" &&
      client !== null &&
      typeof client.displayName === "string" &&
      Array.isArray(client.scopes) &&
      client.scopes.every((sc) => typeof sc === "string");
    if (!ok) {
      throw new TypeError(
        `GraphEmulator: public client '${id}' needs a 'displayName' and a 'scopes' list of strings.`,
      );
    }
  }
  if (!(config.deviceCodeLifetimeSeconds > 0 && config.deviceCodeIntervalSeconds >= 0)) {
    throw new RangeError(
      "GraphEmulator: 'deviceCodeLifetimeSeconds' must be positive and 'deviceCodeIntervalSeconds' 0 or more.",
    );
  }
  const auto = config.deviceCodeAutoApprove;
  if (
    typeof auto.enabled !== "boolean" ||
    !(Number.isInteger(auto.pendingPolls) && auto.pendingPolls >= 0) ||
    typeof auto.user !== "string" ||
    (auto.roles !== undefined && !Array.isArray(auto.roles))
  ) {
    throw new TypeError(
      "GraphEmulator: 'deviceCodeAutoApprove' needs 'enabled', a whole 'pendingPolls' of 0 or more, a 'user' and, if any, a 'roles' list.",
    );
  }
}
