import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BatchRequest, GraphAccess } from "../../../shared/graph/client.js";
import { recheckChunk, recheckKeys } from "../../../shared/guards/recheck.js";
import { runKeys, type ChunkItem } from "../../../shared/run/index.js";
import { FsRunStore } from "../../../shared/store/index.js";

/** Users as a re-read returns them now. */
const NOW: Record<string, Record<string, unknown>> = {
  u1: { mobilePhone: "+45 20 12 34 56" },
  u2: { otherMails: ["changed@mail.example"] },
  u3: { businessPhones: ["+45 33 12 34 56 ext. 12"] },
  u4: { otherMails: ["Same@Mail.example"] },
  u5: { businessPhones: ["+45 33 99 99 99"] },
};

const graph = {
  batch: async (requests: BatchRequest[]) =>
    requests.map((r) => {
      const id = decodeURIComponent(/\/users\/([^?]+)/.exec(r.url)?.[1] ?? "");
      return {
        id: r.id,
        status: 200,
        body: { id, accountEnabled: true, userType: "Member", ...NOW[id] },
      };
    }),
} as unknown as GraphAccess;

describe("the re-check before writing, per method", () => {
  let dir: string;
  let store: FsRunStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-recheck-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("leaves out the writes whose own value changed since the plan, naming the method", async () => {
    const who = (userId: string) => ({ userId, userPrincipalName: `${userId}@contoso.example` });
    const items: ChunkItem[] = [
      { ...who("u1"), action: "create", phoneNumber: "+45 20123456" },
      { ...who("u2"), action: "create", method: "email", emailAddress: "planned@mail.example" },
      { ...who("u3"), action: "create", method: "office", phoneNumber: "+45 33123456x12" },
      { ...who("u4"), action: "create", method: "email", emailAddress: "same@mail.example" },
      { ...who("u5"), action: "create", method: "office", phoneNumber: "+45 33123456" },
    ];
    await store.putJson(runKeys.chunk("r1", 0), items);
    await store.putJson(recheckKeys.holders("r1"), { excluded: [], roleHolders: [] });
    const changed = await recheckChunk(graph, store, {
      runId: "r1",
      chunkNo: 0,
      rereadUsers: true,
      settings: { defaultRegion: "DK", allowLandline: false },
    });
    expect(changed).toEqual([
      {
        userId: "u2",
        method: "email",
        why: "The user's alternate email address changed since the plan.",
      },
      { userId: "u5", method: "office", why: "The user's number changed since the plan." },
    ]);
  });
});
