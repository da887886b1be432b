/**
 * The settings spec: one row per setting, the one place a setting is declared. One set of names
 * everywhere (Azure app settings, `local.settings.json`, environment variables for the CLI).
 *
 * From this table come: {@link loadSettings} (parsing and validation, and the `Settings` type),
 * the CLI's setting flags, the README's settings table and `local.settings.json.sample`
 * (`npm run docs:settings`), and the test that `infra/app/api.bicep` sets exactly the settings
 * Azure must get. Rows without a parser are read by the Functions host only, never by the app.
 */
import type { z } from "zod";
import { GRAPH_COMMAND_LINE_TOOLS_CLIENT_ID } from "../graph/publicClients.js";
import { DEFAULT_RUN_STORE_CONTAINER, containerName, runStoreChoice } from "../store/location.js";
import {
  commaList,
  commaSetOf,
  graphRoot,
  ncrontab,
  oneOf,
  onOff,
  region,
  hours,
  text,
  wholeNumber,
} from "./parsers.js";

/** Headings the settings are grouped under in the README. */
export type SettingGroup =
  "Graph access" | "Targeting" | "Run" | "Run store" | "Functions host and platform";

/**
 * Whether the template sets the setting in Azure (`"template"`: it is one of `api.bicep`'s app
 * settings), or why it must not appear there.
 */
export type AzureRule = "template" | { notSet: string };

/** The CLI flag of a setting. */
export interface SettingFlag {
  /** The long flag, e.g. `--graph-base-url`. */
  flag: string;
  /** Placeholder of its value, e.g. `<url>`; absent for a switch that sets `true`. */
  value?: string;
  /** For a switch: the flag that sets `false`, e.g. `--no-skip-admins`. */
  negation?: string;
  /** The values the flag accepts, when it is one of a fixed set. */
  choices?: readonly string[];
}

interface SettingCommon {
  /** The setting's name: UPPER_SNAKE, or the platform's own spelling. */
  name: string;
  group: SettingGroup;
  /** What it means (Markdown, one line). */
  description: string;
  /** The value used when unset or empty, as text. */
  default?: string;
  /** The README's default column when it is not just the {@link default}. */
  shownDefault?: string;
  azure: AzureRule;
  /** In `local.settings.json.sample`: the default (`true`) or this value; absent: left out. */
  sample?: true | string;
}

/** A setting the app reads: parsed into `Settings[key]`. */
export interface AppSetting<K extends string = string, T = unknown> extends SettingCommon {
  key: K;
  parse: z.ZodType<T>;
  flag?: SettingFlag;
}

/** A setting only the Functions host reads (declared so the template sets nothing unknown). */
export interface HostSetting extends SettingCommon {
  key?: undefined;
}

export type SettingRow = AppSetting | HostSetting;

const app = <const K extends string, T>(row: AppSetting<K, T>): AppSetting<K, T> => row;
const host = (row: HostSetting): HostSetting => row;

/** `GRAPH_AUTH` values. */
export const GRAPH_AUTHS = [
  "managedIdentity",
  "clientSecret",
  "clientCertificate",
  "azureCli",
  "deviceCode",
  "interactive",
] as const;

/** `TARGET` values. */
export const TARGETS = ["mfaUnregistered", "noMobileMethod", "ssprUnregistered"] as const;

/**
 * `METHODS` values, in the order a run decides and reports them: the mobile phone (from
 * `mobilePhone`), the email method (from the first `otherMails` address), the office phone (from
 * the first `businessPhones` number).
 */
export const METHODS = ["mobile", "email", "office"] as const;

const ONLY_APP_REGISTRATION = "only for app-registration auth; Azure uses the managed identity";
const SET_BY_PLATFORM = "set by the platform";
const SET_BY_AZURE = "set by Azure";
const SET_BY_TEMPLATE = "set by the template";
const PER_SERVICE_URIS = "the per-service URIs are set instead";

