import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectedMobiles, expectedWrites, targetingTenant } from "./world.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
// tsx as a loader in the one process (not its CLI, which runs the script in a child process
// that a SIGKILL of its parent would leave running).
const cli = ["--import", "tsx", path.join(root, "local/cli/main.ts")];

interface EmulatorInfo {
  graphBaseUrl: string;
  identityEndpoint: string;
  identityHeader: string;
  adminUrl: string;
  caCertPath: string;
}

/** A seeded PRNG, so a failing kill pattern can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("a run killed with SIGKILL resumes from --state-dir and writes nothing twice", () => {
  let emulator: ChildProcess;
  let info: EmulatorInfo;
  let stateDir: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(path.join(tmpdir(), "mfa-crash-"));
    // Realistic latencies, 5x faster: a run lasts longer than the kill delays below.
    emulator = spawn(
      process.execPath,
      [
        ...cli,
        "emulator",
        "--tenant-file",
        path.join(root, "test/fixtures/targeting.tenant.json"),
        "--profile",
        "realistic",
        "--time-scale",
        "0.2",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: emulator.stdout! }).once("line", resolve);
      emulator.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
    });
    info = JSON.parse(line) as EmulatorInfo;
  });
  afterAll(async () => {
    emulator?.kill("SIGTERM");
    await rm(stateDir, { recursive: true, force: true });
  });

  let firstRunId: string | undefined;

  function runOnce(
    killAfterMs?: number,
    args = ["run", "--state-dir", "", "--json", "--chunk-size", "3"],
  ): Promise<{ killed: boolean; stdout: string; code: number | null }> {
    const child = spawn(process.execPath, [...cli, ...args.map((a) => (a === "" ? stateDir : a))], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        GRAPH_BASE_URL: info.graphBaseUrl,
        GRAPH_ALLOW_LOOPBACK: "true",
        GRAPH_AUTH: "managedIdentity",
        GRAPH_CA_FILE: info.caCertPath,
        IDENTITY_ENDPOINT: info.identityEndpoint,
        IDENTITY_HEADER: info.identityHeader,
        DEFAULT_REGION: "DK",
        EXCLUDE_GROUPS: "Break Glass Accounts",
        RUN_STORE: "",
      },
    });
    let stdout = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    let killed = false;
    let timer: NodeJS.Timeout | undefined;
    // The clock starts when the run has started or resumed, not when the process spawned.
    createInterface({ input: child.stderr! }).on("line", (line) => {
      firstRunId ??= /^Started run '([^']+)'/.exec(line)?.[1];
      if (
        killAfterMs !== undefined &&
        timer === undefined &&
        /^(Started|Resuming) run/.test(line)
      ) {
        timer = setTimeout(() => {
          killed = child.kill("SIGKILL");
        }, killAfterMs);
      }
    });
    return new Promise((resolve) => {
      child.once("exit", (code) => {
        clearTimeout(timer);
        resolve({ killed: killed && code === null, stdout, code });
      });
    });
  }

  it("completes after being killed at seeded random moments, with every method written once", async () => {
    const random = mulberry32(20261127);
    let kills = 0;
    let final: { killed: boolean; stdout: string; code: number | null } | undefined;
    for (let i = 0; i < 5 && !final; i++) {
      const started = Date.now();
      const result = await runOnce(300 + Math.floor(random() * 1_700));
      process.stderr.write(
        `crash test: attempt ${i} ${result.killed ? "killed" : "finished"} after ${Date.now() - started} ms\n`,
      );
      if (result.killed) {
        kills++;
      } else {
        final = result;
      }
    }
    final ??= await runOnce();
    expect(final.code).toBe(0);
    expect(kills).toBeGreaterThan(0);
    // The run that was killed is the one that completed: read it back by its id.
    const status = await runOnce(undefined, [
      "status",
      firstRunId ?? "?",
      "--state-dir",
      "",
      "--json",
    ]);
    const json = JSON.parse(status.stdout.trim()) as {
      runtimeStatus: string;
      counts: Record<string, number>;
    };
    expect(json.runtimeStatus).toBe("Completed");

    const state = (await (await fetch(`${info.adminUrl}/state`)).json()) as {
      users: { id: string; phoneMethods: { phoneType: string; phoneNumber: string }[] }[];
    };
    const mobiles = new Map<string, string>();
    for (const u of state.users) {
      const m = u.phoneMethods.find((p) => p.phoneType === "mobile");
      if (m) {
        mobiles.set(u.id, m.phoneNumber);
      }
    }
    expect(mobiles).toEqual(expectedMobiles());
    const writes = expectedWrites(await targetingTenant());
    const metrics = (await (await fetch(`${info.adminUrl}/metrics`)).json()) as { writes: number };
    expect(metrics.writes).toBe(writes);
    // Users written before a kill and found again after it are counted, not lost.
    expect(json.counts.created + json.counts.alreadyPresent).toBe(writes);
  }, 180_000);
});
