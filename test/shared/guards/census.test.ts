import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  censusKeys,
  fileCensus,
  findSharedValues,
  loadValueGuards,
  settleShard,
} from "../../../shared/guards/census.js";
import { SHARDS, type ValueKind } from "../../../shared/guards/valueHash.js";
import { runKeys, type DirectoryUser, type RunSettings } from "../../../shared/run/index.js";
import { FsRunStore } from "../../../shared/store/index.js";
import { testRunSettings } from "../../support/runFixtures.js";

const settings: RunSettings = testRunSettings({ defaultRegion: "DK", dryRun: true });

const user = (id: string, mobilePhone: string | null, createdDateTime?: string): DirectoryUser => ({
  id,
  userPrincipalName: `${id}@contoso.example`,
  mobilePhone,
  accountEnabled: true,
  userType: "Member",
  ...(createdDateTime ? { createdDateTime } : {}),
});

/** Files the users as one run's census and settles every shard. */
async function night(store: FsRunStore, runId: string, users: DirectoryUser[], now: Date) {
  await store.putJson(runKeys.page(runId, "users", 0), users);
  await fileCensus(store, { runId, settings, fromPage: 0, toPage: 1, range: 0, reportPages: 0 });
  for (let shard = 0; shard < SHARDS; shard++) {
    await findSharedValues(store, { runId, shard, ranges: 1 });
    await settleShard(store, {
      runId,
      shard,
      ranges: 1,
      now,
      settleDays: 3,
      audit: new Map(),
      auditRead: true,
    });
  }
  return loadValueGuards(store, runId);
}

describe("the census", () => {
  let dir: string;
  let store: FsRunStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-census-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("finds a number held by several users, however it is written, and only that one", async () => {
    const guards = await night(
      store,
      "r1",
      [
        user("a", "+45 20 12 34 56"),
        user("b", "0045 20123456"),
        user("c", "20123456"),
        user("d", "+45 30123456"),
        user("e", "N/A"),
        user("f", "N/A"),
      ],
      new Date("2026-12-01T02:00:00Z"),
    );
    expect([...guards.sharedBy].sort()).toEqual([
      ["a", 3],
      ["b", 3],
      ["c", 3],
    ]);
  });

  it("holds a number changed between two nights, and settles it once it stayed for the period", async () => {
    const first = await night(
      store,
      "r1",
      [user("a", "+45 20123456")],
      new Date("2026-12-01T02:00:00Z"),
    );
    expect(first.unsettled.size).toBe(0);
    const changed = await night(
      store,
      "r2",
      [user("a", "+45 99887766")],
      new Date("2026-12-02T02:00:00Z"),
    );
    expect(changed.unsettled.get("a")).toMatchObject({
      why: "changed",
      since: "2026-12-02T02:00:00.000Z",
      until: "2026-12-05T02:00:00.000Z",
    });
    const stillNew = await night(
      store,
      "r3",
      [user("a", "+45 99887766")],
      new Date("2026-12-04T02:00:00Z"),
    );
    expect(stillNew.unsettled.has("a")).toBe(true);
    const settled = await night(
      store,
      "r4",
      [user("a", "+45 99887766")],
      new Date("2026-12-05T02:00:00Z"),
    );
    expect(settled.unsettled.has("a")).toBe(false);
  });

  it("keeps only hashes in the history, never a number", async () => {
    await night(store, "r1", [user("a", "+45 20123456")], new Date("2026-12-01T02:00:00Z"));
    let text = "";
    for await (const key of store.list("state/")) {
      text += await store.getText(key);
    }
    expect(text).not.toMatch(/20123456/);
    expect(text).toContain('"a"');
  });

  it("returns the same findings when a shard is settled twice, although the history moved on", async () => {
    const now = new Date("2026-12-02T02:00:00Z");
    await night(store, "r1", [user("a", "+45 20123456")], new Date("2026-12-01T02:00:00Z"));
    const once = await night(store, "r2", [user("a", "+45 99887766")], now);
    for (let shard = 0; shard < SHARDS; shard++) {
      await settleShard(store, {
        runId: "r2",
        shard,
        ranges: 1,
        now,
        settleDays: 3,
        audit: new Map(),
        auditRead: true,
      });
    }
    const twice = await loadValueGuards(store, "r2");
    expect([...twice.unsettled]).toEqual([...once.unsettled]);
    expect(await store.exists(censusKeys.settled("r2", 0))).toBe(true);
  });

  it("refuses to plan from a census that was not settled", async () => {
    await expect(loadValueGuards(store, "nothing")).rejects.toThrow(
      "Census: shard 0 of run 'nothing' was not settled before planning.",
    );
  });
});

