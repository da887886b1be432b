import { describe, it, expect, beforeAll, afterAll, afterEach, vi } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import {
  readPersistedInstances,
  startLocalHost,
  type LocalHost,
  type InstanceStatus,
} from "../../../local/host/index.js";
import { probes } from "./fixtures/app.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const appModule = path.join(here, "fixtures", "app.ts");
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "local-host-"));
}

async function waitUntil(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) {
      return;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

function eventTypes(status: InstanceStatus | undefined, keep: string[]): string[] {
  return (status?.history ?? []).map((h) => h.EventType).filter((t) => keep.includes(t));
}

describe("local host orchestrations (virtual clock)", () => {
  let host: LocalHost;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = tempDir();
    host = await startLocalHost({
      stateDir,
      modules: [appModule],
      clock: "virtual",
      logger: silent,
      activityConcurrency: 3,
    });
  });

  afterAll(async () => {
    await host.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  afterEach(() => {
    vi.restoreAllMocks();
    probes.flip = false;
  });

  it("loads every registration of the app with its trigger kind", () => {
    // Arrange / Act
    const fns = host.functions();

    // Assert
    expect(fns).toEqual(
      expect.arrayContaining([
        { name: "Hello", trigger: "activityTrigger" },
        { name: "HelloSequence", trigger: "orchestrationTrigger" },
        { name: "StartOrchestration", trigger: "httpTrigger" },
        { name: "NightlyStarter", trigger: "timerTrigger" },
      ]),
    );
  });

  it("runs a sequence of activities and keeps the last custom status", async () => {
    // Act
    const id = await host.startNew("HelloSequence", { instanceId: "seq-1" });
    const status = await host.waitForCompletion(id);

    // Assert
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual(["Hello, Tokyo!", "Hello, Seattle!", "Hello, London!"]);
    expect(status.customStatus).toEqual({ stage: "done" });
    expect(status.name).toBe("HelloSequence");
  });

  it("fans out with Task.all and fans the results back in", async () => {
    // Act
    const id = await host.startNew("FanOut", { input: { n: 40 } });
    const status = await host.waitForCompletion(id);

    // Assert
    expect(status.output).toEqual({ count: 40, sum: 2 * ((39 * 40) / 2) });
    expect(status.input).toEqual({ n: 40 });
  });

  it("never runs more activities at once than the configured limit", async () => {
    // Arrange
    probes.maxInFlight = 0;

    // Act
    const id = await host.startNew("SlowFanOut", { input: 12 });
    const status = await host.waitForCompletion(id);

    // Assert
    expect(status.output).toBe(12);
    expect(probes.maxInFlight).toBe(3);
  });

  it("retries a failing activity with a timer after every failed attempt, as DTFx does", async () => {
    // Arrange
    const before = probes.executions.get("Flaky") ?? 0;

    // Act
    const id = await host.startNew("Retries", { instanceId: "retry-1" });
    const status = await host.waitForCompletion(id);
    const withHistory = await host.getStatus(id, { showHistory: true });

    // Assert
    const out = status.output as { recovered: string; exhausted: string };
    expect(out.recovered).toBe("ok after 3");
    expect(out.exhausted).toContain("Activity function 'Flaky' failed: flaky attempt 2 failed");
    expect((probes.executions.get("Flaky") ?? 0) - before).toBe(5);
    const sched = ["TaskScheduled", "TaskCompleted", "TaskFailed", "TimerCreated", "TimerFired"];
    const attemptFails = ["TaskScheduled", "TaskFailed", "TimerCreated", "TimerFired"];
    expect(eventTypes(withHistory, sched)).toEqual([
      ...attemptFails,
      ...attemptFails,
      "TaskScheduled",
      "TaskCompleted",
      ...attemptFails,
      ...attemptFails,
    ]);
  });

  it("runs sub-orchestrations concurrently and retries a failed sub-orchestration", async () => {
    // Act
    const id = await host.startNew("Parent", { instanceId: "parent-1" });
    const status = await host.waitForCompletion(id);
    const children = await host.listInstances({ instanceIdPrefix: "parent-1:" });

    // Assert
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ sums: [90, 380, 870], retried: "ok after 2" });
    expect(children.filter((c) => c.name === "FanOut").map((c) => c.runtimeStatus)).toEqual([
      "Completed",
      "Completed",
      "Completed",
    ]);
    expect(children.filter((c) => c.name === "FlakyChild").map((c) => c.runtimeStatus)).toEqual([
      "Failed",
      "Completed",
    ]);
  });

  it("fires a one-hour timer at once on the virtual clock, with orchestration time moved forward", async () => {
    // Act
    const id = await host.startNew("Sleeper");
    const status = await host.waitForCompletion(id);

    // Assert
    expect(status.output as number).toBeGreaterThanOrEqual(3_600_000);
  });

  it("lets Task.any pick the external event over a pending timeout", async () => {
    // Arrange
    const id = await host.startNew("Approval", { instanceId: "approval-1" });
    await host.raiseEvent(id, "Approve", { by: "alice" });

    // Act
    const status = await host.waitForCompletion(id);

    // Assert
    expect(status.output).toEqual({ approved: { by: "alice" } });
  });

  it("lets Task.any pick the timeout when no event comes", async () => {
    // Act
    const id = await host.startNew("Approval", { instanceId: "approval-2" });
    const status = await host.waitForCompletion(id);

    // Assert
    expect(status.output).toEqual({ approved: null });
  });

  it("restarts the same instance id with continueAsNew until it returns", async () => {
    // Act
    const id = await host.startNew("Counter", { instanceId: "counter-1", input: 0 });
    const status = await host.waitForCompletion(id);

    // Assert
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ final: 3, doubled: 6 });
    expect(status.input).toBe(3);
    expect(status.customStatus).toEqual({ n: 3, doubled: 6 });
  });

  it("fails the instance and names the action when replay is non-deterministic", async () => {
    // Arrange
    const id = await host.startNew("Flip", { instanceId: "flip-1" });
    await waitUntil(
      async () =>
        eventTypes(await host.getStatus(id, { showHistory: true }), ["TaskCompleted"]).length === 1,
      "the first activity",
    );
    probes.flip = true;

    // Act
    await host.raiseEvent(id, "Next");
    const status = await host.waitForCompletion(id);

    // Assert
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toBe(
      "LocalHost: non-deterministic orchestration 'Flip' (instance 'flip-1'): action #0 was CallActivity 'Hello' in history, but the code now scheduled CallActivity 'Double'.",
    );
  });

  it("fails loudly instead of shifting task ids when a scheduled task is yielded again in Task.all", async () => {
    // Act
    const status = await host.waitForCompletion(await host.startNew("ReYields"));

    // Assert
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toMatch(
      /^LocalHost: orchestrator 'ReYields' yielded an already scheduled task again inside Task\.all or Task\.any \(action #1\)\./,
    );
  });

  it("fails an orchestrator that yields something that is not a task", async () => {
    // Act
    const status = await host.waitForCompletion(await host.startNew("YieldsNonTask"));

    // Assert
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toMatch(
      /^LocalHost: orchestrator 'YieldsNonTask' yielded a value that is not a durable task\./,
    );
  });

  it("fails the instance with a clear message when an activity throws a non-Error", async () => {
    // Act
    const status = await host.waitForCompletion(await host.startNew("ThrowsNonError"));

    // Assert
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toContain(
      "LocalHost: activity 'ThrowsString' threw a non-Error value: a plain string.",
    );
  });

  it("fails an instance of an unknown orchestrator instead of the host", async () => {
    // Act
    const status = await host.waitForCompletion(await host.startNew("NoSuchOrchestrator"));

    // Assert
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toBe(
      "LocalHost: no orchestrator function named 'NoSuchOrchestrator' is registered.",
    );
  });

  it("fails the instance when it calls an activity nobody registered", async () => {
    // Act
    const status = await host.waitForCompletion(await host.startNew("CallsUnknownActivity"));

    // Assert
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toContain(
      "LocalHost: no activity function named 'NoSuchActivity' is registered.",
    );
  });

  it("fails the instance loudly when it uses an action the host does not emulate", async () => {
    // Act
    const status = await host.waitForCompletion(await host.startNew("UsesCallHttp"));

    // Assert
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toBe(
      "LocalHost: orchestrator 'UsesCallHttp' used CallHttp, which the local host does not emulate (entities and callHttp are not supported).",
    );
  });

  it("fails an instance whose input is not JSON-serialisable", async () => {
    // Arrange
    const circular: Record<string, unknown> = {};
    circular.self = circular;

    // Act
    const a = await host.waitForCompletion(
      await host.startNew("HelloSequence", { instanceId: "bigint", input: { n: 1n } }),
    );
    const b = await host.waitForCompletion(
      await host.startNew("HelloSequence", { input: circular }),
    );

    // Assert
    expect(a.runtimeStatus).toBe("Failed");
    expect(a.output).toMatch(
      /^LocalHost: the input of instance 'bigint' is not JSON-serialisable: /,
    );
    expect(b.runtimeStatus).toBe("Failed");
  });

  it("hands an activity's undefined result to the orchestrator as null", async () => {
    // Act
    const status = await host.waitForCompletion(await host.startNew("UndefinedResult"));

    // Assert
    expect(status.output).toEqual({ r: "nothing" });
  });

  it("refuses to start a second instance with the id of a running one", async () => {
    // Arrange
    await host.startNew("WaitsForGo", { instanceId: "dup" });

    // Act / Assert
    await expect(host.startNew("WaitsForGo", { instanceId: "dup" })).rejects.toThrow(
      "LocalHost: an instance with id 'dup' is already Pending.",
    );
    await host.terminate("dup", "test over");
    expect((await host.waitForCompletion("dup")).runtimeStatus).toBe("Terminated");
  });

  it("reports replay statistics per instance and in total", async () => {
    // Arrange
    const id = await host.startNew("FanOut", { input: { n: 5 } });
    await host.waitForCompletion(id);

    // Act
    const stats = host.stats();

    // Assert
    const mine = stats.instances[id]!;
    expect(mine.episodes).toBeGreaterThanOrEqual(2);
    expect(mine.eventsReplayed).toBeGreaterThan(mine.episodes);
    expect(mine.bytesShipped).toBeGreaterThan(0);
    expect(stats.total.episodes).toBeGreaterThan(mine.episodes);
    expect(stats.persistedBytes).toBeGreaterThan(0);
  });
});

