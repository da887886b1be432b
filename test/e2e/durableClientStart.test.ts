/**
 * A nightly run started around the runs API: someone who can reach the Durable client API (the
 * host's start route) hands the orchestration settings of their own making. A run whose settings
 * lack a safety setting, carry a key the app does not know, or have no write cap fails before it
 * sends Graph a single request; an input made the same way with the settings intact runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { RUN_ORCHESTRATIONS, type RunInput } from "../../shared/run/index.js";
import { attacksTenant } from "./attacksFixture.js";
import { outputOf, startWorld, type World } from "./world.js";

describe("an orchestration started through the Durable client API with hand-made settings", () => {
  let world: World;
  let tenant: TenantFixture;
  beforeAll(async () => {
    tenant = await attacksTenant();
    world = await startWorld({
      tenant,
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  /** Starts nightlyRun through the host's HTTP start route, as a Durable client does. */
  async function startThroughClientApi(input: unknown, instanceId: string): Promise<void> {
    const answer = await fetch(
      `${world.host.baseUrl}/runtime/webhooks/durabletask/orchestrators/${RUN_ORCHESTRATIONS.nightlyRun}/${instanceId}`,
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(input),
      },
    );
    expect(answer.status).toBe(202);
  }

  /** The world's run input with its settings changed by `edit`. */
  function handMade(
    runId: string,
    edit: (settings: Record<string, unknown>) => void,
  ): Record<string, unknown> {
    const input = world.runInput({ runId });
    const settings: Record<string, unknown> = { ...input.settings };
    edit(settings);
    return { ...input, settings };
  }

  it.each([
    [
      "without skipAdmins",
      (s: Record<string, unknown>) => delete s.skipAdmins,
      "'settings.skipAdmins'",
    ],
    [
      "with an unknown key",
      (s: Record<string, unknown>) => (s.skipAdminsOverride = false),
      "unknown keys 'skipAdminsOverride'",
    ],
    [
      "without maxWritesPerRun",
      (s: Record<string, unknown>) => delete s.maxWritesPerRun,
      "'settings.maxWritesPerRun'",
    ],
  ])("fails before any Graph call %s", async (name, edit, named) => {
    const runId = `test-handmade-${name.replace(/\W+/g, "-")}`;
    const input = handMade(runId, edit);
    world.emulator.resetMetrics();

    await startThroughClientApi(input, runId);
    const status = await world.host.waitForCompletion(runId, { timeoutMs: 30_000 });

    expect(status.runtimeStatus).toBe("Failed");
    expect(JSON.stringify(status.output)).toMatch(/nightlyRun: the input is refused: /);
    expect(JSON.stringify(status.output)).toContain(named);
    const metrics = world.emulator.metrics();
    expect(metrics.requests).toBe(0);
    expect(metrics.tokensIssued).toBe(0);
    expect(world.mobiles().size).toBe(0);
  });

  it("runs an input made the same way with its settings intact (the control: the route does start runs)", async () => {
    const runId = "test-handmade-intact";
    const input: RunInput = world.runInput({ runId, dryRun: true });
    world.emulator.resetMetrics();

    await startThroughClientApi(input, runId);
    const output = outputOf(await world.host.waitForCompletion(runId, { timeoutMs: 60_000 }));

    expect(output.counts.candidates).toBe(tenant.users.length);
    expect(world.emulator.metrics().requests).toBeGreaterThan(0);
    expect(world.emulator.metrics().writes).toBe(0);
  });
});
