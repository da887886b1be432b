/**
 * The brake a person releases, through the runs API: a run that plans more writes than
 * `APPROVAL_THRESHOLD` writes its plan's report and waits; an operator's approval
 * (`POST /api/runs/{id}/approve`) lets it write; without one it ends `notApproved` when
 * `APPROVAL_TIMEOUT_HOURS` is up, with nothing written. The threshold is one below the fixture's
 * planned writes, so the brake is just reached.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import type { InstanceStatus } from "../../local/host/types.js";
import { readRunStatus } from "../../shared/run/index.js";
import { attacksTenant, readReport, usersDeciding } from "./attacksFixture.js";
import { outputOf, startWorld, type World } from "./world.js";

/** Polls a run until `done` says so (or fails after `timeoutMs`). */
async function waitFor(
  world: World,
  runId: string,
  done: (s: InstanceStatus) => boolean,
  timeoutMs = 15_000,
): Promise<InstanceStatus> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const s = await world.host.getStatus(runId);
    if (s && done(s)) {
      return s;
    }
    if (Date.now() > until) {
      throw new Error(`run ${runId} did not get there: ${JSON.stringify(s?.customStatus)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("a run above APPROVAL_THRESHOLD (runs API)", () => {
  let world: World;
  let tenant: TenantFixture;
  let writes: number;
  beforeAll(async () => {
    tenant = await attacksTenant();
    writes = usersDeciding(tenant, "create").length;
    world = await startWorld({
      tenant,
      settings: {
        DEFAULT_REGION: "DK",
        EXCLUDE_GROUPS: "Break Glass Accounts",
        APPROVAL_THRESHOLD: String(writes - 1),
      },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  it("waits with its plan's report written, and writes once an operator approves it", async () => {
    world.reset();
    const api = `${world.host.baseUrl}/api/runs`;
    const started = await fetch(api, { method: "POST" });
    expect(started.status).toBe(202);
    const { id } = (await started.json()) as { id: string };

    const waiting = await waitFor(
      world,
      id,
      (s) => readRunStatus(s.customStatus).phase === "awaitingApproval",
    );
    const view = (await (await fetch(`${api}/${id}`)).json()) as { phase: string };
    expect(view.phase).toBe("awaitingApproval");
    const approval = readRunStatus(waiting.customStatus).approval;
    expect(approval?.planned).toBe(writes);
    expect(approval?.threshold).toBe(writes - 1);
    // The plan's report is there to review, and says it waits.
    const page = await fetch(`${api}/${id}/report`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    expect(approval?.reportKeys).toBeDefined();
    const preview = await readReport(world.runsDir, approval!.reportKeys!);
    expect(preview.approval?.status).toBe("awaiting");
    expect(preview.outcomes.awaitingApproval).toBe(writes);
    expect(world.emulator.metrics().writes).toBe(0);

    const approved = await fetch(`${api}/${id}/approve`, { method: "POST" });
    expect(approved.status).toBe(202);
    const output = outputOf(await world.host.waitForCompletion(id, { timeoutMs: 30_000 }));

    expect(output.approval?.status).toBe("approved");
    expect(output.counts.created).toBe(writes);
    expect(world.emulator.metrics().writes).toBe(writes);
    expect([...world.mobiles().keys()].sort()).toEqual(
      usersDeciding(tenant, "create")
        .map((u) => u.id)
        .sort(),
    );
    const report = await readReport(world.runsDir, output.reportKeys);
    expect(report.approval).toMatchObject({ status: "approved", by: "local operator" });
  });

  it("writes nothing and ends notApproved when nobody approves within APPROVAL_TIMEOUT_HOURS", async () => {
    world.reset();
    // 0.0005 hours: 1.8 seconds.
    const output = outputOf(await world.run({ settings: { APPROVAL_TIMEOUT_HOURS: "0.0005" } }));

    expect(output.approval?.status).toBe("notApproved");
    expect(output.counts.planned).toBe(writes);
    expect(output.counts.created).toBe(0);
    expect(world.emulator.metrics().writes).toBe(0);
    expect(world.mobiles().size).toBe(0);
    const report = await readReport(world.runsDir, output.reportKeys);
    expect(report.approval?.status).toBe("notApproved");
    expect(report.outcomes.notApproved).toBe(writes);
  });
});
