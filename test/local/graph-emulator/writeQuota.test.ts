/**
 * The write quota's shapes on phone-method writes (token bucket, with a burst, sliding window,
 * fixed window, the reports limits' 5 per 10 s), changed mid-run through the admin API, and the
 * switch that keeps the usage header off phone-method writes.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../../local/graph-emulator/index.js";
import type { EmulatorConfig, ProfileName } from "../../../local/graph-emulator/config.js";
import { GraphTestClient, bigTenant, expectEnvelope, type Answer } from "./helpers.js";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

let emu: EmulatorHandle | undefined;
let client: GraphTestClient;
/** Each write goes to a user without an office phone, so every accepted write is a 201. */
let nextUser = 0;

async function start(
  config: Partial<EmulatorConfig>,
  profile: ProfileName = "fast",
): Promise<EmulatorHandle> {
  emu = await startEmulator({ tenant: bigTenant(400), profile, config });
  client = new GraphTestClient(emu);
  nextUser = 0;
  return emu;
}

afterEach(async () => {
  await client?.close();
  await emu?.close();
  emu = undefined;
});

function writePhone(): Promise<Answer> {
  const user = `user-${nextUser++}`;
  return client.call("POST", `/v1.0/users/${user}/authentication/phoneMethods`, {
    body: { phoneNumber: "+45 33123456", phoneType: "office" },
  });
}

/** Writes until the first 429 (at most `max`); returns the statuses. */
async function writeUntilThrottled(max: number): Promise<{ statuses: number[]; last: Answer }> {
  const statuses: number[] = [];
  let last: Answer | undefined;
  for (let i = 0; i < max; i++) {
    last = await writePhone();
    statuses.push(last.status);
    if (last.status === 429) {
      break;
    }
  }
  return { statuses, last: last as Answer };
}

function expectWriteThrottle(a: Answer, retryAfterSeconds: number): void {
  expectEnvelope(a, 429, "TooManyRequests");
  expect(a.headers.get("retry-after")).toBe(String(retryAfterSeconds));
  expect(a.headers.get("x-ms-throttle-information")).toBe("WriteLimitExceeded");
  expect(a.headers.get("x-ms-throttle-scope")).toContain("Tenant_Application/Write/");
}

const accepted = (n: number) => Array.from({ length: n }, () => 201);

/**
 * The ceilings, at timeScale 1: how many writes pass at once, the Retry-After of the next (a
 * bucket refills one write in window/limit; a window frees one when its oldest write leaves), and
 * a change that raises how many pass at once.
 */
const CEILINGS: {
  name: string;
  config: Partial<EmulatorConfig>;
  atOnce: number;
  retryAfterSeconds: number;
  raise: Partial<EmulatorConfig>;
  raisedAtOnce: number;
}[] = [
  {
    name: "token bucket, the documented shape (3 per 150 s)",
    config: { writeQuota: 3, writeQuotaWindowSeconds: 150 },
    atOnce: 3,
    retryAfterSeconds: 150 / 3,
    raise: { writeQuota: 5 },
    raisedAtOnce: 5,
  },
  {
    name: "token bucket of 1 per 100 s with a burst of 3",
    config: { writeQuota: 1, writeQuotaWindowSeconds: 100, writeQuotaBurst: 3 },
    atOnce: 3,
    retryAfterSeconds: 100 / 1,
    raise: { writeQuotaBurst: 5 },
    raisedAtOnce: 5,
  },
  {
    name: "sliding window (3 in any 100 s)",
    config: { writeQuotaShape: "slidingWindow", writeQuota: 3, writeQuotaWindowSeconds: 100 },
    atOnce: 3,
    retryAfterSeconds: 100,
    raise: { writeQuota: 5 },
    raisedAtOnce: 5,
  },
  {
    name: "fixed window (3 per 100 s)",
    config: { writeQuotaShape: "fixedWindow", writeQuota: 3, writeQuotaWindowSeconds: 100 },
    atOnce: 3,
    retryAfterSeconds: 100,
    raise: { writeQuota: 5 },
    raisedAtOnce: 5,
  },
  {
    name: "the reports limits' 5 per 10 s",
    config: { writeQuota: 5, writeQuotaWindowSeconds: 10 },
    atOnce: 5,
    retryAfterSeconds: 10 / 5,
    raise: { writeQuota: 7 },
    raisedAtOnce: 7,
  },
];

