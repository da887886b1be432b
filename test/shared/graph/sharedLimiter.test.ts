import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphAccess } from "../../../shared/graph/client.js";
import { emulatorGraph } from "../../support/emulatorGraph.js";
import { writePhoneMethods } from "../../../shared/graph/phoneWriter.js";
import { AdaptiveLimiter } from "../../../shared/graph/throttle.js";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";

/**
 * Every writer of one process shares its limiter, as they share the tenant's write quota (one
 * chunk writes at a time per run, but waves stored before that may run several). Here eight
 * writers at once run into a small quota and must all finish.
 */
describe("eight writers sharing one limiter against a small write quota", () => {
  let emulator: EmulatorHandle;
  let graph: GraphAccess;
  const N = 1_200;
  const users = Array.from({ length: N }, (_, i) => ({
    id: `u${i}`,
    userPrincipalName: `u${i}@contoso.example`,
  }));

  beforeAll(async () => {
    emulator = await startEmulator({
      tenant: {
        tenant: { id: "6f1c2f5e-0000-4000-8000-000000000001", domain: "contoso.example" },
        users,
      },
      profile: "fast",
      // 400 writes per 150 s, 10x faster: a burst of 400, then about 27 writes/s.
      config: { writeQuota: 400, timeScale: 0.1 },
    });
    graph = emulatorGraph(emulator);
  });
  afterAll(async () => {
    await graph?.close();
    await emulator?.close();
  });

  it("provisions every user exactly once and never stalls", async () => {
    const limiter = new AdaptiveLimiter();
    const per = N / 8;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        writePhoneMethods(
          graph,
          users.slice(k * per, (k + 1) * per).map((u, i) => ({
            userId: u.id,
            phoneNumber: `+45 2${String(k * per + i).padStart(7, "0")}`,
            action: "create" as const,
          })),
          { limiter },
        ),
      ),
    );
    expect(results.flat().filter((o) => o.result === "created")).toHaveLength(N);
    expect(emulator.metrics().writes).toBe(N);
    expect(limiter.stats().inFlight).toBe(0);
  }, 120_000);
});
