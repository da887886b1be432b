import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { query } from "../../../shared/graph/paths.js";
import type { RetryEvent } from "../../../shared/graph/transport.js";
import { access } from "./support.js";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { generateTenant } from "../../../local/graph-emulator/tenant/generate.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";

// MSAL keeps the managed-identity endpoint process-wide (as one Functions process has one), so
// each emulator that serves managed-identity tokens gets a test file (a process) of its own.
describe("GraphAccess against the emulator (hostile profile, 10,000 users)", () => {
  let emulator: EmulatorHandle;
  let tenant: TenantFixture;

  beforeAll(async () => {
    tenant = generateTenant({ users: 10_000, seed: 7 });
    emulator = await startEmulator({
      tenant,
      profile: "hostile",
      // Time runs 100x faster. Tokens die after 3 s while claiming 1,000 s, so the client
      // keeps using a token that Graph already refuses: only the 401 path can save the run.
      config: {
        timeScale: 0.01,
        seed: 3,
        tokenLifetimeSeconds: 300,
        advertisedTokenLifetimeSeconds: 100_000,
      },
    });
  });
  afterAll(async () => {
    await emulator?.close();
  });

  it("pages every user exactly once while tokens expire, throttling storms and faults hit", async () => {
    const events: RetryEvent[] = [];
    const graph = access(emulator, events);
    const seen = new Map<string, number>();
    let pages = 0;
    for await (const page of graph.pages<{ id: string }>(
      `/users${query({ $select: "id,userPrincipalName", $top: 100 })}`,
    )) {
      pages++;
      for (const u of page.value) {
        seen.set(u.id, (seen.get(u.id) ?? 0) + 1);
      }
      // Slow enough that the 3 s token lifetime runs out mid-way.
      await new Promise((r) => setTimeout(r, 40));
    }
    await graph.close();
    expect(pages).toBe(100);
    expect(seen.size).toBe(tenant.users.length);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(new Set(seen.keys())).toEqual(new Set(tenant.users.map((u) => u.id)));
    // The token really expired mid-run and was refreshed after Graph's 401.
    expect(events.some((e) => e.status === 401)).toBe(true);
  });

  it("sends ConsistencyLevel on every page of an advanced query, as Graph requires", async () => {
    const graph = access(emulator);
    let total = 0;
    let count: number | undefined;
    const path = `/users${query({ $filter: "mobilePhone ne null", $count: "true", $select: "id", $top: 999 })}`;
    for await (const page of graph.pages<{ id: string }>(path, { ConsistencyLevel: "eventual" })) {
      count ??= page.count;
      total += page.value.length;
    }
    await graph.close();
    const expected = tenant.users.filter(
      (u) => u.mobilePhone !== undefined && u.mobilePhone !== null,
    ).length;
    expect(total).toBe(expected);
    expect(count).toBe(expected);
  });
});
