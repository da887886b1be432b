#!/usr/bin/env node
/**
 * `mfa-prepopulate`: the command line. Data goes to stdout, progress and logs to stderr; every
 * command exits 0 on success and non-zero with a one-line reason on error.
 */
import { createWriteStream, readFileSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import * as path from "node:path";
import { Command, Option } from "commander";
import { ConfigurationError } from "../../shared/errors.js";
import { loadSettings } from "../../shared/config.js";
import type { LocalHost } from "../host/index.js";
import { runNormalize } from "./commands/normalize.js";

/** Setting flags: flag attribute name to setting name (the contract's table). */
const SETTING_FLAGS: Record<string, string> = {
  graphBaseUrl: "GRAPH_BASE_URL",
  auth: "GRAPH_AUTH",
  tenantId: "AZURE_TENANT_ID",
  clientId: "AZURE_CLIENT_ID",
  graphCaFile: "GRAPH_CA_FILE",
  stagingGroup: "STAGING_GROUP",
  excludeGroups: "EXCLUDE_GROUPS",
  defaultRegion: "DEFAULT_REGION",
  target: "TARGET",
  skipAdmins: "SKIP_ADMINS",
  allowLandline: "ALLOW_LANDLINE",
  replaceExisting: "REPLACE_EXISTING",
  maxWrites: "MAX_WRITES_PER_RUN",
  dryRun: "DRY_RUN",
  runStore: "RUN_STORE",
};

function withSettingFlags(command: Command): Command {
  return command
    .option("--graph-base-url <url>", "Graph root (GRAPH_BASE_URL)")
    .addOption(
      new Option("--auth <mode>", "credential (GRAPH_AUTH)").choices([
        "managedIdentity",
        "clientSecret",
        "clientCertificate",
        "azureCli",
        "deviceCode",
      ]),
    )
    .option("--tenant-id <id>", "tenant id (AZURE_TENANT_ID)")
    .option("--client-id <id>", "app or user-assigned identity client id (AZURE_CLIENT_ID)")
    .option(
      "--graph-ca-file <pem>",
      "extra CA to trust for Graph, e.g. the emulator's (GRAPH_CA_FILE)",
    )
    .option("--staging-group <idOrName>", "only this group's transitive members (STAGING_GROUP)")
    .option("--exclude-groups <list>", "comma-separated groups never touched (EXCLUDE_GROUPS)")
    .option("--default-region <cc>", "region for numbers without a country code (DEFAULT_REGION)")
    .addOption(
      new Option("--target <mode>", "who needs a method (TARGET)").choices([
        "mfaUnregistered",
        "noMobileMethod",
      ]),
    )
    .option("--skip-admins", "leave admins alone (SKIP_ADMINS, default)")
    .option("--no-skip-admins", "include admins")
    .option("--allow-landline", "accept fixed-line-only numbers (ALLOW_LANDLINE)")
    .option(
      "--replace-existing",
      "change an existing mobile method whose number differs (REPLACE_EXISTING)",
    )
    .option("--max-writes <n>", "cap on writes per run, 0 = none (MAX_WRITES_PER_RUN)")
    .option("--dry-run", "plan and report, write nothing (DRY_RUN)")
    .option("--run-store <dirOrBlob>", "run store: a directory, file:// URL or 'blob' (RUN_STORE)");
}

/**
 * Copies the setting flags the user gave into the environment, where the app reads settings,
 * and validates all settings at once.
 */
function applySettingFlags(opts: Record<string, unknown>, skipAdminsGiven: boolean): void {
  for (const [flag, setting] of Object.entries(SETTING_FLAGS)) {
    const value = opts[flag];
    if (flag === "skipAdmins" && !skipAdminsGiven) {
      continue;
    }
    if (value !== undefined) {
      process.env[setting] = String(value);
    }
  }
  loadSettings(process.env);
}

function fail(error: unknown): never {
  const message =
    error instanceof ConfigurationError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`mfa-prepopulate: ${message.split("\n")[0]}\n`);
  process.exit(1);
}

/** Host logs go to a file so they do not tear the progress bar; errors still show. */
function fileLogger(file: string): {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
  close(): Promise<void>;
} {
  const out = createWriteStream(file, { flags: "a" });
  const write = (level: string, m: string): void => {
    out.write(`${new Date().toISOString()} ${level} ${m}\n`);
  };
  return {
    info: (m) => write("info", m),
    warn: (m) => write("warn", m),
    error: (m) => write("error", m),
    close: () => new Promise((resolve) => out.end(resolve)),
  };
}

const program = new Command();
program
  .name("mfa-prepopulate")
  .description(
    "Register each Entra ID user's mobile number as their MFA/SSPR phone method through Microsoft Graph.",
  )
  .showHelpAfterError();

