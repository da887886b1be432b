/**
 * The process-wide services activities use: settings, the Graph access layer, the run store and
 * the write limiter. Built once per process from the app settings (environment), so every
 * activity in one Functions instance shares one connection pool and one limiter, as the quota is
 * shared too.
 */
import { readFileSync } from "node:fs";
import { loadSettings, type Settings } from "./config.js";
import { GraphAccess } from "./graph/client.js";
import { createGraphCredential } from "./graph/credentials.js";
import { limiterFor, type AdaptiveLimiter } from "./graph/throttle.js";
import { createRunStore } from "./store/index.js";
import type { RunStore } from "./store/runStore.js";

/** What activities need. */
export interface Services {
  settings: Settings;
  graph: GraphAccess;
  store: RunStore;
  limiter: AdaptiveLimiter;
}

let current: Services | undefined;

/**
 * The services of this process, built on first use from `process.env`.
 */
export function services(): Services {
  if (!current) {
    const settings = loadSettings(process.env);
    const caPem = settings.graphCaFile ? readFileSync(settings.graphCaFile, "utf8") : undefined;
    const graph = new GraphAccess({
      baseUrl: settings.graphBaseUrl,
      credential: createGraphCredential(settings),
      caPem,
    });
    const store = createRunStore(process.env);
    const limiter = limiterFor(
      `${settings.graphBaseUrl}|${settings.tenantId ?? ""}|${settings.clientId ?? ""}`,
    );
    current = { settings, graph, store, limiter };
  }
  return current;
}

/**
 * Replaces the services (the local host and tests wire their own), or forgets them so the next
 * call rebuilds from `process.env`.
 *
 * @param next - services to use, or undefined to rebuild on next use.
 */
export function setServices(next: Services | undefined): void {
  current = next;
}
