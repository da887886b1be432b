/**
 * Stop means stop: an operator cancels a run in the middle of provisioning 5,000 users whose
 * writes are slow. The emulator's write count stops growing within one batch round trip of the
 * cancel, every wave sub-orchestration of the run ends, the run reads `cancelling` while a chunk
 * of it still writes and `cancelled` after, and the one-run rule lets a new run start only then.
 *
 * The tenant is made here: 5,000 plain members, each with a valid DK mobile number of their own,
 * created long ago, so every one of them is a planned write.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FixtureUser, TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { startWorld, type World } from "./world.js";

const USERS = 5_000;
/** Every phone-method create takes this long, so a batch's round trip is at least this. */
const WRITE_LATENCY_MS = 500;
/** One batch round trip: the write latency and room for the answer to travel on a busy machine. */
const ROUND_TRIP_MS = WRITE_LATENCY_MS + 400;
/** Writes seen before the cancel: provisioning is under way, far from done. */
const CANCEL_AFTER_WRITES = 50;

function plainMembers(count: number): TenantFixture {
  const users: FixtureUser[] = Array.from({ length: count }, (_, i) => ({
    id: `30000000-0000-4000-8000-${String(i + 1).padStart(12, "0")}`,
    userPrincipalName: `member${i + 1}@contoso.example`,
    displayName: `create | plain member ${i + 1}`,
    mobilePhone: `+45 201${String(i).padStart(5, "0")}`,
  }));
  return {
    tenant: {
      id: "6f1c2f5e-0000-4000-8000-0000000000cc",
      domain: "contoso.example",
      premium: true,
    },
    users,
  };
}

interface RunView {
  id: string;
  runtimeStatus: string;
  phase?: string;
}

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const value = await read();
    if (done(value)) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("cancel in the middle of provisioning 5,000 slow writes", () => {
  let world: World;
  beforeAll(async () => {
    world = await startWorld({
      tenant: plainMembers(USERS),
      config: {
        latency: { "phoneMethods.create": { meanMs: WRITE_LATENCY_MS, p99Ms: WRITE_LATENCY_MS } },
      },
      // Every write is planned and no approval is asked for: the run writes at once.
      settings: { DEFAULT_REGION: "DK", APPROVAL_THRESHOLD: "0" },
    });
  });
  afterAll(async () => {
    await world?.close();
  });

  const api = (path: string, init?: RequestInit): Promise<Response> =>
    fetch(`${world.host.baseUrl}/api${path}`, init);
  const view = async (id: string): Promise<RunView> =>
    (await (await api(`/runs/${id}`)).json()) as RunView;
  const startRun = (): Promise<Response> =>
    api("/runs", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ dryRun: true }),
    });

  it("stops writing within one batch round trip, ends every wave, reads cancelling then cancelled, and only then lets a new run start", async () => {
    const start = await api("/runs", { method: "POST" });
    expect(start.status).toBe(202);
    const { id } = (await start.json()) as { id: string };
    const writes = (): number => world.emulator.metrics().writes;
    await until(
      "writes to start",
      () => Promise.resolve(writes()),
      (w) => w >= CANCEL_AFTER_WRITES,
    );

    const cancel = await api(`/runs/${id}/cancel`, { method: "POST" });
    expect(cancel.status).toBe(202);
    // The write count one batch round trip after the cancel was answered.
    const atOneRoundTrip = new Promise<number>((resolve) =>
      setTimeout(() => resolve(writes()), ROUND_TRIP_MS),
    );
    // While a chunk still writes, the run counts as active: no new run starts.
    const early = await startRun();
    expect(early.status).toBe(409);
    expect(((await early.json()) as { runningId: string }).runningId).toBe(id);

    // The run reads cancelling, then cancelled, and never cancelling again.
    const phases: string[] = [];
    await until(
      "the run to read cancelled",
      async () => {
        const v = await view(id);
        expect(v.runtimeStatus).toBe("Terminated");
        if (phases.at(-1) !== v.phase) {
          phases.push(v.phase ?? "?");
        }
        return v;
      },
      (v) => v.phase === "cancelled",
    );
    expect(phases).toEqual(["cancelling", "cancelled"]);

    // Nothing written after one round trip of the cancel, even a few round trips later.
    const afterOneRoundTrip = await atOneRoundTrip;
    await new Promise((r) => setTimeout(r, 3 * ROUND_TRIP_MS));
    expect(writes()).toBe(afterOneRoundTrip);
    expect(afterOneRoundTrip).toBeGreaterThanOrEqual(CANCEL_AFTER_WRITES);
    expect(afterOneRoundTrip).toBeLessThan(USERS);
    expect(world.mobiles().size).toBe(afterOneRoundTrip);

    // Every wave of the run has ended.
    const waves = (await world.host.listInstances()).filter((s) =>
      s.instanceId.startsWith(`${id}:wave:`),
    );
    expect(waves.length).toBeGreaterThan(0);
    for (const wave of waves) {
      expect(["Completed", "Failed", "Terminated"]).toContain(wave.runtimeStatus);
    }

    // Now a new run starts (a dry run: it writes nothing); it is cancelled in its turn.
    const next = await startRun();
    expect(next.status).toBe(202);
    const nextId = ((await next.json()) as { id: string }).id;
    expect((await api(`/runs/${nextId}/cancel`, { method: "POST" })).status).toBe(202);
    await until(
      "the new run to read cancelled",
      () => view(nextId),
      (v) => v.phase === "cancelled",
    );
    expect(writes()).toBe(afterOneRoundTrip);
  }, 60_000);
});
