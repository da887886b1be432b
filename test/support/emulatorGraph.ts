/**
 * The product's Graph access against a Graph emulator, with a fresh emulator token on every
 * request (a refresh has nothing to do): what tests of the writer and the chunk activity share.
 */
import type { EmulatorHandle } from "../../local/graph-emulator/index.js";
import { GraphAccess, type GraphAccessOptions } from "../../shared/graph/client.js";

/**
 * @param emulator - the emulator to talk to.
 * @param retry - the client's retry policy (its defaults when absent).
 */
export function emulatorGraph(
  emulator: EmulatorHandle,
  retry?: GraphAccessOptions["retry"],
): GraphAccess {
  return new GraphAccess({
    baseUrl: emulator.graphBaseUrl,
    caPem: emulator.caCertPem,
    ...(retry ? { retry } : {}),
    credential: {
      getToken: async () => ({
        token: emulator.issueToken(),
        expiresOnTimestamp: Date.now() + 3_600_000,
      }),
      invalidate: () => undefined,
    },
  });
}
