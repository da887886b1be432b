/**
 * Fault injection: random 503 (with Retry-After), 504 and connection resets at the configured
 * rates. One draw per request from the seeded PRNG it shares with the latency draws.
 */
import type { EmulatorConfig } from "../config.js";
import { errorResponse, type GraphResponse } from "../response.js";
import type { Prng } from "./random.js";

/** An injected failure. */
export type Fault = "503" | "504" | "reset";

/**
 * Draws whether this request fails and how.
 *
 * @param prng - the shared fault-and-latency PRNG (not drawn from when every rate is 0)
 * @param config - the rates
 * @param inBatch - a `$batch` item has no connection of its own: a reset becomes a 504
 * @returns the fault, or undefined for none
 */
export function drawFault(prng: Prng, config: EmulatorConfig, inBatch: boolean): Fault | undefined {
  if (config.fault503Rate + config.fault504Rate + config.faultResetRate <= 0) {
    return undefined;
  }
  const x = prng.next();
  if (x < config.fault503Rate) {
    return "503";
  }
  if (x < config.fault503Rate + config.fault504Rate) {
    return "504";
  }
  if (x < config.fault503Rate + config.fault504Rate + config.faultResetRate) {
    return inBatch ? "504" : "reset";
  }
  return undefined;
}

/**
 * The answer of an injected fault.
 *
 * @param fault - which fault
 * @param config - Retry-After of a 503 and `timeScale`
 * @param requestId - the request id
 * @param clientRequestId - echoed from the request
 * @returns a Graph error answer, or a reset marker
 */
export function faultResponse(
  fault: Fault,
  config: EmulatorConfig,
  requestId: string,
  clientRequestId: string | undefined,
): GraphResponse {
  if (fault === "reset") {
    return { status: 0, headers: {}, reset: true };
  }
  if (fault === "503") {
    const secs = Math.max(1, Math.ceil(config.fault503RetryAfterSeconds * config.timeScale));
    return errorResponse(
      503,
      "serviceNotAvailable",
      "The service is temporarily unavailable. Please retry later.",
      requestId,
      clientRequestId,
      { "Retry-After": String(secs) },
    );
  }
  return errorResponse(
    504,
    "UnknownError",
    "The gateway did not receive a timely response from the service.",
    requestId,
    clientRequestId,
  );
}
