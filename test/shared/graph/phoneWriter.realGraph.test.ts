/**
 * The writer against what a real tenant answers beyond the happy path (graph-api.md §10), each
 * played by the emulator: 401s inside a batch, 403s for one user (restricted management) and for
 * the app, the read-after-write lag, and Graph going down mid-run.
 */
import { describe, expect, it } from "vitest";
import { GraphAccess } from "../../../shared/graph/client.js";
import type { GraphCredential } from "../../../shared/graph/credentials.js";
import { GraphRequestError, GraphUnavailableError } from "../../../shared/graph/errors.js";
import {
  writePhoneMethods,
  type PhoneWrite,
  type PhoneWriterOptions,
} from "../../../shared/graph/phoneWriter.js";
import { AdaptiveLimiter } from "../../../shared/graph/throttle.js";
import type { Outcome } from "../../../shared/run/index.js";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import type { EmulatorConfig } from "../../../local/graph-emulator/config.js";
import type { FixtureUser } from "../../../local/graph-emulator/tenant/types.js";

/** Tokens from the emulator; the first may be given, later ones (after invalidate) are fresh. */
function tokens(
  emulator: EmulatorHandle,
  first?: string,
): GraphCredential & { invalidations: number } {
  let token = first ?? emulator.issueToken();
  const credential = {
    invalidations: 0,
    getToken: async () => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
    invalidate: () => {
      credential.invalidations++;
      token = emulator.issueToken();
    },
  };
  return credential;
}

function users(n: number, prefix: string, extra: Partial<FixtureUser> = {}): FixtureUser[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    userPrincipalName: `${prefix}${i}@contoso.example`,
    ...extra,
  }));
}

function creates(list: FixtureUser[], digit: number): PhoneWrite[] {
  return list.map((u, i) => ({
    userId: u.id,
    phoneNumber: `+45 ${digit}${String(i).padStart(7, "0")}`,
    action: "create",
  }));
}

async function world(
  list: FixtureUser[],
  config: Partial<EmulatorConfig> = {},
): Promise<EmulatorHandle> {
  return startEmulator({
    profile: "fast",
    tenant: {
      tenant: { id: "6f1c2f5e-0000-4000-8000-000000000001", domain: "contoso.example" },
      users: list,
    },
    config,
  });
}

function access(emulator: EmulatorHandle, credential: GraphCredential): GraphAccess {
  return new GraphAccess({
    baseUrl: emulator.graphBaseUrl,
    credential,
    caPem: emulator.caCertPem,
    retry: { baseDelayMs: 5, maxDelayMs: 200 },
  });
}

/** Short waits: the emulator runs 100 times faster than Graph in these tests. */
const quick: Omit<PhoneWriterOptions, "limiter"> = {
  readAfterWriteMs: 100,
  backoff: { baseDelayMs: 20, maxDelayMs: 200 },
};

function mobileOf(emulator: EmulatorHandle, id: string): string | undefined {
  return emulator
    .state()
    .users.find((u) => u.id === id)
    ?.phoneMethods.find((m) => m.phoneType === "mobile")?.phoneNumber;
}

