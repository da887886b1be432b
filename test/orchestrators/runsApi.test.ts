import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { expectedWrites, startWorld, targetingTenant, type World } from "../e2e/world.js";

interface RunView {
  id: string;
  runtimeStatus: string;
  phase?: string;
  progressPercent: number;
  counts?: Record<string, number>;
  failedChunks: number[];
  links: { self: string; rerun: string; cancel: string };
}

describe("runs HTTP API on the local host", () => {
  let world: World;
  let tenant: TenantFixture;
  const api = (path: string, init?: RequestInit): Promise<Response> =>
    fetch(`${world.host.baseUrl}/api${path}`, init);

  async function waitDone(id: string): Promise<RunView> {
    for (;;) {
      const view = (await (await api(`/runs/${id}`)).json()) as RunView;
      if (["Completed", "Failed", "Terminated"].includes(view.runtimeStatus)) {
        return view;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  beforeAll(async () => {
    tenant = await targetingTenant();
    world = await startWorld({
      tenant,
      // Slow writes, so a run is still in progress while the next requests arrive.
      config: { latency: { "phoneMethods.create": { meanMs: 400, p99Ms: 600 } } },
      settings: { DEFAULT_REGION: "DK", EXCLUDE_GROUPS: "Break Glass Accounts", DRY_RUN: "false" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });
  // Runs here write (or are cancelled while writing): each test starts from the fixture.
  beforeEach(() => {
    world.reset();
  });

  it("starts a dry run, reports its progress and lists it", async () => {
    const start = await api("/runs", {
      method: "POST",
      body: JSON.stringify({ dryRun: true }),
      headers: { "Content-Type": "application/json" },
    });
    expect(start.status).toBe(202);
    const { id } = (await start.json()) as { id: string };
    expect(start.headers.get("location")).toContain(`/api/runs/${id}`);
    const done = await waitDone(id);
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.progressPercent).toBe(100);
    expect(done.counts?.planned).toBe(expectedWrites(tenant));
    expect(done.counts?.created).toBe(0);
    expect(done.links.rerun).toContain(`/api/runs/${id}/rerun`);
    const list = (await (await api("/runs")).json()) as { runs: RunView[] };
    expect(list.runs.map((r) => r.id)).toContain(id);
    expect(world.emulator.metrics().writes).toBe(0);
    // A dry run has nothing to rerun.
    expect((await api(`/runs/${id}/rerun`, { method: "POST" })).status).toBe(409);
  });

  it("refuses a second run while one is in progress, and cancels on request", async () => {
    const first = await api("/runs", { method: "POST" });
    expect(first.status).toBe(202);
    const { id } = (await first.json()) as { id: string };
    const second = await api("/runs", { method: "POST" });
    expect(second.status).toBe(409);
    expect(((await second.json()) as { runningId: string }).runningId).toBe(id);
    const cancel = await api(`/runs/${id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(202);
    const done = await waitDone(id);
    expect(done.runtimeStatus).toBe("Terminated");
    expect((await api(`/runs/${id}/cancel`, { method: "POST" })).status).toBe(409);
  });

  it("answers bad ids and bodies with a JSON error, never a stack trace", async () => {
    const bad = await api("/runs/not%20valid!");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/run id/);
    const unknown = await api("/runs/no-such-run");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe(
      "No run has the id 'no-such-run'.",
    );
    const body = await api("/runs", { method: "POST", body: "{not json" });
    expect(body.status).toBe(400);
    const wrongType = await api("/runs", {
      method: "POST",
      body: JSON.stringify({ dryRun: "yes" }),
    });
    expect(wrongType.status).toBe(400);
    for (const r of [bad, unknown, body, wrongType]) {
      expect(r.headers.get("content-type")).toContain("application/json");
    }
  });

  it("starts a nightly run from the timer only when none is in progress", async () => {
    await world.host.fireTimer("nightlySchedule");
    const runs = await world.host.listInstances({ runtimeStatus: ["Running", "Pending"] });
    const nightly = runs.find((r) => r.instanceId.startsWith("nightly-"));
    expect(nightly).toBeDefined();
    await world.host.fireTimer("nightlySchedule");
    const again = await world.host.listInstances({ runtimeStatus: ["Running", "Pending"] });
    expect(again.filter((r) => r.name === "nightlyRun")).toHaveLength(1);
    const done = await waitDone(nightly!.instanceId);
    expect(done.runtimeStatus).toBe("Completed");
    expect(done.counts?.created).toBe(expectedWrites(tenant));
  });
});
