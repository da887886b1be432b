/**
 * Settings: one set of names everywhere (Azure app settings, `local.settings.json`, environment
 * variables for the CLI), read once and validated once. Every bad setting is reported in one
 * {@link ConfigurationError} that names the setting and never prints its value.
 */
import { ConfigurationError, type SettingProblem } from "./errors.js";

/** How the app gets a Graph token. */
export type GraphAuth =
  "managedIdentity" | "clientSecret" | "clientCertificate" | "azureCli" | "deviceCode";

/** Which users count as needing a phone method. */
export type Target = "mfaUnregistered" | "noMobileMethod";

/** The validated settings. A run takes a snapshot of these so it stays consistent. */
export interface Settings {
  graphBaseUrl: string;
  graphAuth: GraphAuth;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  clientCertificatePath?: string;
  /** PEM file of an extra CA to trust for Graph (the emulator's); empty in production. */
  graphCaFile?: string;
  stagingGroup?: string;
  excludeGroups: string[];
  defaultRegion?: string;
  target: Target;
  skipAdmins: boolean;
  allowLandline: boolean;
  replaceExisting: boolean;
  maxWritesPerRun: number;
  /** Days a user must have held a number before it is written (0: the guard is off). */
  numberSettleDays: number;
  dryRun: boolean;
  nightlySchedule: string;
  logPhoneNumbers: "masked" | "full";
}

/** Environment-style input: setting name to raw string. */
export type RawSettings = Record<string, string | undefined>;

/** The names this module reads, with their defaults (documented in the README). */
export const SETTING_DEFAULTS = {
  GRAPH_BASE_URL: "https://graph.microsoft.com",
  GRAPH_AUTH: "managedIdentity",
  STAGING_GROUP: "",
  EXCLUDE_GROUPS: "",
  DEFAULT_REGION: "",
  TARGET: "mfaUnregistered",
  SKIP_ADMINS: "true",
  ALLOW_LANDLINE: "false",
  REPLACE_EXISTING: "false",
  MAX_WRITES_PER_RUN: "0",
  NUMBER_SETTLE_DAYS: "3",
  DRY_RUN: "false",
  NIGHTLY_SCHEDULE: "0 0 2 * * *",
  LOG_PHONE_NUMBERS: "masked",
} as const;

const GRAPH_AUTHS: readonly GraphAuth[] = [
  "managedIdentity",
  "clientSecret",
  "clientCertificate",
  "azureCli",
  "deviceCode",
];
const TARGETS: readonly Target[] = ["mfaUnregistered", "noMobileMethod"];

/**
 * Reads and validates the settings.
 *
 * @param raw - setting name to value, usually `process.env`; empty strings count as unset.
 * @returns the validated settings.
 * @throws ConfigurationError naming every invalid setting at once.
 */
