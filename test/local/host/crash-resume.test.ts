import { describe, it, expect, afterAll } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { readPersistedInstances } from "../../../local/host/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const childScript = path.join(here, "fixtures", "crash-child.ts");
const SEED = 20261127;
const KILLS = 10;
const N = 200;

/** Small seeded PRNG (mulberry32) so a failing run can be reproduced from the seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function startsIn(sideFile: string): { gen: number; item: number }[] {
  if (!fs.existsSync(sideFile)) {
    return [];
  }
  return fs
    .readFileSync(sideFile, "utf8")
    .split("\n")
    .map((l) => /^start (\d+) (\d+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ gen: Number(m[1]), item: Number(m[2]) }));
}

/** Inputs of Record activities whose completion the state directory holds. */
function persistedCompletions(stateDir: string): Set<number> {
  const done = new Set<number>();
  for (const r of readPersistedInstances(stateDir)) {
    expect(r.error, `instance '${r.instanceId}' must stay readable`).toBeUndefined();
    const s = r.state!;
    const scheduled = new Map<number, number>();
    for (const e of s.history) {
      if (e.EventType === 4 && e.Name === "Record") {
        scheduled.set(e.EventId, JSON.parse(e.Input!) as number);
      }
    }
    for (const e of [...s.history, ...s.inbox]) {
      if (e.EventType === 5 && scheduled.has(e.TaskScheduledId!)) {
        done.add(scheduled.get(e.TaskScheduledId!)!);
      }
    }
  }
  return done;
}

function spawnChild(
  stateDir: string,
  sideFile: string,
  gen: number,
): {
  child: ChildProcess;
  ready: Promise<boolean>;
  exit: Promise<number | null>;
  out: () => string;
} {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", childScript, stateDir, sideFile, String(gen), String(N)],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let err = "";
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const ready = new Promise<boolean>((resolve) => {
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("ready\n")) {
        resolve(true);
      }
    });
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
    });
    void exit.then(() => resolve(false));
  });
  return { child, ready, exit, out: () => out + err };
}

describe("local host crash resume", () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-crash-"));
  const sideFile = path.join(stateDir, "executions.log");

  afterAll(() => {
    fs.rmSync(stateDir, { recursive: true, force: true });
  });

  it(`completes a fan-out killed with SIGKILL at ${KILLS} random points without redoing persisted work (seed ${SEED})`, async () => {
    // Arrange
    const random = prng(SEED);
    const completedAfterKill = new Map<number, Set<number>>();
    let finalOutput: unknown;
    let kills = 0;

    // Act
    for (let gen = 1; gen <= KILLS + 5; gen++) {
      const run = spawnChild(stateDir, sideFile, gen);
      const isReady = await run.ready;
      if (kills >= KILLS || !isReady) {
        const code = await run.exit;
        expect(code, run.out()).toBe(0);
        finalOutput = (JSON.parse(run.out().trim().split("\n").pop()!) as { output: unknown })
          .output;
        break;
      }
      const before = startsIn(sideFile).length;
      const target = before + 1 + Math.floor(random() * 8);
      const extraMs = Math.floor(random() * 12);
      let exited = false;
      void run.exit.then(() => {
        exited = true;
      });
      while (!exited && startsIn(sideFile).length < target) {
        await new Promise((r) => setTimeout(r, 2));
      }
      await new Promise((r) => setTimeout(r, extraMs));
      if (exited) {
        finalOutput = (JSON.parse(run.out().trim().split("\n").pop()!) as { output: unknown })
          .output;
        break;
      }
      run.child.kill("SIGKILL");
      await run.exit;
      kills++;
      completedAfterKill.set(gen, persistedCompletions(stateDir));
    }

    // Assert
    expect(kills).toBe(KILLS);
    expect(finalOutput).toEqual(Array.from({ length: N }, (_, i) => i * i));
    const starts = startsIn(sideFile);
    for (const { gen, item } of starts) {
      const persistedBefore = completedAfterKill.get(gen - 1);
      expect(
        persistedBefore?.has(item) ?? false,
        `item ${item} re-ran in generation ${gen} although its completion was persisted`,
      ).toBe(false);
    }
    expect(new Set(starts.map((s) => s.item)).size).toBe(N);
    // Eleven child processes each load tsx and the SDK; on a loaded 2-core box that is slow.
  }, 180_000);
});