program
  .command("normalize")
  .description("read one raw number per line on stdin, write one JSON result per line on stdout")
  .option("--default-region <cc>", "region for numbers without a country code")
  .option("--allow-landline", "accept fixed-line-only numbers")
  .action(async (opts: { defaultRegion?: string; allowLandline?: boolean }) => {
    try {
      const region = opts.defaultRegion?.toUpperCase();
      if (region !== undefined && !/^[A-Z]{2}$/.test(region)) {
        throw new Error(
          `'--default-region' must be an ISO 3166-1 alpha-2 region such as DK, not '${opts.defaultRegion}'.`,
        );
      }
      await runNormalize(process.stdin, process.stdout, {
        defaultRegion: region,
        allowLandline: opts.allowLandline === true,
      });
    } catch (error) {
      fail(error);
    }
  });

program
  .command("emulator")
  .description("start the offline Graph emulator; prints one JSON line when it listens")
  .option("--port <n>", "https Graph port (0 = any)", "0")
  .option("--users <n>", "synthetic tenant size", "1000")
  .option("--seed <n>", "synthetic tenant seed", "1")
  .option("--tenant-file <file>", "tenant fixture JSON instead of a synthetic tenant")
  .addOption(
    new Option("--profile <name>", "fault and latency profile")
      .choices(["fast", "realistic", "hostile"])
      .default("fast"),
  )
  .option(
    "--time-scale <x>",
    "multiply latencies, quotas windows and token lifetimes (0.01 = 100x faster)",
  )
  .action(
    async (opts: {
      port: string;
      users: string;
      seed: string;
      tenantFile?: string;
      profile: "fast" | "realistic" | "hostile";
      timeScale?: string;
    }) => {
      try {
        const { startEmulator } = await import("../graph-emulator/index.js");
        const { loadTenantFile } = await import("../graph-emulator/tenant/fixture.js");
        const { generateTenant } = await import("../graph-emulator/tenant/generate.js");
        const tenant = opts.tenantFile
          ? await loadTenantFile(opts.tenantFile)
          : generateTenant({
              users: wholeNumber("--users", opts.users),
              seed: wholeNumber("--seed", opts.seed),
            });
        const emulator = await startEmulator({
          tenant,
          profile: opts.profile,
          port: wholeNumber("--port", opts.port),
          config: opts.timeScale ? { timeScale: positive("--time-scale", opts.timeScale) } : {},
        });
        process.stdout.write(
          `${JSON.stringify({
            graphBaseUrl: emulator.graphBaseUrl,
            identityEndpoint: emulator.identityEndpoint,
            identityHeader: emulator.identityHeader,
            adminUrl: emulator.adminUrl,
            caCertPath: emulator.caCertPath,
          })}\n`,
        );
        const stop = (): void => {
          void emulator.close().then(() => process.exit(0));
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
      } catch (error) {
        fail(error);
      }
    },
  );

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new Error(`'${flag}' must be a whole number, not '${value}'.`);
  }
  return Number(value);
}

function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`'${flag}' must be a positive number, not '${value}'.`);
  }
  return n;
}

interface RunOpts extends Record<string, unknown> {
  stateDir: string;
  json?: boolean;
  chunkSize?: string;
}

/**
 * Starts the local host on a state directory, starts or resumes an instance with `begin`, shows
 * its progress until it ends, prints the summary (and the JSON line with `--json`), and exits 0
 * only when it completed.
 */
async function hostAndFollow(
  stateDir: string,
  json: boolean | undefined,
  begin: (host: LocalHost, logFile: string) => Promise<string>,
): Promise<never> {
  const started = Date.now();
  const { startAppHost, follow, runJson } = await import("./localRun.js");
  const { ProgressView } = await import("./progress.js");
  await mkdir(path.resolve(stateDir, "logs"), { recursive: true });
  const logFile = path.resolve(stateDir, "logs", "host.log");
  const logger = fileLogger(logFile);
  const host = await startAppHost(stateDir, { logger });
  const instanceId = await begin(host, logFile);
  const view = new ProgressView();
  const final = await follow(host, instanceId, (s) => view.update(s));
  view.stop();
  await host.stop();
  await logger.close();
  const result = runJson(final, Date.now() - started);
  printSummary(result);
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  process.exit(final.runtimeStatus === "Completed" ? 0 : 1);
}