describe("the census of the office phone and the email method", () => {
  let dir: string;
  let store: FsRunStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-census-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const all: RunSettings = { ...settings, methods: ["mobile", "email", "office"] };

  const contact = (
    id: string,
    mobilePhone: string | null,
    extra: Partial<DirectoryUser> = {},
  ): DirectoryUser => ({ ...user(id, mobilePhone), ...extra });

  /** One night over every method; the guards per method. */
  async function nightAll(runId: string, users: DirectoryUser[], now: Date) {
    await store.putJson(runKeys.page(runId, "users", 0), users);
    await fileCensus(store, {
      runId,
      settings: all,
      fromPage: 0,
      toPage: 1,
      range: 0,
      reportPages: 0,
    });
    for (let shard = 0; shard < SHARDS; shard++) {
      await findSharedValues(store, { runId, shard, ranges: 1, family: "phone" });
      await findSharedValues(store, { runId, shard, ranges: 1, family: "email" });
      for (const kind of all.methods) {
        await settleShard(store, {
          runId,
          shard,
          ranges: 1,
          now,
          settleDays: 3,
          audit: new Map(),
          auditRead: true,
          kind,
        });
      }
    }
    const guards = new Map<ValueKind, Awaited<ReturnType<typeof loadValueGuards>>>();
    for (const kind of all.methods) {
      guards.set(kind, await loadValueGuards(store, runId, kind));
    }
    return guards;
  }

  it("takes a number one user holds as a mobile and another as an office phone for shared, for those two only", async () => {
    const guards = await nightAll(
      "r1",
      [
        contact("a", "+45 20123456", { businessPhones: ["+45 33123456"] }),
        contact("b", "+45 30123456", { businessPhones: ["+45 20 12 34 56"] }),
        // The same number as both phones of one user is that user's alone.
        contact("c", "+45 40123456", { businessPhones: ["+45 40123456"] }),
      ],
      new Date("2026-12-01T02:00:00Z"),
    );
    expect([...(guards.get("mobile")?.sharedBy ?? [])]).toEqual([["a", 2]]);
    expect([...(guards.get("office")?.sharedBy ?? [])]).toEqual([["b", 2]]);
  });

  it("finds an address several users hold, however it is written", async () => {
    const guards = await nightAll(
      "r1",
      [
        contact("a", null, { otherMails: ["IT-Support@Partner.example"] }),
        contact("b", null, { otherMails: ["mailto:it-support@partner.example"] }),
        contact("c", null, { otherMails: ["c@gmail.example"] }),
      ],
      new Date("2026-12-01T02:00:00Z"),
    );
    expect([...(guards.get("email")?.sharedBy ?? [])].sort()).toEqual([
      ["a", 2],
      ["b", 2],
    ]);
    expect(guards.get("mobile")?.sharedBy.size).toBe(0);
  });

  it("keeps a history per method: a changed address waits while the unchanged mobile does not", async () => {
    await nightAll(
      "r1",
      [contact("a", "+45 20123456", { otherMails: ["a@gmail.example"] })],
      new Date("2026-12-01T02:00:00Z"),
    );
    const next = await nightAll(
      "r2",
      [contact("a", "+45 20123456", { otherMails: ["attacker@evil.example"] })],
      new Date("2026-12-02T02:00:00Z"),
    );
    expect(next.get("mobile")?.unsettled.has("a")).toBe(false);
    expect(next.get("email")?.unsettled.get("a")).toMatchObject({
      why: "changed",
      until: "2026-12-05T02:00:00.000Z",
    });
    let text = "";
    for await (const key of store.list("state/history/email-")) {
      text += await store.getText(key);
    }
    expect(text).toContain('"a"');
    expect(text).not.toMatch(/gmail|evil/);
  });
});
