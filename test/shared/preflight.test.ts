import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { GraphAccess, Page } from "../../shared/graph/client.js";
import {
  checkMethodsPolicy,
  SMS_VOICE_RETIREMENT,
  type MethodConfiguration,
} from "../../shared/preflight.js";
import { runKeys, type ChunkItem } from "../../shared/run/index.js";
import type { Method } from "../../shared/settings/index.js";
import { FsRunStore } from "../../shared/store/index.js";

const RUN = "run-1";
const BEFORE = "2026-12-01T02:00:00.000Z";

/** A Graph that answers the policy's configurations and group members from maps. */
function policyGraph(
  configurations: Record<string, Partial<MethodConfiguration>>,
  members: Record<string, string[]> = {},
): Pick<GraphAccess, "get" | "pages"> {
  return {
    get: async <T>(p: string): Promise<T> => {
      const id = p.slice(p.lastIndexOf("/") + 1);
      return { id, state: "disabled", ...configurations[id] } as T;
    },
    pages: async function* <T>(p: string): AsyncGenerator<Page<T>> {
      const groupId = decodeURIComponent(/\/groups\/([^/]+)\//.exec(p)?.[1] ?? "");
      yield { value: (members[groupId] ?? []).map((id) => ({ id })) as T[] } as Page<T>;
    },
  };
}

const everyone = { state: "enabled", includeTargets: [{ id: "all_users" }] };

describe("the policy pre-flight", () => {
  let dir: string;
  let store: FsRunStore;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-preflight-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** One chunk with writes of these methods for these users. */
  async function plan(writes: [string, Method][]): Promise<void> {
    const items: ChunkItem[] = writes.map(([userId, method]) =>
      method === "email"
        ? {
            userId,
            userPrincipalName: userId,
            action: "create",
            method,
            emailAddress: "a@b.example",
          }
        : {
            userId,
            userPrincipalName: userId,
            action: "create",
            method,
            phoneNumber: "+45 20123456",
          },
    );
    await store.putJson(runKeys.chunk(RUN, 0), items);
  }

  const check = (
    graph: Pick<GraphAccess, "get" | "pages">,
    methods: Method[],
    startedAt = BEFORE,
  ) => checkMethodsPolicy(graph, store, { runId: RUN, methods, chunks: 1, startedAt });

  it("lets a run go on when the policy enables the method for every planned user", async () => {
    await plan([
      ["u1", "mobile"],
      ["u2", "mobile"],
    ]);
    const found = await check(policyGraph({ Sms: everyone }), ["mobile"]);
    expect(found.stop).toBeUndefined();
    expect(found.methods).toMatchObject([
      { method: "mobile", planned: 2, covered: 2, notCovered: 0 },
    ]);
    expect(found.notes).toEqual([]);
  });

  it("stops when SMS and voice are disabled, in one sentence naming the policy and METHODS", async () => {
    await plan([["u1", "mobile"]]);
    const found = await check(policyGraph({}), ["mobile"]);
    expect(found.stop).toContain("the authentication methods policy");
    expect(found.stop).toContain("SMS: disabled; Voice call: disabled");
    expect(found.stop).toContain("take 'mobile' out of METHODS");
    expect(found.stop?.match(/\.(\s|$)/g)).toHaveLength(1);
  });

  it("stops for a method disabled for everyone even when the plan holds no write of it", async () => {
    await plan([["u1", "mobile"]]);
    const found = await check(policyGraph({ Sms: everyone }), ["mobile", "email"]);
    expect(found.stop).toContain("lets no one use the email method (Email OTP: disabled)");
  });

  it("counts users outside the include group or inside the exclude group as not covered", async () => {
    await plan([
      ["u1", "mobile"],
      ["u2", "mobile"],
      ["u3", "mobile"],
    ]);
    const graph = policyGraph(
      {
        Sms: {
          state: "enabled",
          includeTargets: [{ id: "g-in" }],
          excludeTargets: [{ id: "g-out" }],
        },
      },
      { "g-in": ["u1", "u2"], "g-out": ["u2"] },
    );
    const found = await check(graph, ["mobile"]);
    expect(found.stop).toBeUndefined();
    expect(found.methods).toMatchObject([{ planned: 3, covered: 1, notCovered: 2 }]);
  });

  it("needs Voice with office phones allowed for the office phone", async () => {
    await plan([["u1", "office"]]);
    const without = await check(policyGraph({ Voice: everyone }), ["office"]);
    expect(without.stop).toContain("Voice call: enabled without office phones");
    const allowed = await check(
      policyGraph({ Voice: { ...everyone, isOfficePhoneAllowed: true } }),
      ["office"],
    );
    expect(allowed.stop).toBeUndefined();
    expect(allowed.methods).toMatchObject([{ method: "office", covered: 1 }]);
  });

  it("says from the run's own start on 1 February 2027 what to check about telephony, for phone methods only", async () => {
    await plan([["u1", "mobile"]]);
    const graph = policyGraph({ Sms: everyone, Email: everyone });
    const justBefore = new Date(Date.parse(SMS_VOICE_RETIREMENT) - 1).toISOString();
    expect((await check(graph, ["mobile"], justBefore)).notes).toEqual([]);
    const after = await check(graph, ["mobile"], SMS_VOICE_RETIREMENT);
    expect(after.notes).toHaveLength(1);
    expect(after.notes[0]).toContain("telephony provider");
    expect(after.notes[0]).toContain("Microsoft Graph does not say");
    expect((await check(graph, ["email"], SMS_VOICE_RETIREMENT)).notes).toEqual([]);
  });
});