async function runCommand(opts: RunOpts, command: Command, forceDryRun: boolean): Promise<void> {
  try {
    applySettingFlags(opts, command.getOptionValueSource("skipAdmins") === "cli");
    if (forceDryRun) {
      process.env.DRY_RUN = "true";
    }
    const tuning = opts.chunkSize
      ? { chunkSize: Math.max(1, wholeNumber("--chunk-size", opts.chunkSize)) }
      : undefined;
    const { startOrResume } = await import("./localRun.js");
    await hostAndFollow(opts.stateDir, opts.json, async (host, logFile) => {
      const { instanceId, resumed } = await startOrResume(host, { tuning });
      process.stderr.write(
        `${resumed ? "Resuming" : "Started"} run '${instanceId}'; logs in ${logFile}\n`,
      );
      return instanceId;
    });
  } catch (error) {
    fail(error);
  }
}

function printSummary(r: {
  runId: string;
  runtimeStatus: string;
  counts: Record<string, number>;
  failedChunks: number[];
  durationMs: number;
  error?: string;
}): void {
  const rows = Object.entries(r.counts).map(
    ([k, v]) => `  ${k.padEnd(16)} ${String(v).padStart(9)}`,
  );
  process.stderr.write(
    [
      `Run '${r.runId}': ${r.runtimeStatus} in ${(r.durationMs / 1000).toFixed(1)} s`,
      ...rows,
      r.failedChunks.length > 0
        ? `  failed chunks: ${r.failedChunks.join(", ")} (rerun with: mfa-prepopulate rerun ${r.runId})`
        : "",
      r.error ? `  error: ${r.error}` : "",
    ]
      .filter((l) => l !== "")
      .join("\n") + "\n",
  );
}

withSettingFlags(program.command("run"))
  .description(
    "run one nightly run on the local host against the configured Graph; resumes an unfinished run in --state-dir",
  )
  .option("--state-dir <dir>", "where the local host and the run store keep their state", ".state")
  .option("--json", "print the result as one JSON line on stdout")
  .option("--chunk-size <n>", "users per provisioning chunk (default 250)")
  .action(async (opts: RunOpts, command: Command) => runCommand(opts, command, false));

withSettingFlags(program.command("plan"))
  .description("run --dry-run: plan and report, write nothing")
  .option("--state-dir <dir>", "where the local host and the run store keep their state", ".state")
  .option("--json", "print the result as one JSON line on stdout")
  .option("--chunk-size <n>", "users per provisioning chunk (default 250)")
  .action(async (opts: RunOpts, command: Command) => runCommand(opts, command, true));

