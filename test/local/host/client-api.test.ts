import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { startLocalHost, matchRoute, type LocalHost } from "../../../local/host/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const appModule = path.join(here, "fixtures", "app.ts");

describe("local host client API over loopback HTTP", () => {
  let host: LocalHost;
  let stateDir: string;
  const logs: string[] = [];

  beforeAll(async () => {
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-api-"));
    host = await startLocalHost({
      stateDir,
      modules: [appModule],
      clock: "virtual",
      port: 0,
      logger: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    });
  });

  afterAll(async () => {
    await host.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("listens on loopback only", () => {
    expect(host.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("starts an orchestration from an HTTP function with df.getClient and returns its output", async () => {
    // Act
    const res = await fetch(`${host.baseUrl}/api/orchestrators/HelloSequence`, { method: "POST" });

    // Assert
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"]);
  });

  it("answers a still-running orchestration with the 202 check-status payload", async () => {
    // Act
    const res = await fetch(`${host.baseUrl}/api/orchestrators/WaitsForGo/http-wait?timeout=200`, {
      method: "POST",
      body: JSON.stringify({ any: "input" }),
    });
    const body = (await res.json()) as Record<string, string>;

    // Assert
    expect(res.status).toBe(202);
    expect(body.id).toBe("http-wait");
    expect(body.statusQueryGetUri).toContain("/runtime/webhooks/durabletask/instances/http-wait");
    const status = await fetch(body.statusQueryGetUri!);
    expect(status.status).toBe(202);
    expect(((await status.json()) as { runtimeStatus: string }).runtimeStatus).toBe("Running");
  });

  it("raises an event, reads status with history, lists, terminates and purges through the client", async () => {
    // Arrange
    await host.startNew("WaitsForGo", { instanceId: "managed-1" });
    await host.startNew("WaitsForGo", { instanceId: "managed-2" });

    // Act
    const raise = await fetch(`${host.baseUrl}/api/manage/raise/managed-1`, {
      method: "POST",
      body: '{"x":1}',
    });
    const done = await host.waitForCompletion("managed-1");
    const status = (await (await fetch(`${host.baseUrl}/api/manage/status/managed-1`)).json()) as {
      runtimeStatus: string;
      historyLength: number;
    };
    const list = (await (await fetch(`${host.baseUrl}/api/manage/list`)).json()) as string[];
    const terminate = await fetch(`${host.baseUrl}/api/manage/terminate/managed-2`, {
      method: "POST",
    });
    const terminated = await host.waitForCompletion("managed-2");
    const purge = (await (
      await fetch(`${host.baseUrl}/api/manage/purge/managed-1`, { method: "DELETE" })
    ).json()) as {
      deleted: number;
    };

    // Assert
    expect(raise.status).toBe(202);
    expect(done.output).toEqual({ got: { x: 1 } });
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.historyLength).toBeGreaterThan(2);
    expect(list).toContain("managed-1");
    expect(list).not.toContain("managed-2");
    expect(terminate.status).toBe(202);
    expect(terminated.runtimeStatus).toBe("Terminated");
    expect(terminated.output).toBe("stopped by test");
    expect(purge.deleted).toBe(1);
    expect(await host.getStatus("managed-1")).toBeUndefined();
  });

  it("pages instance queries with a continuation token when top is smaller than the result", async () => {
    // Arrange
    for (let i = 0; i < 5; i++) {
      await host.startNew("WaitsForGo", { instanceId: `page-${i}` });
    }

    // Act
    const first = await fetch(
      `${host.baseUrl}/durabletask/instances/?top=3&runtimeStatus=Pending,Running`,
    );
    const token = first.headers.get("x-ms-continuation-token");
    const second = await fetch(
      `${host.baseUrl}/durabletask/instances/?top=3&runtimeStatus=Pending,Running`,
      {
        headers: { "x-ms-continuation-token": token ?? "" },
      },
    );
    const ids = [
      ...((await first.json()) as { instanceId: string }[]),
      ...((await second.json()) as { instanceId: string }[]),
    ].map((s) => s.instanceId);

    // Assert
    expect(token).toBeTruthy();
    expect(second.headers.get("x-ms-continuation-token")).toBeNull();
    expect(ids.filter((id) => id.startsWith("page-")).sort()).toEqual([
      "page-0",
      "page-1",
      "page-2",
      "page-3",
      "page-4",
    ]);
  });

  it("answers 404 for unknown instances, routes and functions, and 409 for a running duplicate", async () => {
    // Act
    const unknownStatus = await fetch(`${host.baseUrl}/durabletask/instances/nope`);
    const unknownEvent = await fetch(`${host.baseUrl}/durabletask/instances/nope/raiseEvent/Go`, {
      method: "POST",
      body: "1",
    });
    const unknownRoute = await fetch(`${host.baseUrl}/api/does/not/exist`);
    await host.startNew("WaitsForGo", { instanceId: "dup-http" });
    const duplicate = await fetch(`${host.baseUrl}/durabletask/orchestrators/WaitsForGo/dup-http`, {
      method: "POST",
    });

    // Assert
    expect(unknownStatus.status).toBe(404);
    expect(unknownEvent.status).toBe(404);
    expect(unknownRoute.status).toBe(404);
    expect(duplicate.status).toBe(409);
  });

  it("records each HTTP route with its methods and auth level", () => {
    // Act
    const routes = host.routes();

    // Assert
    expect(routes).toEqual(
      expect.arrayContaining([
        {
          functionName: "StartOrchestration",
          route: "orchestrators/{name}/{id?}",
          methods: ["POST"],
          authLevel: "function",
        },
        {
          functionName: "Manage",
          route: "manage/{action}/{id?}",
          methods: ["GET", "POST", "DELETE"],
          authLevel: "anonymous",
        },
      ]),
    );
  });

  it("starts the timer singleton only when it is not already running", async () => {
    // Act
    await host.fireTimer("NightlyStarter");
    const firstCreated = (await host.getStatus("nightly"))?.createdTime;
    await host.fireTimer("NightlyStarter");
    const secondCreated = (await host.getStatus("nightly"))?.createdTime;
    await host.raiseEvent("nightly", "Go", "night 1");
    await host.waitForCompletion("nightly");
    await new Promise((r) => setTimeout(r, 5));
    await host.fireTimer("NightlyStarter");
    const third = await host.getStatus("nightly");

    // Assert
    expect(firstCreated).toBeDefined();
    expect(secondCreated).toBe(firstCreated);
    expect(logs.some((l) => l.includes("nightly already running"))).toBe(true);
    expect(third?.runtimeStatus).not.toBe("Completed");
    expect(third?.createdTime).not.toBe(firstCreated);
  });

  it("rejects firing a timer function that does not exist", async () => {
    await expect(host.fireTimer("NoSuchTimer")).rejects.toThrow(
      "LocalHost: no timer function named 'NoSuchTimer' is registered.",
    );
  });
});

describe("local host schedules", () => {
  it("fires a timer function on its six-field NCRONTAB schedule when schedules are on", async () => {
    // Arrange
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-cron-"));
    const scheduleModule = path.join(here, "fixtures", "schedule-app.ts");
    const host = await startLocalHost({
      stateDir,
      modules: [appModule, scheduleModule],
      clock: "virtual",
      schedules: true,
    });

    // Act
    let status;
    for (let i = 0; i < 400 && !status; i++) {
      status = await host.getStatus("from-schedule");
      await new Promise((r) => setTimeout(r, 10));
    }
    const done = status ? await host.waitForCompletion("from-schedule") : undefined;
    await host.stop();

    // Assert
    expect(done?.runtimeStatus).toBe("Completed");
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
});

describe("matchRoute", () => {
  it("matches literals case-insensitively and binds required, optional and catch-all parameters", () => {
    expect(matchRoute("orchestrators/{name}/{id?}", "/Orchestrators/Hello")).toEqual({
      name: "Hello",
    });
    expect(matchRoute("orchestrators/{name}/{id?}", "/orchestrators/Hello/abc")).toEqual({
      name: "Hello",
      id: "abc",
    });
    expect(matchRoute("users/{id:int}", "/users/42")).toEqual({ id: "42" });
    expect(matchRoute("files/{*rest}", "/files/a/b%20c")).toEqual({ rest: "a/b c" });
  });

  it("refuses paths that are longer, shorter or different", () => {
    expect(matchRoute("orchestrators/{name}", "/orchestrators")).toBeUndefined();
    expect(matchRoute("orchestrators/{name}", "/orchestrators/a/b")).toBeUndefined();
    expect(matchRoute("orchestrators/{name}", "/other/a")).toBeUndefined();
  });
});