describe("write quota shapes", () => {
  it.each(CEILINGS)(
    "$name: lets the ceiling through, then answers 429 with Retry-After while reads pass",
    async ({ config, atOnce, retryAfterSeconds }) => {
      await start(config);
      const { statuses, last } = await writeUntilThrottled(atOnce + 5);
      expect(statuses).toEqual([...accepted(atOnce), 429]);
      expectWriteThrottle(last, retryAfterSeconds);
      expect(emu?.state().users[atOnce]?.phoneMethods).toEqual([]);
      const read = await client.call("GET", `/v1.0/users/user-0/authentication/phoneMethods`);
      expect(read.status).toBe(200);
    },
  );

  it.each([
    ["tokenBucket", {}],
    ["slidingWindow", { writeQuotaShape: "slidingWindow" }],
    ["fixedWindow", { writeQuotaShape: "fixedWindow" }],
  ] as const)("%s: writes paced under the ceiling never get a 429", async (_name, shape) => {
    // 3 per 100 s at timeScale 0.01 = 3 per real second; one write every 500 ms is 2 per second.
    await start({ timeScale: 0.01, writeQuota: 3, writeQuotaWindowSeconds: 100, ...shape });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await writePhone()).status);
      await wait(500);
    }
    expect(statuses).toEqual(accepted(5));
  });

  it("sliding window of 40 per 2 s: two batches of 20 pass, the 41st write waits for the first to leave", async () => {
    // timeScale 1.5 makes the window 3 real seconds, room for a slow machine to send 41 writes.
    const timeScale = 1.5;
    await start({
      timeScale,
      writeQuotaShape: "slidingWindow",
      writeQuota: 40,
      writeQuotaWindowSeconds: 2,
    });
    const windowMs = 2 * timeScale * 1000;
    const startedMs = Date.now();
    for (let b = 0; b < 2; b++) {
      const requests = Array.from({ length: 20 }, (_, i) => ({
        id: String(i),
        method: "POST",
        url: `/users/user-${nextUser++}/authentication/phoneMethods`,
        headers: { "Content-Type": "application/json" },
        body: { phoneNumber: "+45 33123456", phoneType: "office" },
      }));
      const batch = await client.call("POST", "/v1.0/$batch", { body: { requests } });
      expect(batch.body.responses.map((r: { status: number }) => r.status)).toEqual(accepted(20));
    }
    const over = await writePhone();
    expectWriteThrottle(over, Math.ceil(Number(over.headers.get("x-ms-retry-after-ms")) / 1000));
    // Nothing leaves a sliding window before its full length has passed (a bucket of the same
    // rate would free a write within 50 ms): the first write was taken after startedMs.
    const waitMs = Number(over.headers.get("x-ms-retry-after-ms"));
    expect(waitMs).toBeGreaterThanOrEqual(windowMs - (Date.now() - startedMs));
    expect(waitMs).toBeLessThanOrEqual(windowMs);
    await wait(waitMs + 20);
    expect((await writePhone()).status).toBe(201);
  });
});

describe("changing the write ceiling mid-run through the admin API", () => {
  it.each(CEILINGS)(
    "$name: a higher ceiling lets writes through at once, a lower one throttles at once",
    async ({ config, atOnce, raise, raisedAtOnce }) => {
      await start(config);
      expect((await writeUntilThrottled(atOnce + 5)).statuses).toEqual([...accepted(atOnce), 429]);
      const raised = await client.admin("POST", "/config", raise);
      expect(raised.status).toBe(200);
      expect(raised.body).toMatchObject(raise);
      // A quota change starts the quota over, full: the new ceiling applies from the next write.
      expect((await writeUntilThrottled(raisedAtOnce + 5)).statuses).toEqual([
        ...accepted(raisedAtOnce),
        429,
      ]);
      const other = config.writeQuotaShape === "slidingWindow" ? "fixedWindow" : "slidingWindow";
      const changed = await client.admin("POST", "/config", {
        writeQuotaShape: other,
        writeQuota: 1,
        writeQuotaWindowSeconds: 30,
      });
      expect(changed.body.writeQuotaShape).toBe(other);
      const { statuses, last } = await writeUntilThrottled(5);
      expect(statuses).toEqual([201, 429]);
      expectWriteThrottle(last, 30);
    },
  );

  it("refuses an unknown shape and a negative burst and keeps the quota in force", async () => {
    await start({ writeQuota: 1, writeQuotaWindowSeconds: 100 });
    expect((await writePhone()).status).toBe(201);
    expect((await client.admin("POST", "/config", { writeQuotaShape: "leakyBucket" })).status).toBe(
      400,
    );
    expect((await client.admin("POST", "/config", { writeQuotaBurst: -1 })).status).toBe(400);
    expect(emu?.config.writeQuotaShape).toBe("tokenBucket");
    expect((await writePhone()).status).toBe(429);
  });
});

