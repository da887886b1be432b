/**
 * The brake a person releases, from the command line: `run --approve` approves its own run (the
 * operator at the keyboard is the person who approves); a `run` killed with SIGKILL while it waits
 * waits again when `run` resumes it on the same --state-dir, and `approve RUN_ID` in another
 * process lets it finish. The CLI runs in child processes against an emulator in this one.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type EmulatorHandle } from "../../local/graph-emulator/index.js";
import type { TenantFixture } from "../../local/graph-emulator/tenant/types.js";
import { attacksTenant, usersDeciding } from "./attacksFixture.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
// tsx as a loader in the one process (not its CLI, which runs the script in a child process
// that a SIGKILL of its parent would leave running).
const cli = ["--import", "tsx", path.join(root, "local/cli/main.ts")];

/** A CLI process: its stderr lines as they come, its stdout, and its end. */
interface CliProcess {
  /** Resolves with the first stderr line matching `pattern` (rejects if the process ends first). */
  line(pattern: RegExp): Promise<RegExpExecArray>;
  kill(): void;
  exit: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

describe("approval from the command line", () => {
  let emulator: EmulatorHandle;
  let tenant: TenantFixture;
  let writes: number;
  let stateDir: string;

  beforeAll(async () => {
    tenant = await attacksTenant();
    writes = usersDeciding(tenant, "create").length;
    emulator = await startEmulator({ tenant, profile: "fast" });
  });
  afterAll(async () => {
    await emulator?.close();
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  /** Each test starts from the fixture's tenant and a new state directory. */
  async function fresh(): Promise<void> {
    for (const user of tenant.users) {
      emulator.upsertUser({ ...user, phoneMethods: [] });
    }
    emulator.resetMetrics();
    stateDir = await mkdtemp(path.join(tmpdir(), "mfa-approve-"));
  }

  function mfa(...args: string[]): CliProcess {
    const child = spawn(process.execPath, [...cli, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        GRAPH_BASE_URL: emulator.graphBaseUrl,
        GRAPH_ALLOW_LOOPBACK: "true",
        GRAPH_AUTH: "managedIdentity",
        GRAPH_CA_FILE: emulator.caCertPath,
        IDENTITY_ENDPOINT: emulator.identityEndpoint,
        IDENTITY_HEADER: emulator.identityHeader,
        DEFAULT_REGION: "DK",
        EXCLUDE_GROUPS: "Break Glass Accounts",
        // One below the fixture's planned writes: every run here needs an approval.
        APPROVAL_THRESHOLD: String(writes - 1),
        RUN_STORE: "",
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    const lines: string[] = [];
    const waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
    createInterface({ input: child.stderr! }).on("line", (text) => {
      stderr += `${text}\n`;
      lines.push(text);
      for (const w of [...waiters]) {
        const m = w.pattern.exec(text);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    const exit = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.once("close", (code) => resolve({ code, stdout, stderr })),
    );
    return {
      line: (pattern) =>
        new Promise((resolve, reject) => {
          for (const text of lines) {
            const m = pattern.exec(text);
            if (m) {
              return resolve(m);
            }
          }
          waiters.push({ pattern, resolve });
          void exit.then((e) =>
            reject(new Error(`ended (${e.code}) before ${pattern}:\n${e.stderr}`)),
          );
        }),
      kill: () => child.kill("SIGKILL"),
      exit,
    };
  }

  function lastJson(stdout: string): { runtimeStatus: string; counts: Record<string, number> } {
    const last = stdout.trim().split("\n").at(-1) ?? "";
    return JSON.parse(last) as { runtimeStatus: string; counts: Record<string, number> };
  }

  it("run --approve approves the run it started and writes its plan", async () => {
    await fresh();

    const run = mfa("run", "--approve", "--json", "--state-dir", stateDir);
    await run.line(/waits for approval; --approve approves it as cli:/);
    const ended = await run.exit;

    expect(ended.code).toBe(0);
    expect(lastJson(ended.stdout).counts.created).toBe(writes);
    expect(emulator.metrics().writes).toBe(writes);
  });

  it("waits again after a SIGKILL while waiting, and finishes when approve is run in another process", async () => {
    await fresh();

    const first = mfa("run", "--json", "--state-dir", stateDir);
    const runId = (
      await first.line(/^Approve from another shell: mfa-prepopulate approve (\S+)/)
    )[1];
    first.kill();
    expect((await first.exit).code).toBeNull();
    expect(emulator.metrics().writes).toBe(0);

    // The same command on the same state directory resumes the run, which waits again.
    const resumed = mfa("run", "--json", "--state-dir", stateDir);
    await resumed.line(new RegExp(`^Resuming run '${runId}'`));
    await resumed.line(new RegExp(`^Approve from another shell: mfa-prepopulate approve ${runId}`));
    expect(emulator.metrics().writes).toBe(0);

    const approve = mfa("approve", runId ?? "?", "--state-dir", stateDir);
    const approved = await approve.exit;
    expect(approved.code).toBe(0);
    expect(approved.stderr).toContain(`Approved run '${runId}'`);

    const ended = await resumed.exit;
    expect(ended.code).toBe(0);
    const result = lastJson(ended.stdout);
    expect(result.runtimeStatus).toBe("Completed");
    expect(result.counts.created).toBe(writes);
    expect(emulator.metrics().writes).toBe(writes);
    const written = emulator
      .state()
      .users.filter((u) => u.phoneMethods.some((m) => m.phoneType === "mobile"))
      .map((u) => u.id)
      .sort();
    expect(written).toEqual(
      usersDeciding(tenant, "create")
        .map((u) => u.id)
        .sort(),
    );
  }, 60_000);
});
