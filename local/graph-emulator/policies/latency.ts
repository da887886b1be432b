/**
 * Latency: how long a route takes, drawn per request from the configured distribution and scaled
 * by `timeScale`. The engine waits it out after the state change, so concurrent readers see a
 * write before its answer arrives, as on Graph.
 */
import type { EmulatorConfig, RouteKind } from "../config.js";
import type { Prng } from "./random.js";

/**
 * Draws a latency in milliseconds from a log-normal with the given mean and 99th percentile.
 *
 * @param prng - the PRNG
 * @param meanMs - mean
 * @param p99Ms - 99th percentile
 * @returns a delay in milliseconds (unscaled)
 */
export function drawLatency(prng: Prng, meanMs: number, p99Ms: number): number {
  if (meanMs <= 0) {
    return 0;
  }
  if (p99Ms <= meanMs) {
    return meanMs;
  }
  // For a log-normal: ln(p99) - ln(mean) = z99*s - s^2/2; take the smaller root for s.
  const z = 2.3263;
  const d = Math.log(p99Ms / meanMs);
  const disc = z * z - 2 * d;
  const s = disc > 0 ? z - Math.sqrt(disc) : z;
  const mu = Math.log(meanMs) - (s * s) / 2;
  return Math.exp(mu + s * prng.normal());
}

/**
 * The real delay of one request of a route kind.
 *
 * @param prng - the shared fault-and-latency PRNG
 * @param kind - the route kind (its own distribution, or `defaultLatency`)
 * @param config - the current config
 * @returns real milliseconds (scaled)
 */
export function routeLatencyMs(prng: Prng, kind: RouteKind, config: EmulatorConfig): number {
  const d = config.latency[kind] ?? config.defaultLatency;
  return drawLatency(prng, d.meanMs, d.p99Ms) * config.timeScale;
}

/**
 * Waits `ms` milliseconds; returns at once for less than 1 ms.
 *
 * @param ms - real milliseconds
 */
export function sleep(ms: number): Promise<void> {
  return ms >= 1 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve();
}