describe("the usage header on phone-method writes", () => {
  const usage = (a: Answer) => a.headers.get("x-ms-throttle-limit-percentage");

  it("comes with phone-method writes by default, like with every other route", async () => {
    await start({ throttleLimitPercentageHeader: "always" });
    const write = await writePhone();
    expect(write.status).toBe(201);
    expect(usage(write)).not.toBeNull();
  });

  it("stays off phone-method writes when switched off, also mid-run, while reads keep it", async () => {
    await start({ throttleLimitPercentageHeader: "always" });
    expect(usage(await writePhone())).not.toBeNull();
    await client.admin("POST", "/config", { phoneWriteUsageHeader: false });
    const write = await writePhone();
    expect(write.status).toBe(201);
    expect(usage(write)).toBeNull();
    expect(write.headers.get("x-ms-resource-unit")).toBe("1");
    const phoneRead = await client.call("GET", "/v1.0/users/user-0/authentication/phoneMethods");
    expect(usage(phoneRead)).not.toBeNull();
    expect(usage(await client.call("GET", "/v1.0/users/user-0"))).not.toBeNull();
  });

  it("stays off under the reports model too, where the 429 and its Retry-After still tell the ceiling", async () => {
    await start({
      throttleLimitPercentageHeader: "always",
      phoneWriteUsageHeader: false,
      phoneWriteQuotaModel: "reports",
      reportsQuota: 2,
      reportsQuotaWindowSeconds: 10,
    });
    const first = await writePhone();
    expect(first.status).toBe(201);
    expect(usage(first)).toBeNull();
    expect(
      usage(await client.call("GET", "/v1.0/users/user-0/authentication/phoneMethods")),
    ).not.toBeNull();
    const over = await writePhone();
    expect(over.status).toBe(429);
    expect(over.headers.get("retry-after")).toBe(String(10 / 2));
  });

  it.each(["realistic", "hostile"] as const)(
    "stays off phone-method writes under the %s profile until the config key turns it on",
    async (profile) => {
      // Latency, faults and storms off: only the header is under test.
      await start(
        {
          timeScale: 0.001,
          throttleLimitPercentageHeader: "always",
          latency: {},
          defaultLatency: { meanMs: 0, p99Ms: 0 },
          fault503Rate: 0,
          fault504Rate: 0,
          faultResetRate: 0,
          storm: { periodSeconds: 0, durationSeconds: 0 },
        },
        profile,
      );
      expect(emu?.config.phoneWriteUsageHeader).toBe(false);
      const write = await writePhone();
      expect(write.status).toBe(201);
      expect(usage(write)).toBeNull();
      expect(
        usage(await client.call("GET", "/v1.0/users/user-0/authentication/phoneMethods")),
      ).not.toBeNull();
      await client.admin("POST", "/config", { phoneWriteUsageHeader: true });
      const switchedOn = await writePhone();
      expect(switchedOn.status).toBe(201);
      expect(usage(switchedOn)).not.toBeNull();
    },
  );

  it("keeps the fast profile's default: the header comes with phone-method writes", async () => {
    await start({ throttleLimitPercentageHeader: "always" }, "fast");
    expect(emu?.config.phoneWriteUsageHeader).toBe(true);
    expect(usage(await writePhone())).not.toBeNull();
  });
});
