/**
 * Shared helpers of the Graph access layer tests: the real managed-identity path against an
 * emulator, and a GraphAccess with short retry delays.
 */
import { GraphAccess } from "../../../shared/graph/client.js";
import { createGraphCredential, type GraphCredential } from "../../../shared/graph/credentials.js";
import type { RetryEvent } from "../../../shared/graph/transport.js";
import type { EmulatorHandle } from "../../../local/graph-emulator/index.js";

/** The real managed-identity path: the App Service protocol through MSAL, as in Azure. */
export function managedIdentity(emulator: EmulatorHandle): GraphCredential {
  return createGraphCredential({
    graphAuth: "managedIdentity",
    graphBaseUrl: emulator.graphBaseUrl,
    identityEndpoint: emulator.identityEndpoint,
    identityHeader: emulator.identityHeader,
  });
}

/** A GraphAccess on the emulator that records its retries. */
export function access(
  emulator: EmulatorHandle,
  events: RetryEvent[] = [],
  credential = managedIdentity(emulator),
): GraphAccess {
  return new GraphAccess({
    baseUrl: emulator.graphBaseUrl,
    credential,
    caPem: emulator.caCertPem,
    retry: { baseDelayMs: 5, maxDelayMs: 2_000, maxRetries: 8 },
    onRetry: (e) => events.push(e),
  });
}