describe("writePhoneMethods on a real tenant's answers", () => {
  it("gets one fresh token after 401s inside an accepted batch and retries those items", async () => {
    const list = users(30, "a");
    // The envelope accepts a token up to 5 minutes past its expiry; every item checks strictly.
    const emulator = await world(list, { batchEnvelopeTokenSkewSeconds: 300 });
    try {
      const credential = tokens(emulator, emulator.issueToken({ lifetimeSeconds: -60 }));
      const graph = access(emulator, credential);
      const writes = creates(list, 2);
      const outcomes = await writePhoneMethods(graph, writes, {
        ...quick,
        limiter: new AdaptiveLimiter({ initial: 20 }),
      });
      await graph.close();
      expect(outcomes.every((o) => o.result === "created")).toBe(true);
      expect(credential.invalidations).toBe(1);
      expect(emulator.metrics().unauthorized).toBeGreaterThan(0);
      expect(emulator.metrics().writes).toBe(list.length);
    } finally {
      await emulator.close();
    }
  });

  it("stops with the credential message when items answer 401 even after a fresh token", async () => {
    const list = users(5, "b");
    const emulator = await world(list, { batchItem401Rate: 1 });
    try {
      const credential = tokens(emulator);
      const graph = access(emulator, credential);
      const error = await writePhoneMethods(graph, creates(list, 3), {
        ...quick,
        limiter: new AdaptiveLimiter({ initial: 20 }),
      }).catch((e: unknown) => e);
      await graph.close();
      expect(error).toBeInstanceOf(GraphRequestError);
      expect((error as GraphRequestError).status).toBe(401);
      expect((error as GraphRequestError).message).toMatch(/even after a fresh token.*GRAPH_AUTH/);
      expect(credential.invalidations).toBe(1);
      expect(emulator.metrics().writes).toBe(0);
    } finally {
      await emulator.close();
    }
  });

  it("fails only the users of a restricted management unit, with code forbidden, and goes on", async () => {
    const open = users(20, "c");
    const restricted = users(2, "r", { restrictedManagement: true });
    const holder: FixtureUser = {
      id: "rsame",
      userPrincipalName: "rsame@contoso.example",
      restrictedManagement: true,
      phoneMethods: [{ phoneType: "mobile", phoneNumber: "+45 70000000" }],
    };
    const emulator = await world([...open, ...restricted, holder]);
    try {
      const graph = access(emulator, tokens(emulator));
      const writes = [
        ...creates(open, 4),
        ...creates(restricted, 5),
        { userId: "rsame", phoneNumber: "+45 70000000", action: "create" as const },
      ];
      const outcomes = new Map(
        (
          await writePhoneMethods(graph, writes, {
            ...quick,
            limiter: new AdaptiveLimiter({ initial: 4 }),
          })
        ).map((o) => [o.userId, o]),
      );
      await graph.close();
      for (const u of open) {
        expect(outcomes.get(u.id)?.result).toBe("created");
      }
      for (const u of restricted) {
        expect(outcomes.get(u.id)).toMatchObject({
          result: "failed",
          status: 403,
          code: "forbidden",
          transient: false,
        });
        expect(mobileOf(emulator, u.id)).toBeUndefined();
      }
      // Refused, but the number is there already: nothing to do for that user.
      expect(outcomes.get("rsame")?.result).toBe("alreadyPresent");
    } finally {
      await emulator.close();
    }
  });

  it("stops after every write of three batches in a row is refused, naming the permission and the 24 hours", async () => {
    const list = users(80, "d");
    // The app may read authentication methods but not write them.
    const emulator = await world(list, {
      grantedRoles: ["User.Read.All", "UserAuthenticationMethod.Read.All"],
    });
    try {
      const graph = access(emulator, tokens(emulator));
      const error = await writePhoneMethods(graph, creates(list, 6), {
        ...quick,
        limiter: new AdaptiveLimiter({ initial: 10 }),
        maxBatchesInFlight: 1,
      }).catch((e: unknown) => e);
      await graph.close();
      expect(error).toBeInstanceOf(GraphRequestError);
      const message = (error as GraphRequestError).message;
      expect(message).toContain("'UserAuthenticationMethod.ReadWrite.All'");
      expect(message).toMatch(/managed identity.*24 hours/);
      // Three batches, not all 80 users.
      const posts = emulator.metrics().byRoute["phoneMethods.create"]?.requests ?? 0;
      expect(posts).toBeLessThan(list.length);
    } finally {
      await emulator.close();
    }
  });

  it("waits out the read-after-write lag before reconciling, so an applied write is neither failed nor repeated", async () => {
    const list = users(60, "e");
    // A third of the writes answer 504 after the write was applied, and reads show a write only
    // a second later.
    const config: Partial<EmulatorConfig> = {
      fault504Rate: 0.3,
      faultAfterWrite: true,
      readAfterWriteLagMs: 100_000,
      timeScale: 0.01,
      seed: 3,
    };
    const run = async (readAfterWriteMs: number): Promise<Map<string, Outcome>> => {
      const emulator = await world(list, config);
      try {
        const graph = access(emulator, tokens(emulator));
        const outcomes = await writePhoneMethods(graph, creates(list, 7), {
          ...quick,
          readAfterWriteMs,
          maxAttempts: 20,
          limiter: new AdaptiveLimiter({ initial: 20 }),
        });
        await graph.close();
        expect(emulator.metrics().writes).toBe(list.length);
        return new Map(outcomes.map((o) => [o.userId, o]));
      } finally {
        await emulator.close();
      }
    };
    const waited = await run(1_500);
    expect([...waited.values()].every((o) => o.result === "created")).toBe(true);
    // Without the wait the lagging read says "not there", the write is sent again and refused,
    // and the user's own write is then taken for one that was there before.
    const hurried = await run(0);
    expect([...hurried.values()].some((o) => o.result !== "created")).toBe(true);
  });

  it("stops when Graph goes down, names the users whose write may be applied, and a second call finishes them once", async () => {
    const list = users(200, "f");
    const emulator = await world(list, { timeScale: 0.01 });
    try {
      const graph = access(emulator, tokens(emulator));
      const writes = creates(list, 8);
      const done = new Map<string, Outcome>();
      const options: PhoneWriterOptions = {
        ...quick,
        limiter: new AdaptiveLimiter({ initial: 2 }),
        unavailableAfter: { batches: 3, ms: 300 },
        onOutcome: (o) => done.set(o.userId, o),
      };
      let started = false;
      const error = await writePhoneMethods(graph, writes, {
        ...options,
        onOutcome: (o) => {
          done.set(o.userId, o);
          if (!started && done.size >= 20) {
            started = true;
            // Down for 6,000 s of Graph time (a minute here): far longer than the writer waits.
            emulator.startOutage(6_000, "503");
          }
        },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GraphUnavailableError);
      expect((error as Error).message).toMatch(/^Graph unavailable/);
      const during = emulator.metrics().outage.requests;
      expect(during).toBeGreaterThan(0);
      // A few batches and their retries, not a storm: far fewer requests than users left.
      expect(during).toBeLessThan(list.length - done.size);
      emulator.startOutage(0);
      const uncertain = new Set((error as GraphUnavailableError).uncertain);
      const rest = writes
        .filter((w) => !done.has(w.userId))
        .map((w) => ({ ...w, reconcileFirst: uncertain.has(w.userId) }));
      const second = await writePhoneMethods(graph, rest, {
        ...options,
        limiter: new AdaptiveLimiter({ initial: 20 }),
      });
      await graph.close();
      for (const o of second) {
        done.set(o.userId, o);
      }
      expect([...done.values()].filter((o) => o.result === "created")).toHaveLength(list.length);
      for (const w of writes) {
        expect(mobileOf(emulator, w.userId)).toBe(w.phoneNumber);
      }
      expect(emulator.metrics().writes).toBe(list.length);
    } finally {
      await emulator.close();
    }
  });
});
