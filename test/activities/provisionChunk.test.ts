import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { InvocationContext } from "@azure/functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { provisionChunk } from "../../activities/provisionChunk.js";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import { loadSettings } from "../../shared/settings/index.js";
import { GraphAccess } from "../../shared/graph/client.js";
import { AdaptiveLimiter } from "../../shared/graph/throttle.js";
import { runKeys, type ChunkItem, type ChunkOutcomeFile } from "../../shared/run/index.js";
import { setServices } from "../../shared/services.js";
import { FsRunStore } from "../../shared/store/index.js";

/**
 * Waits of a fast emulator: retries after a millisecond, reconciling reads after the shortest
 * wait the run tuning allows.
 */
const QUICK = { readAfterWriteMs: 100, retryBaseMs: 1 };

describe("provisionChunk", () => {
  let emulator: EmulatorHandle;
  let dir: string;
  let store: FsRunStore;
  const context = (lines: string[]): InvocationContext =>
    new InvocationContext({
      functionName: "provisionChunk",
      logHandler: (_level, ...args) => lines.push(args.map(String).join(" ")),
    });

  /** One chunk's story, shared by the tests below: every Graph answer a 504, then a rerun. */
  const faulted = {
    lines: [] as string[],
    failed: undefined as unknown,
    writesAfterFailure: -1,
    rerun: undefined as unknown,
    writesAfterRerun: -1,
  };

  beforeAll(async () => {
    emulator = await startEmulator({
      profile: "fast",
      tenant: {
        tenant: { id: "6f1c2f5e-0000-4000-8000-000000000001", domain: "contoso.example" },
        users: [1, 2, 3].map((n) => ({
          id: `u${n}`,
          userPrincipalName: `user${n}@contoso.example`,
        })),
      },
    });
    dir = await mkdtemp(path.join(tmpdir(), "mfa-chunk-"));
    store = new FsRunStore(dir);
    let token = emulator.issueToken();
    setServices({
      settings: loadSettings({}),
      store,
      limiter: new AdaptiveLimiter({ initial: 20 }),
      graph: new GraphAccess({
        baseUrl: emulator.graphBaseUrl,
        caPem: emulator.caCertPem,
        retry: { baseDelayMs: 1, maxDelayMs: 10 },
        credential: {
          getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
          invalidate: () => {
            token = emulator.issueToken();
          },
        },
      }),
    });
    const chunk: ChunkItem[] = [1, 2, 3].map((n) => ({
      userId: `u${n}`,
      userPrincipalName: `user${n}@contoso.example`,
      phoneNumber: `+45 2012345${n}`,
      action: "create",
    }));
    await store.putJson(runKeys.chunk("r1", 0), chunk);

    // Every Graph answer is a 504 without the write being applied: nothing can succeed.
    emulator.setConfig({ fault504Rate: 1, faultAfterWrite: false });
    faulted.failed = await provisionChunk(
      { runId: "r1", chunkNo: 0, logPhoneNumbers: "masked", graphWaits: QUICK },
      context(faulted.lines),
    );
    faulted.writesAfterFailure = emulator.metrics().writes;
    emulator.setConfig({ fault504Rate: 0 });
    faulted.rerun = await provisionChunk(
      { runId: "r1", chunkNo: 0, retryFailed: true, logPhoneNumbers: "masked", graphWaits: QUICK },
      context(faulted.lines),
    );
    faulted.writesAfterRerun = emulator.metrics().writes;
  });
  afterAll(async () => {
    setServices(undefined);
    await emulator?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("records transient failures, then a rerun writes only those users", async () => {
    expect(faulted.failed).toMatchObject({
      chunkNo: 0,
      counts: { created: 0, failed: 3, failedTransient: 3 },
    });
    expect(faulted.writesAfterFailure).toBe(0);
    expect(faulted.rerun).toMatchObject({ counts: { created: 3, failed: 0 } });
    expect(faulted.writesAfterRerun).toBe(3);
    const file = await store.getJson<ChunkOutcomeFile>(runKeys.outcome("r1", 0));
    expect(file?.complete).toBe(true);
    expect(file?.outcomes.map((o) => o.result)).toEqual(["created", "created", "created"]);
  });

  it("does nothing for a chunk already done, even when Durable runs it again", async () => {
    const before = emulator.metrics().requests;
    const again = await provisionChunk(
      { runId: "r1", chunkNo: 0, logPhoneNumbers: "masked" },
      context([]),
    );
    expect(again).toMatchObject({ counts: { created: 3 } });
    expect(emulator.metrics().requests).toBe(before);
  });

  it("logs the runbook's Status lines with masked numbers only", () => {
    const lines = faulted.lines;
    const provisioned = lines.filter((l) =>
      l.startsWith(
        "Status: MFA Phonemethod provisioned successfully; User: user1@contoso.example;",
      ),
    );
    expect(provisioned).toEqual([
      "Status: MFA Phonemethod provisioned successfully; User: user1@contoso.example; Message: MobilePhone +45 ******51",
    ]);
    expect(
      lines.some((l) =>
        l.startsWith("Status: MFA Phonemethod provisioning failed; User: user2@contoso.example"),
      ),
    ).toBe(true);
    expect(lines.join("\n")).not.toMatch(/20123451/);
    const events = lines
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.at(-1)).toMatchObject({
      event: "chunkProvisioned",
      runId: "r1",
      chunkNo: 0,
      created: 3,
    });
  });

  it("fails loudly when its chunk is missing from the run store", async () => {
    await expect(
      provisionChunk({ runId: "r1", chunkNo: 9, logPhoneNumbers: "masked" }, context([])),
    ).rejects.toThrow("provisionChunk: chunk 9 of run 'r1' is missing from the run store.");
  });
});
