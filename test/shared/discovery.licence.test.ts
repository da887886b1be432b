/**
 * The registration report's licence 403: licensed tenants get it now and then on a single page
 * (graph-api.md §10); one refusal is asked again, a tenant without the licence still stops.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { fetchPagesToStore, REPORT_PATH } from "../../shared/discovery.js";
import { GraphAccess } from "../../shared/graph/client.js";
import { GraphRequestError } from "../../shared/graph/errors.js";
import { FsRunStore } from "../../shared/store/fsRunStore.js";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../local/graph-emulator/config.js";

const RUN_ID = "20261201-000000-aaaa";

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) {
    await c();
  }
  cleanup = [];
});

async function fetchReport(
  premium: boolean,
  config: Partial<EmulatorConfig>,
): Promise<{ result: unknown; emulator: EmulatorHandle }> {
  const emulator = await startEmulator({
    profile: "fast",
    tenant: {
      tenant: { id: "6f1c2f5e-0000-4000-8000-000000000001", domain: "contoso.example", premium },
      users: Array.from({ length: 30 }, (_, i) => ({
        id: `u${i}`,
        userPrincipalName: `u${i}@contoso.example`,
      })),
    },
    config: { reportDefaultTop: 10, reportMaxTop: 10, ...config },
  });
  const dir = await mkdtemp(path.join(tmpdir(), "licence-"));
  const graph = new GraphAccess({
    baseUrl: emulator.graphBaseUrl,
    credential: {
      getToken: async () => ({
        token: emulator.issueToken(),
        expiresOnTimestamp: Date.now() + 3.6e6,
      }),
      invalidate: () => {},
    },
    caPem: emulator.caCertPem,
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
  });
  cleanup.push(
    () => emulator.close(),
    () => graph.close(),
    () => rm(dir, { recursive: true, force: true }),
  );
  const result = await fetchPagesToStore(graph, new FsRunStore(dir), {
    runId: RUN_ID,
    list: "report",
    firstPageNo: 0,
    firstPath: REPORT_PATH,
    headers: {},
    maxPages: 10,
    map: (row: unknown) => row,
  }).catch((e: unknown) => e);
  return { result, emulator };
}

describe("fetchPagesToStore on the registration report", () => {
  it("asks once more for a page a licensed tenant was refused with the licence 403, and gets every page", async () => {
    // The second page request is refused, as licensed tenants report.
    const { result, emulator } = await fetchReport(true, { reportLicence403OnRequest: 2 });
    expect(result).toEqual({ pages: 3, items: 30 });
    expect(emulator.metrics().byRoute["report.list"]?.requests).toBe(4);
  });

  it("stops with the licence named when the tenant has no licence, after asking once more", async () => {
    const { result, emulator } = await fetchReport(false, {});
    expect(result).toBeInstanceOf(GraphRequestError);
    expect((result as Error).message).toMatch(/Microsoft Entra ID P1 or P2 licence/);
    expect(emulator.metrics().byRoute["report.list"]?.requests).toBe(2);
  });
});
