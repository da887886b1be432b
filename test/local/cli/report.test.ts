import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { openerFor, reportFile } from "../../../local/cli/commands/report.js";
import { dirNameFor, InstanceStore, type InstanceState } from "../../../local/host/store.js";
import { testRunOutput } from "../../support/runFixtures.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const RUN = "run-20261201T020000Z-ab12";

/** Runs the CLI as a user would; resolves with its exit code and output. */
async function cli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "local/cli/main.ts", ...args],
      { cwd: ROOT, env },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("mfa-prepopulate report", () => {
  let stateDir: string;
  let page: string;

  beforeEach(async () => {
    vi.stubEnv("RUN_STORE", undefined);
    stateDir = await mkdtemp(path.join(tmpdir(), "mfa-report-cli-"));
    page = path.join(stateDir, "runs", RUN, "report.html");
    await mkdir(path.dirname(page), { recursive: true });
    await writeFile(page, "<!doctype html><title>report</title>");
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("finds a run's page in the state directory, or where RUN_STORE says", async () => {
    expect(await reportFile(RUN, stateDir)).toBe(page);
    const other = await mkdtemp(path.join(tmpdir(), "mfa-report-store-"));
    try {
      vi.stubEnv("RUN_STORE", other);
      await expect(reportFile(RUN, stateDir)).rejects.toThrow(
        `Run '${RUN}' has no report in '${other}': a run writes it when it ends or waits for approval (check the run id and --state-dir).`,
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it("shows a rerun's page: the report of the run it repaired", async () => {
    // Arrange: the local host's record of a completed rerun of RUN.
    const rerunId = `${RUN}-rerun-20261201T030000Z-cd34`;
    const state = {
      v: 1,
      instanceId: rerunId,
      name: "rerunFailed",
      executionId: "e1",
      runtimeStatus: "Completed",
      createdTime: "2026-12-01T03:00:00.000Z",
      lastUpdatedTime: "2026-12-01T03:05:00.000Z",
      output: JSON.stringify(testRunOutput({ runId: RUN })),
      history: [],
      inbox: [],
      nextSeq: 0,
      actionSigs: [],
      actionIds: [],
      pending: {},
    } as unknown as InstanceState;
    new InstanceStore(path.join(stateDir, "host", "instances", dirNameFor(rerunId))).compact(state);

    // Act, Assert
    expect(await reportFile(rerunId, stateDir)).toBe(page);
  });

  it("refuses what is not a run id, and says where a blob run store's page is", async () => {
    await expect(reportFile("../etc", stateDir)).rejects.toThrow("'../etc' is not a run id");
    vi.stubEnv("RUN_STORE", "blob");
    vi.stubEnv("AzureWebJobsStorage", "UseDevelopmentStorage=true");
    await expect(reportFile(RUN, stateDir)).rejects.toThrow(
      `The run store is in Blob Storage (RUN_STORE=blob): open GET /api/runs/${RUN}/report, or download runs/${RUN}/report.html from the container.`,
    );
  });

  it("opens with xdg-open, open or start, by platform", () => {
    expect(openerFor("linux", "/r/report.html")).toEqual({
      command: "xdg-open",
      args: ["/r/report.html"],
    });
    expect(openerFor("darwin", "/r/report.html")).toEqual({
      command: "open",
      args: ["/r/report.html"],
    });
    expect(openerFor("win32", "C:\\r\\report.html")).toEqual({
      command: "cmd",
      args: ["/c", "start", '""', "C:\\r\\report.html"],
    });
  });

  it("prints the path on stdout; with --open and no opener it says so and fails", async () => {
    // The state directory is the run store, whatever the machine's environment says.
    const { RUN_STORE: _unset, ...env } = process.env;
    const found = await cli(["report", RUN, "--state-dir", stateDir], env);
    expect(found).toEqual({ code: 0, stdout: `${page}\n`, stderr: "" });

    const opener = openerFor(process.platform, page).command;
    const open = await cli(["report", RUN, "--state-dir", stateDir, "--open"], {
      ...env,
      PATH: path.join(stateDir, "no-such-bin"),
    });
    expect(open.code).toBe(1);
    expect(open.stdout).toBe(`${page}\n`);
    expect(open.stderr).toBe(
      `mfa-prepopulate: No '${opener}' on this machine to open the page; open the path above in a browser.\n`,
    );

    const missing = await cli(["report", "run-none", "--state-dir", stateDir], env);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(missing.stderr).toMatch(/^mfa-prepopulate: Run 'run-none' has no report in /);
  }, 30_000);
});