program
  .command("status")
  .description("show a run's status from --state-dir")
  .argument("<runId>", "the run id")
  .option("--state-dir <dir>", "state directory", ".state")
  .option("--json", "print JSON on stdout")
  .action(async (runId: string, opts: { stateDir: string; json?: boolean }) => {
    try {
      const { readPersistedInstances } = await import("../host/index.js");
      const { runJson } = await import("./localRun.js");
      const found = readPersistedInstances(path.resolve(opts.stateDir, "host")).find(
        (i) => i.instanceId === runId,
      );
      if (!found) {
        throw new Error(`No run has the id '${runId}' in '${opts.stateDir}'.`);
      }
      if (!found.state) {
        throw new Error(
          `The state of run '${runId}' cannot be read: ${found.error ?? "unknown reason"}.`,
        );
      }
      const parse = (text: string | undefined): unknown =>
        text === undefined ? undefined : (JSON.parse(text) as unknown);
      const status = {
        name: found.state.name,
        instanceId: found.state.instanceId,
        createdTime: found.state.createdTime,
        lastUpdatedTime: found.state.lastUpdatedTime,
        input: undefined,
        output: parse(found.state.output),
        runtimeStatus: found.state.runtimeStatus,
        customStatus: parse(found.state.customStatus),
      };
      const result = runJson(status, 0);
      const custom = (status.customStatus ?? {}) as { phase?: string };
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ ...result, phase: custom.phase, customStatus: status.customStatus })}\n`,
        );
      } else {
        process.stdout.write(
          `${runId}: ${status.runtimeStatus} (${custom.phase ?? "?"})\n${JSON.stringify(result.counts, null, 2)}\n`,
        );
      }
    } catch (error) {
      fail(error);
    }
  });

program
  .command("rerun")
  .description("provision again a finished run's failed chunks and transiently failed users")
  .argument("<runId>", "the finished run")
  .option("--state-dir <dir>", "state directory", ".state")
  .option("--json", "print the result as one JSON line on stdout")
  .action(async (runId: string, opts: { stateDir: string; json?: boolean }) => {
    try {
      loadSettings(process.env);
      const { startRerun } = await import("./localRun.js");
      await hostAndFollow(opts.stateDir, opts.json, async (host) => {
        const rerunId = await startRerun(host, runId);
        process.stderr.write(`Started rerun '${rerunId}' of run '${runId}'.\n`);
        return rerunId;
      });
    } catch (error) {
      fail(error);
    }
  });

program
  .command("serve")
  .description("keep the local host up with the runs HTTP API and the nightly timer")
  .option("--port <n>", "loopback port", "7071")
  .option("--state-dir <dir>", "state directory", ".state")
  .action(async (opts: { port: string; stateDir: string }) => {
    try {
      loadSettings(process.env);
      const { startAppHost } = await import("./localRun.js");
      const host = await startAppHost(opts.stateDir, {
        logger: {
          info: (m) => process.stderr.write(`${m}\n`),
          warn: (m) => process.stderr.write(`${m}\n`),
          error: (m) => process.stderr.write(`${m}\n`),
        },
        port: wholeNumber("--port", opts.port),
        schedules: true,
      });
      process.stdout.write(
        `${JSON.stringify({ baseUrl: host.baseUrl, runsApi: `${host.baseUrl}/api/runs` })}\n`,
      );
      const stop = (): void => {
        void host.stop().then(() => process.exit(0));
      };
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
    } catch (error) {
      fail(error);
    }
  });

program
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
  .action(
    async (opts: {
      users: string;
      seed: string;
      profile: "fast" | "realistic" | "hostile";
      timeScale: string;
      defaultRegion: string;
      stateDir: string;
      json?: boolean;
    }) => {
      const started = Date.now();
      try {
        const { startEmulator } = await import("../graph-emulator/index.js");
        const { generateTenant } = await import("../graph-emulator/tenant/generate.js");
        await rm(opts.stateDir, { recursive: true, force: true });
        await mkdir(path.resolve(opts.stateDir, "logs"), { recursive: true });
        const users = wholeNumber("--users", opts.users);
        process.stderr.write(
          `Generating a synthetic tenant of ${users.toLocaleString("en-US")} users...\n`,
        );
        const tenant = generateTenant({ users, seed: wholeNumber("--seed", opts.seed) });
        const emulator = await startEmulator({
          tenant,
          profile: opts.profile,
          config: { timeScale: positive("--time-scale", opts.timeScale) },
        });
        Object.assign(process.env, {
          GRAPH_BASE_URL: emulator.graphBaseUrl,
          GRAPH_AUTH: "managedIdentity",
          GRAPH_CA_FILE: emulator.caCertPath,
          IDENTITY_ENDPOINT: emulator.identityEndpoint,
          IDENTITY_HEADER: emulator.identityHeader,
          DEFAULT_REGION: opts.defaultRegion,
          RUN_STORE: path.resolve(opts.stateDir),
        });
        loadSettings(process.env);
        process.stderr.write(
          `Emulator (${opts.profile}, time x${(1 / Number(opts.timeScale)).toFixed(0)}) at ${emulator.graphBaseUrl}\n`,
        );
        const { startAppHost, startOrResume, follow, runJson } = await import("./localRun.js");
        const { ProgressView } = await import("./progress.js");
        const logFile = path.resolve(opts.stateDir, "logs", "host.log");
        const logger = fileLogger(logFile);
        const host = await startAppHost(opts.stateDir, { logger });
        const { instanceId } = await startOrResume(host, {});
        process.stderr.write(`Started run '${instanceId}'\n`);
        const view = new ProgressView();
        const final = await follow(host, instanceId, (s) => view.update(s));
        view.stop();
        await host.stop();
        await logger.close();
        const metrics = emulator.metrics();
        await emulator.close();
        const result = runJson(final, Date.now() - started);
        printSummary(result);
        const output = final.output as
          { plan?: Record<string, number>; reportKeys?: { csv: string; json: string } } | undefined;
        if (output?.plan) {
          process.stderr.write(
            `Plan by decision:\n${Object.entries(output.plan)
              .map(([k, v]) => `  ${k.padEnd(28)} ${String(v).padStart(7)}`)
              .join("\n")}\n`,
          );
        }
        process.stderr.write(
          `Graph calls: ${metrics.requests}, throttled (429): ${metrics.throttled}, writes: ${metrics.writes}\n`,
        );
        if (output?.reportKeys) {
          process.stderr.write(
            `Report: ${path.resolve(opts.stateDir, output.reportKeys.csv)} (and report.json beside it)\nLog lines: ${logFile}\n`,
          );
        }
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(result)}\n`);
        }
        process.exit(final.runtimeStatus === "Completed" ? 0 : 1);
      } catch (error) {
        fail(error);
      }
    },
  );

/** The package version, from the package.json above this file (source or dist). */
function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "mfa-prepopulate" && pkg.version) {
        return pkg.version;
      }
    } catch {
      // Not this level; try the next one up.
    }
  }
  return "0.0.0";
}

program.version(packageVersion());

await program.parseAsync(process.argv);
