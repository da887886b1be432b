import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FsRunStore } from "../../../shared/store/index.js";
import { expireRuns, runStartedAt } from "../../../shared/store/retention.js";

describe("run retention", () => {
  let dir: string;
  let store: FsRunStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-retention-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a run's start from its id", () => {
    expect(runStartedAt("nightly-20261101T020000Z-ab12")?.toISOString()).toBe(
      "2026-11-01T02:00:00.000Z",
    );
    expect(
      runStartedAt("run-20261201T020000Z-ab12-rerun-20261202T030000Z-cd34")?.toISOString(),
    ).toBe("2026-12-01T02:00:00.000Z");
    expect(runStartedAt("test-run-1")).toBeUndefined();
  });

  it("deletes runs older than the retention period with every file that holds numbers, and keeps the rest", async () => {
    const old = "run-20261030T020000Z-aaaa";
    const recent = "run-20261125T020000Z-bbbb";
    for (const runId of [old, recent, "test-run-1"]) {
      await store.putJson(`runs/${runId}/chunks/000000.json`, [{ phoneNumber: "+45 20123456" }]);
      await store.putJson(`runs/${runId}/pages/users/000000.json`, []);
    }
    await store.putJson("state/history/mobile-00.json", {});
    const expired = await expireRuns(store, {
      retentionDays: 30,
      now: new Date("2026-12-01T02:00:00.000Z"),
    });
    expect(expired).toEqual([old]);
    const left: string[] = [];
    for await (const key of store.list("")) {
      left.push(key);
    }
    expect(left.some((k) => k.startsWith(`runs/${old}/`))).toBe(false);
    expect(left.filter((k) => k.startsWith(`runs/${recent}/`))).toHaveLength(2);
    expect(left).toContain("runs/test-run-1/chunks/000000.json");
    expect(left).toContain("state/history/mobile-00.json");
  });
});
