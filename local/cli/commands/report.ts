/**
 * `mfa-prepopulate report RUN_ID [--state-dir DIR] [--open]`: prints the path of a run's report
 * page (report.html in the run store on this machine); `--open` opens it with the platform's
 * opener. A rerun's page is the report of the run it repaired.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import * as path from "node:path";
import type { Command } from "commander";
import { fail } from "../fail.js";

interface ReportOptions {
  stateDir: string;
  open?: boolean;
}

/**
 * Adds `report`.
 *
 * @param program - the CLI program.
 */
export function addReportCommand(program: Command): Command {
  return program
    .command("report")
    .description("print the path of a run's report page (report.html); --open opens it")
    .argument("<runId>", "the run id")
    .option(
      "--state-dir <dir>",
      "state directory (the run store unless RUN_STORE says otherwise)",
      ".state",
    )
    .option("--open", "open the page with the platform's opener (xdg-open, open or start)")
    .action(async (runId: string, opts: ReportOptions) => {
      try {
        const file = await reportFile(runId, opts.stateDir);
        process.stdout.write(`${file}\n`);
        if (opts.open) {
          const opener = openerFor(process.platform, file);
          await openWith(opener);
          process.stderr.write(`Opened with ${opener.command}.\n`);
        }
      } catch (error) {
        fail(error);
      }
    });
}

/**
 * Where a run's report page is on this machine.
 *
 * @param runId - the run (or a rerun of it).
 * @param stateDir - the `--state-dir`.
 * @throws Error saying why there is no page to show.
 */
export async function reportFile(runId: string, stateDir: string): Promise<string> {
  const { RUN_ID_PATTERN, runKeys } = await import("../../../shared/run/index.js");
  if (!RUN_ID_PATTERN.test(runId) || runId.startsWith(".")) {
    throw new Error(`'${runId}' is not a run id: letters, digits, '.', '_' and '-'.`);
  }
  const { settingsFrom } = await import("../settingsFrom.js");
  const location = settingsFrom().runStoreLocation;
  if (location.kind === "blob") {
    throw new Error(
      `The run store is in Blob Storage (RUN_STORE=blob): open GET /api/runs/${runId}/report, or download ${runKeys.reportHtml(runId)} from the container.`,
    );
  }
  const root = path.resolve(location.path ?? stateDir);
  const file = path.join(
    root,
    ...runKeys.reportHtml(await reportRunId(runId, stateDir)).split("/"),
  );
  if (!existsSync(file)) {
    throw new Error(
      `Run '${runId}' has no report in '${root}': a run writes it when it ends or waits for approval (check the run id and --state-dir).`,
    );
  }
  return file;
}

/** The run whose report a run id shows: a rerun's output names the run it repaired. */
async function reportRunId(runId: string, stateDir: string): Promise<string> {
  const { readPersistedInstances } = await import("../../host/index.js");
  const { readRunOutput } = await import("../../../shared/run/index.js");
  const found = readPersistedInstances(path.resolve(stateDir, "host")).find(
    (i) => i.instanceId === runId,
  );
  const output = found?.state?.output;
  const parsed = output === undefined ? undefined : readRunOutput(JSON.parse(output) as unknown);
  return parsed?.runId ?? runId;
}

/** A program and its arguments. */
export interface Opener {
  command: string;
  args: string[];
}

/**
 * The platform's way to open a file in its default program.
 *
 * @param platform - `process.platform`.
 * @param file - the file to open.
 */
export function openerFor(platform: NodeJS.Platform, file: string): Opener {
  switch (platform) {
    case "darwin":
      return { command: "open", args: [file] };
    case "win32":
      // `start` is built into cmd; its first quoted argument is a window title.
      return { command: "cmd", args: ["/c", "start", '""', file] };
    default:
      return { command: "xdg-open", args: [file] };
  }
}

/**
 * Starts the opener and leaves it running.
 *
 * @param opener - the program and its arguments.
 * @throws Error naming the program when it does not exist here.
 */
export function openWith(opener: Opener): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(opener.command, opener.args, { detached: true, stdio: "ignore" });
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        new Error(
          error.code === "ENOENT"
            ? `No '${opener.command}' on this machine to open the page; open the path above in a browser.`
            : `'${opener.command}' could not open the page: ${error.message}.`,
        ),
      );
    });
    child.once("spawn", () => {
      child.unref();
      resolve();
    });
  });
}
