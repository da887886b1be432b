import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphAccess } from "../../../shared/graph/client.js";
import type { GraphCredential } from "../../../shared/graph/credentials.js";
import { GraphRequestError } from "../../../shared/graph/errors.js";
import { writePhoneMethods, type PhoneWrite } from "../../../shared/graph/phoneWriter.js";
import { AdaptiveLimiter } from "../../../shared/graph/throttle.js";
import type { Outcome } from "../../../shared/run/index.js";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import { SlidingWindowQuota } from "../../../bench/quotaShapes.js";
import { SimClock } from "../../../bench/simClock.js";
import { SimGraph } from "../../../bench/simGraph.js";
import type { BatchRequest } from "../../../shared/graph/client.js";
import type { TenantFixture } from "../../../local/graph-emulator/tenant/types.js";

/** Tokens straight from the emulator, so several emulators can share this process. */
function tokens(emulator: EmulatorHandle): GraphCredential {
  let token = emulator.issueToken();
  return {
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
    invalidate: () => {
      token = emulator.issueToken();
    },
  };
}

function access(emulator: EmulatorHandle): GraphAccess {
  return new GraphAccess({
    baseUrl: emulator.graphBaseUrl,
    credential: tokens(emulator),
    caPem: emulator.caCertPem,
    retry: { baseDelayMs: 5, maxDelayMs: 1_000 },
  });
}

function tenantOf(users: TenantFixture["users"]): TenantFixture {
  return {
    tenant: { id: "6f1c2f5e-0000-4000-8000-000000000001", domain: "contoso.example" },
    users,
  };
}

function mobileOf(emulator: EmulatorHandle, id: string): string | undefined {
  return emulator
    .state()
    .users.find((u) => u.id === id)
    ?.phoneMethods.find((m) => m.phoneType === "mobile")?.phoneNumber;
}

