/**
 * The process-wide services functions use: settings, the Graph access layer, the run store and
 * the write limiter, built from one settings value. Every activity in one Functions instance
 * shares one connection pool and one limiter, as the quota is shared too.
 *
 * In Azure the first function that needs them builds them from the environment (the settings
 * entry point); the local CLI and tests install them from a settings value instead.
 */
import { readFileSync } from "node:fs";
import { ConfigurationError } from "./errors.js";
import { GraphAccess } from "./graph/client.js";
import { createGraphCredential, type GraphCredential } from "./graph/credentials.js";
import { limiterFor, type AdaptiveLimiter } from "./graph/throttle.js";
import { settingsFromEnvironment } from "./settings/environment.js";
import type { Settings } from "./settings/index.js";
import { createRunStore, type CreateRunStoreOptions } from "./store/index.js";
import type { RunStore } from "./store/runStore.js";

/** What activities need. */
export interface Services {
  settings: Settings;
  graph: GraphAccess;
  store: RunStore;
  limiter: AdaptiveLimiter;
}

/** Options of {@link configureServices}. */
export interface ServicesOptions {
  /** How the run store resolves a relative or default folder. */
  store?: CreateRunStoreOptions;
  /** The Graph credential, when the caller has signed in already (the CLI's user sign-in). */
  credential?: GraphCredential;
}

let current: Services | undefined;

/**
 * Builds the services from a settings value. Makes no network call.
 *
 * @param settings - validated settings.
 * @param options - see {@link ServicesOptions}.
 * @throws ConfigurationError when `GRAPH_CA_FILE` cannot be read.
 */
export function buildServices(settings: Settings, options: ServicesOptions = {}): Services {
  const caPem = graphCaPem(settings);
  const graph = new GraphAccess({
    baseUrl: settings.graphBaseUrl,
    credential: options.credential ?? createGraphCredential(settings, { caPem }),
    caPem,
  });
  const store = createRunStore(settings.runStoreLocation, options.store);
  const limiter = limiterFor(
    `${settings.graphBaseUrl}|${settings.tenantId ?? ""}|${settings.clientId ?? ""}`,
  );
  return { settings, graph, store, limiter };
}

/**
 * The extra CA of a loopback Graph emulator (`GRAPH_CA_FILE`), if the settings name one.
 *
 * @param settings - validated settings.
 * @throws ConfigurationError when the file cannot be read.
 */
export function graphCaPem(settings: Pick<Settings, "graphCaFile">): string | undefined {
  if (settings.graphCaFile === undefined) {
    return undefined;
  }
  try {
    return readFileSync(settings.graphCaFile, "utf8");
  } catch {
    throw new ConfigurationError([{ setting: "GRAPH_CA_FILE", problem: "names no readable file" }]);
  }
}

/**
 * Builds the services of this process from a settings value and installs them.
 *
 * @param settings - validated settings.
 * @param options - see {@link ServicesOptions}.
 */
export function configureServices(settings: Settings, options: ServicesOptions = {}): Services {
  current = buildServices(settings, options);
  return current;
}

/** The services of this process; built from the environment on first use unless configured. */
export function services(): Services {
  current ??= buildServices(settingsFromEnvironment());
  return current;
}

/**
 * Replaces the services (tests wire their own), or forgets them so the next use builds them from
 * the environment.
 *
 * @param next - services to use, or undefined.
 */
export function setServices(next: Services | undefined): void {
  current = next;
}
