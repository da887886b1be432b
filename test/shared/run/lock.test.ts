import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  acquireRunLock,
  countsAsActive,
  releaseRunLock,
  RUN_LOCK_KEY,
  runKeys,
} from "../../../shared/run/index.js";
import { FsRunStore } from "../../../shared/store/index.js";

describe("the one-run lock", () => {
  let dir: string;
  let store: FsRunStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-lock-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("lets exactly one of several starters racing in the same instant start a run", async () => {
    const results = await Promise.all(
      ["timer", "http-a", "http-b"].map((id) => acquireRunLock(store, id, async () => true)),
    );
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
    const winner = (await store.getJson<{ runId: string }>(RUN_LOCK_KEY))?.runId;
    for (const r of results) {
      if (!r.acquired) {
        expect(r.heldBy).toBe(winner);
      }
    }
  });

  it("refuses while the holder is active, and takes over a holder that ended without releasing", async () => {
    await store.putJson(RUN_LOCK_KEY, { runId: "old", at: "2026-11-30T02:00:00.000Z" });
    expect(await acquireRunLock(store, "new", async () => true)).toEqual({
      acquired: false,
      heldBy: "old",
    });
    expect(await acquireRunLock(store, "new", async () => false)).toEqual({ acquired: true });
  });

  it("lets only one of two racing starters take over the same dead holder", async () => {
    await store.putJson(RUN_LOCK_KEY, { runId: "dead", at: "2026-11-30T02:00:00.000Z" });
    // Each starter sees its rival's fresh lock as one whose run is not visible yet (starting).
    const results = await Promise.all(
      ["a", "b"].map((id) =>
        acquireRunLock(store, id, async (holder) => (holder === "dead" ? false : undefined)),
      ),
    );
    expect(results.filter((r) => r.acquired)).toHaveLength(1);
  });

  it("counts a lock younger than ten minutes as held while its run is not visible yet", async () => {
    await acquireRunLock(store, "starting", async () => true);
    expect(await acquireRunLock(store, "next", async () => undefined)).toEqual({
      acquired: false,
      heldBy: "starting",
    });
    // Once its run is visible and ended (cancelled, failed), a new run may start at once.
    expect(await acquireRunLock(store, "next", async () => false)).toEqual({ acquired: true });
  });

  it("is released only by the run that holds it", async () => {
    await acquireRunLock(store, "mine", async () => true);
    await releaseRunLock(store, "someone-else");
    expect(await store.exists(RUN_LOCK_KEY)).toBe(true);
    await releaseRunLock(store, "mine");
    expect(await store.exists(RUN_LOCK_KEY)).toBe(false);
  });

  it("counts a suspended run, and a terminated run with a chunk still writing, as active", async () => {
    expect(await countsAsActive(store, "r", "Suspended")).toBe(true);
    expect(await countsAsActive(store, "r", "Terminated")).toBe(false);
    await store.putJson(runKeys.runningChunk("r", 3), { startedAt: new Date().toISOString() });
    expect(await countsAsActive(store, "r", "Terminated")).toBe(true);
    await store.putJson(runKeys.runningChunk("r", 3), { startedAt: "2026-01-01T00:00:00.000Z" });
    expect(await countsAsActive(store, "r", "Terminated")).toBe(false);
    expect(await countsAsActive(store, "r", "Completed")).toBe(false);
    expect(await countsAsActive(store, "r", undefined)).toBeUndefined();
  });
});
