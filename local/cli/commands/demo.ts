/**
 * `mfa-prepopulate demo` (what `npm start` runs): a synthetic tenant in the offline emulator, the
 * local host, one complete nightly run with live progress (the same host-and-follow as `run`),
 * then a summary with the plan, the Graph calls and, last, where the report page is. Exits 0 when
 * the run completed.
 */
import { mkdir, rm } from "node:fs/promises";
import * as path from "node:path";
import { Option, type Command } from "commander";
import type { EmulatorHandle } from "../../graph-emulator/index.js";
import type { InstanceStatus } from "../../host/types.js";
import { fail } from "../fail.js";
import { positive, wholeNumber } from "../numberFlags.js";

interface DemoOptions {
  users: string;
  seed: string;
  profile: "fast" | "realistic" | "hostile";
  timeScale: string;
  defaultRegion: string;
  stateDir: string;
  json?: boolean;
}

/**
 * Adds `demo`.
 *
 * @param program - the CLI program.
 */
export function addDemoCommand(program: Command): Command {
  return program
    .command("demo")
    .description(
      "the embedded default: a synthetic tenant in the offline emulator, one complete nightly run with live progress",
    )
    .option("--users <n>", "synthetic tenant size", "20000")
    .option("--seed <n>", "synthetic tenant seed", "1")
    .addOption(
      new Option("--profile <name>", "emulator profile")
        .choices(["fast", "realistic", "hostile"])
        .default("realistic"),
    )
    .option(
      "--time-scale <x>",
      "emulated time per real time (0.05 = 20x faster; quotas and latencies scale together)",
      "0.05",
    )
    .option("--default-region <cc>", "DEFAULT_REGION for the demo", "DK")
    .option("--state-dir <dir>", "state directory (wiped at start)", ".state/demo")
    .option("--json", "print the result as one JSON line on stdout")
    .action(async (opts: DemoOptions) => {
      try {
        await demo(opts);
      } catch (error) {
        fail(error);
      }
    });
}

async function demo(opts: DemoOptions): Promise<void> {
  const started = Date.now();
  await rm(opts.stateDir, { recursive: true, force: true });
  await mkdir(opts.stateDir, { recursive: true });
  const timeScale = positive("--time-scale", opts.timeScale);
  const emulator = await startDemoEmulator(opts, timeScale);
  // The environment's settings, pointed at the emulator and the demo's state directory.
  const { settingsFrom } = await import("../settingsFrom.js");
  const settings = settingsFrom({
    GRAPH_BASE_URL: emulator.graphBaseUrl,
    GRAPH_ALLOW_LOOPBACK: "true",
    GRAPH_AUTH: "managedIdentity",
    GRAPH_CA_FILE: emulator.caCertPath,
    IDENTITY_ENDPOINT: emulator.identityEndpoint,
    IDENTITY_HEADER: emulator.identityHeader,
    DEFAULT_REGION: opts.defaultRegion,
    RUN_STORE: path.resolve(opts.stateDir),
  });
  process.stderr.write(
    `Emulator (${opts.profile}, time x${(1 / timeScale).toFixed(0)}: quotas and latencies run that much faster than Graph's) at ${emulator.graphBaseUrl}\n`,
  );
  const { hostAndFollow } = await import("../hostAndFollow.js");
  const { startOrResume } = await import("../localRun.js");
  await hostAndFollow(
    {
      stateDir: opts.stateDir,
      json: opts.json,
      settings,
      started,
      // The demo is one command: it approves its own plan when the plan needs approval.
      approve: true,
      timeScale,
      afterSummary: async (final, logFile) => {
        printDemoDetails(final, emulator, opts.stateDir, logFile);
        await emulator.close();
      },
    },
    async (host) => {
      const { instanceId } = await startOrResume(host, settings, {});
      process.stderr.write(`Started run '${instanceId}'\n`);
      return instanceId;
    },
  );
}

async function startDemoEmulator(opts: DemoOptions, timeScale: number): Promise<EmulatorHandle> {
  const { startEmulator } = await import("../../graph-emulator/index.js");
  const { generateTenant } = await import("../../graph-emulator/tenant/generate.js");
  const users = wholeNumber("--users", opts.users);
  process.stderr.write(
    `Generating a synthetic tenant of ${users.toLocaleString("en-US")} users...\n`,
  );
  const tenant = generateTenant({ users, seed: wholeNumber("--seed", opts.seed) });
  return startEmulator({
    tenant,
    profile: opts.profile,
    config: { timeScale },
  });
}

/** The plan by decision, the emulator's Graph call counts and where the report is, on stderr. */
function printDemoDetails(
  final: InstanceStatus,
  emulator: EmulatorHandle,
  stateDir: string,
  logFile: string,
): void {
  const output = final.output as
    { runId?: string; plan?: Record<string, number>; reportKeys?: { html?: string } } | undefined;
  if (output?.plan) {
    process.stderr.write(
      `Plan by decision:\n${Object.entries(output.plan)
        .map(([k, v]) => `  ${k.padEnd(28)} ${String(v).padStart(7)}`)
        .join("\n")}\n`,
    );
  }
  const metrics = emulator.metrics();
  process.stderr.write(
    `Graph calls: ${metrics.requests}, throttled (429): ${metrics.throttled}, writes: ${metrics.writes}\n`,
  );
  process.stderr.write(`Log lines: ${logFile}\n`);
  // The last lines: where the report page is, and how to open it.
  if (output?.reportKeys?.html) {
    process.stderr.write(
      `Report page: ${path.resolve(stateDir, output.reportKeys.html)} (report.csv and report.json beside it)\n` +
        `Open it with: mfa-prepopulate report ${output.runId ?? "RUN_ID"} --state-dir ${stateDir} --open\n`,
    );
  }
}