export function loadSettings(raw: RawSettings = process.env): Settings {
  const problems: SettingProblem[] = [];
  const get = (name: string): string | undefined => {
    const value = raw[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const withDefault = (name: keyof typeof SETTING_DEFAULTS): string =>
    get(name) ?? SETTING_DEFAULTS[name];

  const bool = (name: keyof typeof SETTING_DEFAULTS): boolean => {
    const value = withDefault(name).toLowerCase();
    if (value === "true" || value === "1" || value === "yes") {
      return true;
    }
    if (value === "false" || value === "0" || value === "no") {
      return false;
    }
    problems.push({ setting: name, problem: "must be true or false" });
    return false;
  };
  const oneOf = <T extends string>(
    name: keyof typeof SETTING_DEFAULTS,
    allowed: readonly T[],
  ): T => {
    const value = withDefault(name);
    const match = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
    if (!match) {
      problems.push({ setting: name, problem: `must be one of ${allowed.join(", ")}` });
      return allowed[0] as T;
    }
    return match;
  };

  const graphBaseUrl = withDefault("GRAPH_BASE_URL")
    .replace(/\/+$/, "")
    .replace(/\/v1\.0$/, "");
  try {
    const url = new URL(graphBaseUrl);
    if (url.protocol !== "https:") {
      problems.push({
        setting: "GRAPH_BASE_URL",
        problem: "must be an https URL (Graph clients send tokens only over https)",
      });
    }
  } catch {
    problems.push({ setting: "GRAPH_BASE_URL", problem: "is not a valid URL" });
  }

  const graphAuth = oneOf("GRAPH_AUTH", GRAPH_AUTHS);
  const tenantId = get("AZURE_TENANT_ID");
  const clientId = get("AZURE_CLIENT_ID");
  const clientSecret = get("AZURE_CLIENT_SECRET");
  const clientCertificatePath = get("AZURE_CLIENT_CERTIFICATE_PATH");
  if (graphAuth === "clientSecret" || graphAuth === "clientCertificate") {
    if (!tenantId) {
      problems.push({
        setting: "AZURE_TENANT_ID",
        problem: `is required when GRAPH_AUTH is ${graphAuth}`,
      });
    }
    if (!clientId) {
      problems.push({
        setting: "AZURE_CLIENT_ID",
        problem: `is required when GRAPH_AUTH is ${graphAuth}`,
      });
    }
  }
  if (graphAuth === "clientSecret" && !clientSecret) {
    problems.push({
      setting: "AZURE_CLIENT_SECRET",
      problem: "is required when GRAPH_AUTH is clientSecret",
    });
  }
  if (graphAuth === "clientCertificate" && !clientCertificatePath) {
    problems.push({
      setting: "AZURE_CLIENT_CERTIFICATE_PATH",
      problem: "is required when GRAPH_AUTH is clientCertificate",
    });
  }

  const defaultRegion = get("DEFAULT_REGION")?.toUpperCase();
  if (defaultRegion !== undefined && !/^[A-Z]{2}$/.test(defaultRegion)) {
    problems.push({
      setting: "DEFAULT_REGION",
      problem: "must be an ISO 3166-1 alpha-2 region such as DK",
    });
  }

  const maxWritesRaw = withDefault("MAX_WRITES_PER_RUN");
  const maxWritesPerRun = Number(maxWritesRaw);
  if (!/^\d+$/.test(maxWritesRaw) || !Number.isSafeInteger(maxWritesPerRun)) {
    problems.push({
      setting: "MAX_WRITES_PER_RUN",
      problem: "must be a whole number (0 = no cap)",
    });
  }

  const settleRaw = withDefault("NUMBER_SETTLE_DAYS");
  const numberSettleDays = Number(settleRaw);
  if (!/^\d+$/.test(settleRaw) || numberSettleDays > 365) {
    problems.push({
      setting: "NUMBER_SETTLE_DAYS",
      problem: "must be a whole number of days from 0 (guard off) to 365",
    });
  }

  const nightlySchedule = withDefault("NIGHTLY_SCHEDULE");
  if (nightlySchedule.split(/\s+/).length !== 6) {
    problems.push({
      setting: "NIGHTLY_SCHEDULE",
      problem:
        "must be an NCRONTAB expression with six fields (second minute hour day month weekday)",
    });
  }

  const settings: Settings = {
    graphBaseUrl,
    graphAuth,
    tenantId,
    clientId,
    clientSecret,
    clientCertificatePath,
    graphCaFile: get("GRAPH_CA_FILE"),
    stagingGroup: get("STAGING_GROUP"),
    excludeGroups: (get("EXCLUDE_GROUPS") ?? "")
      .split(",")
      .map((g) => g.trim())
      .filter((g) => g !== ""),
    defaultRegion,
    target: oneOf("TARGET", TARGETS),
    skipAdmins: bool("SKIP_ADMINS"),
    allowLandline: bool("ALLOW_LANDLINE"),
    replaceExisting: bool("REPLACE_EXISTING"),
    maxWritesPerRun,
    numberSettleDays,
    dryRun: bool("DRY_RUN"),
    nightlySchedule,
    logPhoneNumbers: oneOf("LOG_PHONE_NUMBERS", ["masked", "full"] as const),
  };
  if (problems.length > 0) {
    throw new ConfigurationError(problems);
  }
  return settings;
}

/**
 * The settings without secrets, safe to pass as orchestration input or to print.
 *
 * @param settings - validated settings.
 */
export function redactSettings(settings: Settings): Omit<Settings, "clientSecret"> {
  const { clientSecret: _secret, ...rest } = settings;
  return rest;
}