/** Every setting, in the order the README lists them. */
export const SETTINGS = [
  app({
    name: "GRAPH_BASE_URL",
    key: "graphBaseUrl",
    group: "Graph access",
    parse: graphRoot,
    default: "https://graph.microsoft.com",
    flag: { flag: "--graph-base-url", value: "<url>" },
    description:
      "Microsoft Graph root of the public or a national cloud, or a loopback emulator (with `GRAPH_ALLOW_LOOPBACK`); `/v1.0` is appended",
    azure: "template",
    sample: true,
  }),
  app({
    name: "GRAPH_AUTH",
    key: "graphAuth",
    group: "Graph access",
    parse: oneOf(GRAPH_AUTHS),
    default: "managedIdentity",
    flag: { flag: "--auth", value: "<mode>", choices: GRAPH_AUTHS },
    description: GRAPH_AUTHS.map((a) => `\`${a}\``).join(", "),
    azure: "template",
    sample: "azureCli",
  }),
  app({
    name: "AZURE_TENANT_ID",
    key: "tenantId",
    group: "Graph access",
    parse: text,
    flag: { flag: "--tenant-id", value: "<id>" },
    description:
      "tenant of the app registration, or the tenant an administrator signs in to (`deviceCode`, `interactive`), as in `@azure/identity`",
    azure: { notSet: "only for app-registration auth; the managed identity knows its tenant" },
    sample: "",
  }),
  app({
    name: "AZURE_CLIENT_ID",
    key: "clientId",
    group: "Graph access",
    parse: text,
    flag: { flag: "--client-id", value: "<id>" },
    description: `app id, or the client id of a user-assigned managed identity; for \`deviceCode\` and \`interactive\` the tenant's app registration for the CLI (default: Microsoft Graph Command Line Tools, \`${GRAPH_COMMAND_LINE_TOOLS_CLIENT_ID}\`)`,
    azure: "template",
    sample: "",
  }),
  app({
    name: "AZURE_CLIENT_SECRET",
    key: "clientSecret",
    group: "Graph access",
    parse: text,
    description: "secret of the app registration, for `clientSecret`",
    azure: { notSet: `no secrets: ${ONLY_APP_REGISTRATION}` },
  }),
  app({
    name: "AZURE_CLIENT_CERTIFICATE_PATH",
    key: "clientCertificatePath",
    group: "Graph access",
    parse: text,
    description: "PEM certificate and key of the app registration, for `clientCertificate`",
    azure: { notSet: `no certificates: ${ONLY_APP_REGISTRATION}` },
  }),
  app({
    name: "GRAPH_CA_FILE",
    key: "graphCaFile",
    group: "Graph access",
    parse: text,
    shownDefault: "empty",
    flag: { flag: "--graph-ca-file", value: "<pem>" },
    description: "PEM of an extra CA to trust for a loopback Graph emulator (its `caCertPath`)",
    azure: { notSet: "only for the local Graph emulator" },
  }),
  app({
    name: "GRAPH_ALLOW_LOOPBACK",
    key: "graphAllowLoopback",
    group: "Graph access",
    parse: onOff,
    default: "false",
    description:
      "allow a loopback `GRAPH_BASE_URL` (127.0.0.1, ::1 or localhost, any port: an emulator); `true` is refused in Azure, where the template pins `false`",
    azure: "template",
  }),
  app({
    name: "IDENTITY_ENDPOINT",
    key: "identityEndpoint",
    group: "Graph access",
    parse: text,
    shownDefault: SET_BY_AZURE,
    description: "App Service managed-identity protocol; the emulator prints its own",
    azure: { notSet: SET_BY_PLATFORM },
  }),
  app({
    name: "IDENTITY_HEADER",
    key: "identityHeader",
    group: "Graph access",
    parse: text,
    shownDefault: SET_BY_AZURE,
    description: "secret header of that protocol; the emulator prints its own",
    azure: { notSet: SET_BY_PLATFORM },
  }),
  app({
    name: "STAGING_GROUP",
    key: "stagingGroup",
    group: "Targeting",
    parse: text,
    shownDefault: "empty (all users)",
    flag: { flag: "--staging-group", value: "<idOrName>" },
    description: "group id or display name; only its transitive members are considered",
    azure: "template",
    sample: "",
  }),
  app({
    name: "EXCLUDE_GROUPS",
    key: "excludeGroups",
    group: "Targeting",
    parse: commaList,
    shownDefault: "empty",
    flag: { flag: "--exclude-groups", value: "<list>" },
    description: "comma-separated ids or names; their transitive members are never touched",
    azure: "template",
    sample: "",
  }),
  app({
    name: "DEFAULT_REGION",
    key: "defaultRegion",
    group: "Targeting",
    parse: region,
    shownDefault: "empty",
    flag: { flag: "--default-region", value: "<cc>" },
    description: "ISO region for numbers without a country code; empty: such numbers are rejected",
    azure: "template",
    sample: "",
  }),
  app({
    name: "TARGET",
    key: "target",
    group: "Targeting",
    parse: oneOf(TARGETS),
    default: "mfaUnregistered",
    flag: { flag: "--target", value: "<mode>", choices: TARGETS },
    description:
      "`mfaUnregistered` (the report says not MFA-registered), `noMobileMethod` (no registered method of the kind being written) or `ssprUnregistered` (the report says not SSPR-registered)",
    azure: "template",
    sample: true,
  }),
  app({
    name: "METHODS",
    key: "methods",
    group: "Targeting",
    parse: commaSetOf(METHODS),
    default: "mobile",
    flag: { flag: "--methods", value: "<list>" },
    description:
      "comma-separated methods to register: `mobile` (from `mobilePhone`), `email` (the first `otherMails` address; SSPR only), `office` (the first `businessPhones` number; voice only)",
    azure: "template",
    sample: true,
  }),
  app({
    name: "SKIP_ADMINS",
    key: "skipAdmins",
    group: "Targeting",
    parse: onOff,
    default: "true",
    flag: { flag: "--skip-admins", negation: "--no-skip-admins" },
    description: "leave users the report marks `isAdmin` alone",
    azure: "template",
    sample: true,
  }),
  app({
    name: "ALLOW_LANDLINE",
    key: "allowLandline",
    group: "Targeting",
    parse: onOff,
    default: "false",
    flag: { flag: "--allow-landline" },
    description: "accept fixed-line-only numbers",
    azure: "template",
    sample: true,
  }),
  app({
    name: "REPLACE_EXISTING",
    key: "replaceExisting",
    group: "Targeting",
    parse: onOff,
    default: "false",
    flag: { flag: "--replace-existing" },
    description: "change an existing mobile method whose number differs",
    azure: "template",
    sample: true,
  }),
  app({
    name: "MAX_WRITES_PER_RUN",
    key: "maxWritesPerRun",
    group: "Run",
    parse: wholeNumber("must be a whole number (0 = no cap)"),
    default: "0",
    shownDefault: "`0` (no cap)",
    flag: { flag: "--max-writes", value: "<n>" },
    description: "stop planning writes past this many; the rest are reported as `deferred`",
    azure: "template",
    sample: true,
  }),
  app({
    name: "NUMBER_SETTLE_DAYS",
    key: "numberSettleDays",
    group: "Run",
    parse: wholeNumber("must be a whole number of days (0 turns the guard off)").refine(
      (days) => days <= 365,
      "must be at most 365 days",
    ),
    default: "3",
    shownDefault: "`3` (0: off)",
    flag: { flag: "--number-settle-days", value: "<days>" },
    description:
      "a number is written only after the user has held it this many days (store history, else the audit log and account age); `0` turns the guard off and every run says so",
    azure: "template",
    sample: true,
  }),
  app({
    name: "APPROVAL_THRESHOLD",
    key: "approvalThreshold",
    group: "Run",
    parse: wholeNumber("must be a whole number (0 = never ask)"),
    default: "1000",
    shownDefault: "`1000` (0: never ask)",
    description:
      "a run planning more writes than this waits, before writing, for an operator's approval (`POST /api/runs/{id}/approve`, `mfa-prepopulate approve`)",
    azure: "template",
    sample: true,
  }),
  app({
    name: "APPROVAL_TIMEOUT_HOURS",
    key: "approvalTimeoutHours",
    group: "Run",
    parse: hours("must be a positive number of hours"),
    default: "20",
    description:
      "a run not approved within this many hours ends as `notApproved`, with nothing written",
    azure: "template",
    sample: true,
  }),
  app({
    name: "RERUN_MAX_AGE_HOURS",
    key: "rerunMaxAgeHours",
    group: "Run",
    parse: hours("must be a positive number of hours"),
    default: "48",
    description:
      "a rerun is refused for a run that finished longer ago; a rerun re-reads each user before writing",
    azure: "template",
    sample: true,
  }),
  app({
    name: "DRY_RUN",
    key: "dryRun",
    group: "Run",
    parse: onOff,
    default: "false",
    flag: { flag: "--dry-run" },
    description: "plan and report, write nothing",
    azure: "template",
    sample: "true",
  }),
  app({
    name: "NIGHTLY_SCHEDULE",
    key: "nightlySchedule",
    group: "Run",
    parse: ncrontab,
    default: "0 0 2 * * *",
    description: "NCRONTAB of the nightly timer",
    azure: "template",
    sample: true,
  }),
  app({
    name: "LOG_PHONE_NUMBERS",
    key: "logPhoneNumbers",
    group: "Run",
    parse: oneOf(["masked", "full"]),
    default: "masked",
    description: "`masked` (`+45 ******56`) or `full` in log lines and the CSV",
    azure: "template",
    sample: true,
  }),
  app({
    name: "RUN_STORE",
    key: "runStore",
    group: "Run store",
    parse: runStoreChoice,
    shownDefault: "`blob` in Azure, else the folder `.state`",
    flag: { flag: "--run-store", value: "<dirOrBlob>" },
    description: "`blob`, a `file:///` URL, or a directory (relative to the current directory)",
    azure: "template",
  }),
  app({
    name: "RUN_STORE_CONTAINER",
    key: "runStoreContainer",
    group: "Run store",
    parse: containerName,
    default: DEFAULT_RUN_STORE_CONTAINER,
    description: "blob container of the run store, created when missing",
    azure: "template",
  }),
  app({
    name: "RUN_RETENTION_DAYS",
    key: "runRetentionDays",
    group: "Run store",
    parse: wholeNumber("must be a whole number of days"),
    default: "30",
    description:
      "run data (pages, plans, chunks, outcomes, reports) expires this many days after it was written; in Azure a lifecycle rule on the run-store container deletes it",
    azure: "template",
    sample: true,
  }),
  app({
    name: "AzureWebJobsStorage",
    key: "storageConnectionString",
    group: "Run store",
    parse: text,
    shownDefault: "–",
    description:
      "the Functions storage account as a connection string (`UseDevelopmentStorage=true` for Azurite); the run store uses it too",
    azure: { notSet: "a connection string would hold the account key; shared keys are off" },
    sample: "UseDevelopmentStorage=true",
  }),
  app({
    name: "AzureWebJobsStorage__blobServiceUri",
    key: "storageBlobServiceUri",
    group: "Run store",
    parse: text,
    shownDefault: SET_BY_TEMPLATE,
    description:
      "identity-based storage connection: the blob endpoint, e.g. `https://{account}.blob.core.windows.net`",
    azure: "template",
  }),
  app({
    name: "AzureWebJobsStorage__serviceUri",
    key: "storageServiceUri",
    group: "Run store",
    parse: text,
    description: "identity-based connection: the blob endpoint (older name of the one above)",
    azure: { notSet: PER_SERVICE_URIS },
  }),
  app({
    name: "AzureWebJobsStorage__accountName",
    key: "storageAccountName",
    group: "Run store",
    parse: text,
    description:
      "identity-based connection in the public cloud: the account name, instead of the endpoint",
    azure: { notSet: PER_SERVICE_URIS },
  }),
  app({
    name: "AzureWebJobsStorage__credential",
    key: "storageCredential",
    group: "Run store",
    parse: text,
    shownDefault: SET_BY_TEMPLATE,
    description:
      "`managedidentity` to use managed identity (always so in Azure; outside Azure the developer's sign-in is used otherwise)",
    azure: "template",
  }),
  app({
    name: "AzureWebJobsStorage__clientId",
    key: "storageClientId",
    group: "Run store",
    parse: text,
    shownDefault: SET_BY_TEMPLATE,
    description: "client id of the user-assigned managed identity for storage",
    azure: "template",
  }),
  host({
    name: "AzureWebJobsStorage__queueServiceUri",
    group: "Functions host and platform",
    shownDefault: SET_BY_TEMPLATE,
    description: "identity-based connection of the Functions host: the queue endpoint",
    azure: "template",
  }),
  host({
    name: "AzureWebJobsStorage__tableServiceUri",
    group: "Functions host and platform",
    shownDefault: SET_BY_TEMPLATE,
    description: "identity-based connection of the Functions host: the table endpoint",
    azure: "template",
  }),
  host({
    name: "TASKHUB_NAME",
    group: "Functions host and platform",
    shownDefault: SET_BY_TEMPLATE,
    description: "Durable task hub name (read by `host.json`): letters and digits",
    azure: "template",
    sample: "mfaprepopulate",
  }),
  host({
    name: "APPLICATIONINSIGHTS_CONNECTION_STRING",
    group: "Functions host and platform",
    shownDefault: SET_BY_TEMPLATE,
    description: "the Application Insights component the host sends telemetry to",
    azure: "template",
  }),
  host({
    name: "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
    group: "Functions host and platform",
    shownDefault: SET_BY_TEMPLATE,
    description:
      "`ClientId=<identity>;Authorization=AAD`: telemetry with the identity's Entra token",
    azure: "template",
  }),
  host({
    name: "FUNCTIONS_WORKER_RUNTIME",
    group: "Functions host and platform",
    shownDefault: "`node` locally",
    description: "the local Functions host's language worker",
    azure: {
      notSet: "Flex Consumption takes the runtime from functionAppConfig and refuses this setting",
    },
    sample: "node",
  }),
  app({
    name: "WEBSITE_INSTANCE_ID",
    key: "websiteInstanceId",
    group: "Functions host and platform",
    parse: text,
    shownDefault: SET_BY_AZURE,
    description: "tells the app it runs in Azure (the run store then defaults to `blob`)",
    azure: { notSet: SET_BY_PLATFORM },
  }),
] as const satisfies readonly SettingRow[];

/** The rows the app reads. */
export type AppSettingRow = Extract<(typeof SETTINGS)[number], { key: string }>;

/** Every setting the app reads, parsed. */
export const APP_SETTINGS: readonly AppSettingRow[] = SETTINGS.filter(
  (row): row is AppSettingRow => row.key !== undefined,
);