describe("writePhoneMethods", () => {
  describe("every kind of answer (fast profile)", () => {
    let emulator: EmulatorHandle;
    let outcomes: Map<string, Outcome>;
    beforeAll(async () => {
      emulator = await startEmulator({
        profile: "fast",
        tenant: tenantOf([
          { id: "new1", userPrincipalName: "new1@contoso.example" },
          { id: "new2", userPrincipalName: "new2@contoso.example" },
          {
            id: "same",
            userPrincipalName: "same@contoso.example",
            phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 40123456" }],
          },
          {
            id: "other",
            userPrincipalName: "other@contoso.example",
            phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 41111111" }],
          },
          {
            id: "swap",
            userPrincipalName: "swap@contoso.example",
            phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 42222222" }],
          },
          {
            id: "holder",
            userPrincipalName: "holder@contoso.example",
            phoneMethods: [
              { phoneType: "mobile", phoneNumber: "+45 50123456", smsSignInNumber: true },
            ],
          },
          { id: "claimant", userPrincipalName: "claimant@contoso.example" },
          { id: "bad", userPrincipalName: "bad@contoso.example" },
        ]),
      });
      const graph = access(emulator);
      const writes: PhoneWrite[] = [
        { userId: "new1", phoneNumber: "+45 20123456", action: "create" },
        { userId: "new2", phoneNumber: "+1 2065550100x123", action: "create" },
        { userId: "same", phoneNumber: "+45 40123456", action: "create" },
        { userId: "other", phoneNumber: "+45 43333333", action: "create" },
        { userId: "swap", phoneNumber: "+45 44444444", action: "replace" },
        { userId: "claimant", phoneNumber: "+45 50123456", action: "create" },
        { userId: "bad", phoneNumber: "4520123456", action: "create" },
        { userId: "ghost", phoneNumber: "+45 20999999", action: "create" },
      ];
      const list = await writePhoneMethods(graph, writes, {
        limiter: new AdaptiveLimiter({ initial: 4 }),
      });
      outcomes = new Map(list.map((o) => [o.userId, o]));
      await graph.close();
    });
    afterAll(async () => {
      await emulator?.close();
    });

    it("creates the mobile method of users who have none", () => {
      expect(outcomes.get("new1")).toEqual({ userId: "new1", result: "created" });
      expect(outcomes.get("new2")?.result).toBe("created");
      expect(mobileOf(emulator, "new1")).toBe("+45 20123456");
      expect(mobileOf(emulator, "new2")).toBe("+1 2065550100x123");
    });

    it("reads back after Graph refuses a duplicate and reports the number as already present", () => {
      expect(outcomes.get("same")?.result).toBe("alreadyPresent");
    });

    it("never touches a different existing mobile number unless told to replace it", () => {
      expect(outcomes.get("other")?.result).toBe("existingDiffers");
      expect(mobileOf(emulator, "other")).toBe("+45 41111111");
      expect(outcomes.get("swap")?.result).toBe("replaced");
      expect(mobileOf(emulator, "swap")).toBe("+45 44444444");
    });

    it("records the SMS sign-in clash as created after verifying the method exists", () => {
      expect(outcomes.get("claimant")).toEqual({
        userId: "claimant",
        result: "created",
        note: "smsSignInNumberNotUnique",
      });
      expect(mobileOf(emulator, "claimant")).toBe("+45 50123456");
    });

    it("records refusals per user with Graph's status and code, and carries on", () => {
      const bad = outcomes.get("bad");
      expect(bad).toMatchObject({ result: "failed", transient: false });
      expect(bad?.result === "failed" && bad.status).toBeGreaterThanOrEqual(400);
      expect(outcomes.get("ghost")).toMatchObject({
        result: "failed",
        status: 404,
        transient: false,
      });
    });
  });

  it("writes nothing twice when Graph applies writes and then answers 503 or drops the connection", async () => {
    const users = Array.from({ length: 300 }, (_, i) => ({
      id: `u${i}`,
      userPrincipalName: `u${i}@contoso.example`,
    }));
    const emulator = await startEmulator({
      profile: "fast",
      tenant: tenantOf(users),
      config: {
        fault503Rate: 0.05,
        fault504Rate: 0.05,
        faultAfterWrite: true,
        seed: 11,
        timeScale: 0.01,
      },
    });
    try {
      const graph = access(emulator);
      const writes = users.map((u, i) => ({
        userId: u.id,
        phoneNumber: `+45 2${String(i).padStart(7, "0")}`,
        action: "create" as const,
      }));
      const list = await writePhoneMethods(graph, writes, {
        limiter: new AdaptiveLimiter({ initial: 40 }),
        maxAttempts: 20,
      });
      await graph.close();
      expect(list.filter((o) => o.result === "created")).toHaveLength(300);
      for (const w of writes) {
        expect(mobileOf(emulator, w.userId)).toBe(w.phoneNumber);
      }
      // Each user's method was created by exactly one write.
      expect(emulator.metrics().writes).toBe(300);
    } finally {
      await emulator.close();
    }
  });

  it("honours Retry-After on throttled items and still provisions everyone once", async () => {
    const users = Array.from({ length: 200 }, (_, i) => ({
      id: `t${i}`,
      userPrincipalName: `t${i}@contoso.example`,
    }));
    // 60 writes per 1.5 s window (scaled): the burst of 200 must be throttled and spread out.
    const emulator = await startEmulator({
      profile: "fast",
      tenant: tenantOf(users),
      config: { writeQuota: 60, writeQuotaWindowSeconds: 150, timeScale: 0.01 },
    });
    try {
      const graph = access(emulator);
      const limiter = new AdaptiveLimiter({ initial: 100 });
      let throttled = 0;
      const writes = users.map((u, i) => ({
        userId: u.id,
        phoneNumber: `+45 3${String(i).padStart(7, "0")}`,
        action: "create" as const,
      }));
      const list = await writePhoneMethods(graph, writes, {
        limiter,
        onThrottled: (n) => (throttled += n),
      });
      await graph.close();
      expect(list.every((o) => o.result === "created")).toBe(true);
      expect(throttled).toBeGreaterThan(0);
      expect(limiter.stats().throttled).toBe(throttled);
      expect(limiter.limit).toBeLessThan(100);
      expect(emulator.metrics().writes).toBe(200);
    } finally {
      await emulator.close();
    }
  });

  it("says once that every write has left and none waits for a retry, before its answers are all in", async () => {
    // A tiny quota: many writes are refused and sent again; the next chunk may start once the
    // last write has left and no refused one waits to go again (its turn passes), not when the
    // last answer is in.
    const users = Array.from({ length: 60 }, (_, i) => ({
      id: `s${i}`,
      userPrincipalName: `s${i}@contoso.example`,
    }));
    const emulator = await startEmulator({
      profile: "fast",
      tenant: tenantOf(users),
      config: { writeQuota: 20, writeQuotaWindowSeconds: 100, timeScale: 0.01 },
    });
    try {
      const graph = access(emulator);
      const calls: number[] = [];
      let outcomes = 0;
      const list = await writePhoneMethods(
        graph,
        users.map((u, i) => ({
          userId: u.id,
          phoneNumber: `+45 5${String(i).padStart(7, "0")}`,
          action: "create" as const,
        })),
        {
          limiter: new AdaptiveLimiter({ initial: 60 }),
          onOutcome: () => outcomes++,
          onAllSent: () => calls.push(outcomes),
        },
      );
      let empty = 0;
      await writePhoneMethods(graph, [], {
        limiter: new AdaptiveLimiter(),
        onAllSent: () => empty++,
      });
      await graph.close();
      expect(list.every((o) => o.result === "created")).toBe(true);
      expect(emulator.metrics().throttled).toBeGreaterThan(0);
      expect(calls).toHaveLength(1);
      expect(calls[0]).toBeLessThan(60);
      expect(empty).toBe(1);
    } finally {
      await emulator.close();
    }
  });

  it("passes its turn only when no refused write still waits to go again", async () => {
    // Arrange: a simulated Graph (simulated clock) whose window refuses part of every burst; each
    // write's state as Graph saw it: sent and not yet answered, refused and not yet sent again,
    // or done.
    const clock = new SimClock();
    const graph = new SimGraph({
      clock,
      quota: new SlidingWindowQuota(10, 1_000),
      createLatency: { meanMs: 400, p99Ms: 700 },
      readLatency: { meanMs: 100, p99Ms: 200 },
      usageHeader: false,
      unavailableShare: 0,
      seed: 7,
    });
    const state = new Map<string, "sent" | "refused" | "done">();
    const watched = {
      refreshToken: () => graph.refreshToken(),
      batch: async (requests: BatchRequest[]) => {
        const ids = requests.map((r) => r.url.split("/")[2] ?? "");
        ids.forEach((id) => state.set(id, "sent"));
        const results = await graph.batch(requests);
        results.forEach((r, i) => state.set(ids[i] ?? "", r.status === 429 ? "refused" : "done"));
        return results;
      },
    };
    let atTurn: Map<string, string> | undefined;

    // Act
    const outcomes = await clock.run(
      writePhoneMethods(
        watched as never,
        Array.from({ length: 80 }, (_, i) => ({
          userId: `w${i}`,
          phoneNumber: `+45 6${String(i).padStart(7, "0")}`,
          action: "create" as const,
        })),
        {
          limiter: new AdaptiveLimiter({ clock, initial: 40 }),
          onAllSent: () => (atTurn = new Map(state)),
          random: () => 0.5,
        },
      ),
    );

    // Assert
    expect(outcomes.every((o) => o.result === "created")).toBe(true);
    expect(graph.metrics.throttled).toBeGreaterThan(0);
    expect(atTurn?.size).toBe(80);
    expect([...(atTurn?.values() ?? [])]).not.toContain("refused");
    expect([...(atTurn?.values() ?? [])]).toContain("sent");
  });

  it("POSTs once per new user and reads nothing back when every write succeeds", async () => {
    const users = Array.from({ length: 100 }, (_, i) => ({
      id: `p${i}`,
      userPrincipalName: `p${i}@contoso.example`,
    }));
    const emulator = await startEmulator({ profile: "fast", tenant: tenantOf(users) });
    try {
      const graph = access(emulator);
      const list = await writePhoneMethods(
        graph,
        users.map((u, i) => ({
          userId: u.id,
          phoneNumber: `+45 4${String(i).padStart(7, "0")}`,
          action: "create" as const,
        })),
        { limiter: new AdaptiveLimiter() },
      );
      await graph.close();
      expect(list.every((o) => o.result === "created")).toBe(true);
      const metrics = emulator.metrics();
      expect(metrics.requests).toBe(100);
      expect(metrics.byRoute["phoneMethods.list"]).toBeUndefined();
      expect(metrics.batches).toBeLessThan(100);
    } finally {
      await emulator.close();
    }
  });

  it("loses and doubles no user when batches partly fail under a tiny quota with faults", async () => {
    const users = Array.from({ length: 60 }, (_, i) => ({
      id: `q${i}`,
      userPrincipalName: `q${i}@contoso.example`,
    }));
    // The reports reading of the limits (5 requests per 10 s, scaled to 1 s) with 503s and 504s
    // after the write was applied: batches come back part created, part throttled, part unknown.
    const emulator = await startEmulator({
      profile: "fast",
      tenant: tenantOf(users),
      config: {
        phoneWriteQuotaModel: "reports",
        fault503Rate: 0.05,
        fault504Rate: 0.05,
        faultAfterWrite: true,
        seed: 5,
        timeScale: 0.01,
      },
    });
    try {
      const graph = access(emulator);
      const limiter = new AdaptiveLimiter({ initial: 20 });
      const writes = users.map((u, i) => ({
        userId: u.id,
        phoneNumber: `+45 5${String(i).padStart(7, "0")}`,
        action: "create" as const,
      }));
      const seen: string[] = [];
      const list = await writePhoneMethods(graph, writes, {
        limiter,
        maxAttempts: 30,
        onOutcome: (o) => seen.push(o.userId),
      });
      await graph.close();
      expect(list.filter((o) => o.result === "created")).toHaveLength(users.length);
      expect(new Set(seen).size).toBe(users.length);
      expect(seen).toHaveLength(users.length);
      for (const w of writes) {
        expect(mobileOf(emulator, w.userId)).toBe(w.phoneNumber);
      }
      expect(emulator.metrics().writes).toBe(users.length);
      expect(emulator.metrics().throttled).toBeGreaterThan(0);
      expect(limiter.stats().throttled).toBeGreaterThan(0);
    } finally {
      await emulator.close();
    }
  });

  it("stops at once with the missing permission named when Graph refuses the app", async () => {
    const emulator = await startEmulator({
      profile: "fast",
      tenant: tenantOf([{ id: "x", userPrincipalName: "x@contoso.example" }]),
      config: { grantedRoles: ["User.Read.All"] },
    });
    try {
      const graph = access(emulator);
      const error = await writePhoneMethods(
        graph,
        [{ userId: "x", phoneNumber: "+45 20123456", action: "create" }],
        {
          limiter: new AdaptiveLimiter(),
        },
      ).catch((e: unknown) => e);
      await graph.close();
      expect(error).toBeInstanceOf(GraphRequestError);
      expect((error as GraphRequestError).kind).toBe("fatal");
      expect((error as GraphRequestError).message).toContain(
        "UserAuthenticationMethod.ReadWrite.All",
      );
    } finally {
      await emulator.close();
    }
  });

  describe("the email method and the office phone (fast profile)", () => {
    let emulator: EmulatorHandle;
    let outcomes: Map<string, Outcome>;
    const userOf = (id: string) => emulator.state().users.find((u) => u.id === id);
    beforeAll(async () => {
      emulator = await startEmulator({
        profile: "fast",
        tenant: tenantOf([
          { id: "mail1", userPrincipalName: "mail1@contoso.example" },
          // Registered already with this address, in another case: a duplicate, read back.
          {
            id: "mail2",
            userPrincipalName: "mail2@contoso.example",
            otherMails: ["Mail2@Home.example"],
            otherMethods: ["email"],
          },
          // Registered already with another address: left alone.
          {
            id: "mail3",
            userPrincipalName: "mail3@contoso.example",
            otherMails: ["old@home.example"],
            otherMethods: ["email"],
          },
          { id: "desk1", userPrincipalName: "desk1@contoso.example" },
          {
            id: "desk2",
            userPrincipalName: "desk2@contoso.example",
            phoneMethods: [{ phoneType: "office", phoneNumber: "+45 33111111" }],
          },
        ]),
      });
      const graph = access(emulator);
      const write = async (writes: PhoneWrite[]) =>
        writePhoneMethods(graph, writes, { limiter: new AdaptiveLimiter({ initial: 4 }) });
      const list = [
        ...(await write([
          { userId: "mail1", kind: "email", emailAddress: "mail1@home.example", action: "create" },
          { userId: "mail2", kind: "email", emailAddress: "mail2@home.example", action: "create" },
          { userId: "mail3", kind: "email", emailAddress: "new@home.example", action: "create" },
        ])),
        ...(await write([
          { userId: "desk1", kind: "office", phoneNumber: "+45 33123456x12", action: "create" },
          { userId: "desk2", kind: "office", phoneNumber: "+45 33222222", action: "create" },
        ])),
      ];
      outcomes = new Map(list.map((o) => [o.userId, o]));
      await graph.close();
    });
    afterAll(async () => {
      await emulator?.close();
    });

    it("creates the email method, and reads back a duplicate as already present whatever its case", () => {
      expect(outcomes.get("mail1")).toEqual({ userId: "mail1", result: "created" });
      expect(userOf("mail1")?.emailMethods.map((m) => m.emailAddress)).toEqual([
        "mail1@home.example",
      ]);
      expect(outcomes.get("mail2")?.result).toBe("alreadyPresent");
    });

    it("never changes an existing email method with another address", () => {
      expect(outcomes.get("mail3")?.result).toBe("existingDiffers");
      expect(userOf("mail3")?.emailMethods.map((m) => m.emailAddress)).toEqual([
        "old@home.example",
      ]);
    });

    it("creates the office phone with its extension, and leaves an existing one alone", () => {
      expect(outcomes.get("desk1")?.result).toBe("created");
      const office = (id: string) =>
        userOf(id)?.phoneMethods.find((m) => m.phoneType === "office")?.phoneNumber;
      expect(office("desk1")).toBe("+45 33123456x12");
      expect(outcomes.get("desk2")?.result).toBe("existingDiffers");
      expect(office("desk2")).toBe("+45 33111111");
    });
  });
});
