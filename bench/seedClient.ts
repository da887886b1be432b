/**
 * A seed-style client, as the Automation runbook this app replaces worked: one user at a time,
 * one request each (create the mobile phone method), the next only after the answer. It runs
 * against the same emulator profile as the provisioning benchmark, through the product's Graph
 * client and token path, so that the speed-up over the runbook is a ratio of two figures from
 * one run.
 *
 * Time is scaled as in `provisioning.ts`: the emulator's latencies and quotas are multiplied by
 * `timeScale`, and the rate is converted back to emulated time.
 */
import { GraphAccess } from "../shared/graph/client.js";
import { startEmulator, type EmulatorConfig } from "../local/graph-emulator/index.js";
import { benchTenant, emulatorCredential } from "./provisioning.js";

/** One seed-style run. */
export interface SeedOptions {
  /** Emulated seconds to run for (the runbook ran until it was stopped). */
  seconds: number;
  /** Emulator time scale (0.2 = 5 times faster than Graph). */
  timeScale: number;
  /** Overrides on top of the `realistic` profile (besides `timeScale`). */
  config?: Partial<EmulatorConfig>;
}

/** What a seed-style run measured, in emulated time. */
export interface SeedResult {
  /** Users whose phone method was created. */
  users: number;
  /** Graph requests (from the emulator) and 429 answers among them. */
  requests: number;
  throttled: number;
  emulatedSeconds: number;
  realSeconds: number;
  usersPerHour: number;
}

/**
 * Runs the seed-style client for `options.seconds` of emulated time.
 *
 * @param options - how long, how fast, which emulator config.
 */
export async function runSeedClient(options: SeedOptions): Promise<SeedResult> {
  const scale = options.timeScale;
  // More users than one request at a time can reach in the time (no round trip is under 10 ms).
  const tenant = benchTenant(Math.ceil(options.seconds * 100));
  const emulator = await startEmulator({
    profile: "realistic",
    tenant,
    config: { ...options.config, timeScale: scale },
  });
  const graph = new GraphAccess({
    baseUrl: emulator.graphBaseUrl,
    credential: emulatorCredential(emulator),
    caPem: emulator.caCertPem,
  });
  try {
    // Connection and token first, as in provisioning.ts; the clock starts after them.
    await graph.get("/users?$top=1&$select=id");
    emulator.resetMetrics();
    const t0 = performance.now();
    const elapsed = (): number => (performance.now() - t0) / 1000 / scale;
    let users = 0;
    for (const user of tenant.users) {
      if (elapsed() >= options.seconds) {
        break;
      }
      await graph.post(`/users/${user.id}/authentication/phoneMethods`, {
        phoneNumber: user.mobilePhone,
        phoneType: "mobile",
      });
      users++;
    }
    const emulatedSeconds = elapsed();
    const metrics = emulator.metrics();
    return {
      users,
      requests: metrics.requests,
      throttled: metrics.throttled,
      emulatedSeconds: Math.round(emulatedSeconds * 10) / 10,
      realSeconds: Math.round((performance.now() - t0) / 100) / 10,
      usersPerHour: Math.round((users / emulatedSeconds) * 3600),
    };
  } finally {
    await graph.close();
    await emulator.close();
  }
}
