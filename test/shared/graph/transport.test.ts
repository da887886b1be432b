import { describe, expect, it } from "vitest";
import type { Context, Middleware } from "@microsoft/microsoft-graph-client";
import {
  DEFAULT_RETRY_POLICY,
  ResilienceHandler,
  parseRetryAfter,
  retryDelay,
  type RetryEvent,
} from "../../../shared/graph/transport.js";
import type { GraphCredential } from "../../../shared/graph/credentials.js";

/** A transport that answers from a script of statuses (or throws), recording what it saw. */
class ScriptedTransport implements Middleware {
  readonly seen: { auth?: string; clientRequestId?: string }[] = [];
  constructor(
    private readonly script: (number | Error | { status: number; retryAfter?: string })[],
  ) {}
  setNext(): void {}
  async execute(context: Context): Promise<void> {
    const headers = (context.options?.headers ?? {}) as Record<string, string>;
    this.seen.push({ auth: headers.Authorization, clientRequestId: headers["client-request-id"] });
    const step = this.script.shift();
    if (step === undefined) {
      throw new Error("script exhausted");
    }
    if (step instanceof Error) {
      throw step;
    }
    const { status, retryAfter } =
      typeof step === "number" ? { status: step, retryAfter: undefined } : step;
    context.response = new Response(status === 204 ? null : "{}", {
      status,
      headers: retryAfter ? { "Retry-After": retryAfter } : {},
    });
  }
}

function credential(): GraphCredential & { invalidations: number } {
  return {
    invalidations: 0,
    async getToken() {
      return { token: "t", expiresOnTimestamp: Date.now() + 3_600_000 };
    },
    invalidate() {
      this.invalidations++;
    },
  };
}

async function run(method: string, script: ConstructorParameters<typeof ScriptedTransport>[0]) {
  const cred = credential();
  const events: RetryEvent[] = [];
  const slept: number[] = [];
  const handler = new ResilienceHandler({
    credential: cred,
    onRetry: (e) => events.push(e),
    sleep: async (ms) => {
      slept.push(ms);
    },
    random: () => 0,
    retry: { maxRetries: 3 },
  });
  const transport = new ScriptedTransport(script);
  handler.setNext(transport);
  const context: Context = {
    request: "https://graph.example/v1.0/users/abc/authentication/phoneMethods",
    options: { method },
  };
  let error: unknown;
  try {
    await handler.execute(context);
  } catch (e) {
    error = e;
  }
  return { status: context.response?.status, events, slept, cred, transport, error };
}

describe("parseRetryAfter", () => {
  it("reads seconds and HTTP dates, and ignores garbage", () => {
    expect(parseRetryAfter("10")).toBe(10_000);
    expect(parseRetryAfter("0.5")).toBe(500);
    expect(
      parseRetryAfter(new Date(1_000_000 + 3_000).toUTCString(), 1_000_000),
    ).toBeGreaterThanOrEqual(2_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe("retryDelay", () => {
  it("waits at least Retry-After and adds at most 10% jitter", () => {
    expect(retryDelay(1, 10_000, DEFAULT_RETRY_POLICY, () => 0)).toBe(10_000);
    expect(retryDelay(1, 10_000, DEFAULT_RETRY_POLICY, () => 0.999)).toBeLessThanOrEqual(11_000);
  });

  it("backs off exponentially without Retry-After and never beyond the cap", () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(retryDelay(1, undefined, policy, () => 1)).toBe(100);
    expect(retryDelay(3, undefined, policy, () => 1)).toBe(400);
    expect(retryDelay(10, undefined, policy, () => 1)).toBe(1_000);
    expect(retryDelay(3, undefined, policy, () => 0)).toBe(200);
  });
});

describe("ResilienceHandler", () => {
  it("retries a throttled request after Graph's Retry-After and keeps one client-request-id", async () => {
    const { status, slept, transport } = await run("GET", [{ status: 429, retryAfter: "2" }, 200]);
    expect(status).toBe(200);
    expect(slept).toEqual([2_000]);
    expect(transport.seen).toHaveLength(2);
    expect(transport.seen[0]?.clientRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(transport.seen[1]?.clientRequestId).toBe(transport.seen[0]?.clientRequestId);
  });

  it("retries a throttled POST (Graph did not process it) but not a POST answered 503", async () => {
    expect((await run("POST", [429, 201])).status).toBe(201);
    const unavailable = await run("POST", [503, 201]);
    expect(unavailable.status).toBe(503);
    expect(unavailable.transport.seen).toHaveLength(1);
  });

  it("retries 503 and 504 for reads", async () => {
    const { status, events } = await run("GET", [503, 504, 200]);
    expect(status).toBe(200);
    expect(events.map((e) => e.status)).toEqual([503, 504]);
  });

  it("gives up after the retry budget and hands back the last answer", async () => {
    const { status, transport } = await run("GET", [429, 429, 429, 429, 429]);
    expect(status).toBe(429);
    expect(transport.seen).toHaveLength(4);
  });

  it("refreshes the token exactly once after a 401", async () => {
    const once = await run("GET", [401, 200]);
    expect(once.status).toBe(200);
    expect(once.cred.invalidations).toBe(1);
    const twice = await run("GET", [401, 401, 200]);
    expect(twice.status).toBe(401);
    expect(twice.cred.invalidations).toBe(1);
  });

  it("retries a lost connection for a read but surfaces it for a POST", async () => {
    const read = await run("GET", [new TypeError("fetch failed"), 200]);
    expect(read.status).toBe(200);
    const write = await run("POST", [new TypeError("fetch failed"), 201]);
    expect(write.error).toBeInstanceOf(TypeError);
    expect(write.transport.seen).toHaveLength(1);
  });
});
