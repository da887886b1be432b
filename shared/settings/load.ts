/**
 * Reading the settings: every row of the spec parsed at once, then the rules between settings,
 * and one {@link ConfigurationError} naming every bad setting (never its value).
 */
import type { z } from "zod";
import { ConfigurationError, type SettingProblem } from "../errors.js";
import { graphTargetProblems } from "../graph/clouds.js";
import type { RunStoreLocation, RunStoreSettings } from "../store/location.js";
import { runStoreLocation } from "../store/resolveLocation.js";
import {
  APP_SETTINGS,
  type AppSettingRow,
  type GRAPH_AUTHS,
  type METHODS,
  type TARGETS,
} from "./spec.js";

/** Environment-style input: setting name to raw text. Empty or blank text counts as unset. */
export type RawSettings = Record<string, string | undefined>;

type Parsed = { [R in AppSettingRow as R["key"]]: z.output<R["parse"]> };
type OptionalKey = {
  [K in keyof Parsed]: undefined extends Parsed[K] ? K : never;
}[keyof Parsed];

/** The settings as the spec parses them; a setting that may be unset is optional. */
export type SettingValues = Omit<Parsed, OptionalKey> & Partial<Pick<Parsed, OptionalKey>>;

/** The validated settings, and what follows from several of them together. */
export interface Settings extends SettingValues {
  /** Where the run store lives (from `RUN_STORE` and the storage settings). */
  runStoreLocation: RunStoreLocation;
}

/** How the app gets a Graph token. */
export type GraphAuth = (typeof GRAPH_AUTHS)[number];

/** Which users count as needing a phone method. */
export type Target = (typeof TARGETS)[number];

/** An authentication method a run registers (`METHODS`). */
export type Method = (typeof METHODS)[number];

/**
 * Reads and validates the settings.
 *
 * @param raw - setting name to text: the environment, with CLI flags laid over it.
 * @returns the validated settings.
 * @throws ConfigurationError naming every invalid setting at once.
 */
export function loadSettings(raw: RawSettings): Settings {
  const problems: SettingProblem[] = [];
  const values: Record<string, unknown> = {};
  for (const row of APP_SETTINGS) {
    const text = raw[row.name]?.trim();
    const result = row.parse.safeParse(text === undefined || text === "" ? row.default : text);
    if (result.success) {
      values[row.key] = result.data;
    } else {
      problems.push({
        setting: row.name,
        problem: result.error.issues[0]?.message ?? "is invalid",
      });
    }
  }
  const parsed = values as Partial<SettingValues>;
  const unparsed = new Set(problems.map((p) => p.setting));
  problems.push(...credentialProblems(parsed));
  problems.push(...graphTargetSettingProblems(parsed, unparsed));
  // The store's location is worked out from the values that parsed; a bad container name is
  // already reported, and the connection is still checked so every problem shows at once.
  const location = unparsed.has("RUN_STORE")
    ? undefined
    : runStoreLocation(parsed as RunStoreSettings, problems);
  if (problems.length > 0 || location === undefined) {
    throw new ConfigurationError(problems);
  }
  return { ...(values as SettingValues), runStoreLocation: location };
}

/**
 * Where the Graph token may go (`shared/graph/clouds.ts`), checked here so that no credential is
 * built, let alone asked for a token, for a host that is not Graph. Skipped when
 * `GRAPH_ALLOW_LOOPBACK` did not parse (that problem is reported already).
 */
function graphTargetSettingProblems(
  values: Partial<SettingValues>,
  unparsed: ReadonlySet<string>,
): SettingProblem[] {
  if (unparsed.has("GRAPH_ALLOW_LOOPBACK")) {
    return [];
  }
  return graphTargetProblems({
    root: values.graphBaseUrl,
    allowLoopback: values.graphAllowLoopback === true,
    inAzure: values.websiteInstanceId !== undefined,
    caFile: values.graphCaFile !== undefined,
  });
}

/** The settings each `GRAPH_AUTH` mode requires. */
function credentialProblems(values: Partial<SettingValues>): SettingProblem[] {
  const auth = values.graphAuth;
  const required: [setting: string, present: boolean][] = [];
  if (auth === "clientSecret" || auth === "clientCertificate") {
    required.push(["AZURE_TENANT_ID", values.tenantId !== undefined]);
    required.push(["AZURE_CLIENT_ID", values.clientId !== undefined]);
  }
  if (auth === "clientSecret") {
    required.push(["AZURE_CLIENT_SECRET", values.clientSecret !== undefined]);
  }
  if (auth === "clientCertificate") {
    required.push(["AZURE_CLIENT_CERTIFICATE_PATH", values.clientCertificatePath !== undefined]);
  }
  return required
    .filter(([, present]) => !present)
    .map(([setting]) => ({ setting, problem: `is required when GRAPH_AUTH is ${auth}` }));
}
