/**
 * One run at a time, when the starters race: the nightly timer fires while two requests to start
 * a run arrive in the same instant. Exactly one nightly run exists afterwards; each request that
 * did not start it is answered 409 with the id of the one that runs. Played a few rounds, so the
 * timer and either request get the chance to win.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RUN_ORCHESTRATIONS } from "../../shared/run/index.js";
import { attacksTenant } from "./attacksFixture.js";
import { startWorld, type World } from "./world.js";

const ROUNDS = 3;

describe("the timer and two HTTP starts in the same instant", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      tenant: await attacksTenant(),
      // Dry runs: a round's run writes nothing, so every round starts from the same tenant.
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts", DRY_RUN: "true" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  const post = (): Promise<Response> => fetch(`${world.host.baseUrl}/api/runs`, { method: "POST" });

  it.each(Array.from({ length: ROUNDS }, (_, i) => i + 1))(
    "start exactly one run (round %i)",
    async () => {
      const before = new Set((await world.host.listInstances()).map((s) => s.instanceId));

      const [, first, second] = await Promise.all([
        world.host.fireTimer("nightlySchedule"),
        post(),
        post(),
      ]);

      const runs = (await world.host.listInstances()).filter(
        (s) => s.name === RUN_ORCHESTRATIONS.nightlyRun && !before.has(s.instanceId),
      );
      expect(runs).toHaveLength(1);
      const runId = runs[0]?.instanceId;
      const answers = await Promise.all(
        [first, second].map(async (r) => ({
          status: r.status,
          body: (await r.json()) as { id?: string; runningId?: string },
        })),
      );
      for (const a of answers) {
        expect([202, 409]).toContain(a.status);
        expect(a.status === 202 ? a.body.id : a.body.runningId).toBe(runId);
      }
      // A request started the run, or the timer did and both requests were refused.
      const started = answers.filter((a) => a.status === 202).length;
      expect(started).toBe(runId?.startsWith("nightly-") ? 0 : 1);

      const done = await world.host.waitForCompletion(runId ?? "?", { timeoutMs: 60_000 });
      expect(done.runtimeStatus).toBe("Completed");
    },
  );
});