describe("local host persistence", () => {
  it("resumes an unfinished instance in a new host on the same state directory", async () => {
    // Arrange
    const stateDir = tempDir();
    const first = await startLocalHost({
      stateDir,
      modules: [appModule],
      clock: "virtual",
      logger: silent,
    });
    await first.startNew("WaitsForGo", { instanceId: "resume-me" });
    await waitUntil(
      async () => (await first.getStatus("resume-me"))?.runtimeStatus === "Running",
      "Running",
    );
    await first.stop();

    // Act
    const second = await startLocalHost({
      stateDir,
      modules: [appModule],
      clock: "virtual",
      logger: silent,
    });
    const before = await second.getStatus("resume-me");
    await second.raiseEvent("resume-me", "Go", 7);
    const status = await second.waitForCompletion("resume-me");
    await second.stop();

    // Assert
    expect(before?.runtimeStatus).toBe("Running");
    expect(status.output).toEqual({ got: 7 });
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("drops a torn last journal line and fails an instance whose files are corrupt", async () => {
    // Arrange
    const stateDir = tempDir();
    const first = await startLocalHost({
      stateDir,
      modules: [appModule],
      clock: "virtual",
      logger: silent,
    });
    for (const id of ["torn", "garbled"]) {
      await first.startNew("WaitsForGo", { instanceId: id });
      await waitUntil(
        async () => (await first.getStatus(id))?.runtimeStatus === "Running",
        "Running",
      );
    }
    await first.stop();
    const journalOf = (id: string): string => {
      const dir = path.join(stateDir, "instances", id);
      const gen = (
        JSON.parse(fs.readFileSync(path.join(dir, "snapshot.json"), "utf8")) as { gen: number }
      ).gen;
      return path.join(dir, `journal-${gen}.jsonl`);
    };
    fs.appendFileSync(journalOf("torn"), '{"k":"in","e":{"EventTy');
    fs.appendFileSync(journalOf("garbled"), 'not json\n{"k":"st","st":{}}\n');
    fs.mkdirSync(path.join(stateDir, "instances", "truncated"));
    fs.writeFileSync(
      path.join(stateDir, "instances", "truncated", "snapshot.json"),
      '{"gen":1,"state":{"v":1,"inst',
    );

    const tornBytes = fs.statSync(journalOf("torn")).size;
    const peek = readPersistedInstances(stateDir);
    const tornBytesAfterPeek = fs.statSync(journalOf("torn")).size;

    // Act
    const second = await startLocalHost({
      stateDir,
      modules: [appModule],
      clock: "virtual",
      logger: silent,
    });
    await second.raiseEvent("torn", "Go", "still alive");
    const torn = await second.waitForCompletion("torn");
    const garbled = await second.getStatus("garbled");
    const truncated = await second.getStatus("truncated");
    await second.stop();

    // Assert
    expect(peek.find((p) => p.instanceId === "torn")?.state?.runtimeStatus).toBe("Running");
    expect(peek.find((p) => p.instanceId === "garbled")?.error).toMatch(/corrupt line/);
    expect(tornBytesAfterPeek).toBe(tornBytes);
    expect(torn.output).toEqual({ got: "still alive" });
    expect(garbled?.runtimeStatus).toBe("Failed");
    expect(garbled?.output).toMatch(
      /^LocalHost: the state of instance 'garbled' is corrupt: its journal has a corrupt line/,
    );
    expect(truncated?.runtimeStatus).toBe("Failed");
    expect(truncated?.output).toMatch(
      /^LocalHost: the state of instance 'truncated' is corrupt: its snapshot is unreadable/,
    );
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it("fires timers on the real clock", async () => {
    // Arrange
    const stateDir = tempDir();
    const host = await startLocalHost({
      stateDir,
      modules: [appModule],
      clock: "real",
      logger: silent,
    });

    // Act
    const status = await host.waitForCompletion(await host.startNew("ShortNap"));
    await host.stop();

    // Assert
    expect(status.output).toBe("awake");
    fs.rmSync(stateDir, { recursive: true, force: true });
  });
});
