/**
 * Whole-orchestration benchmark: a synthetic tenant in the Graph emulator (a child process, so its
 * memory is not counted), the app on the local host in this process, one nightly run.
 *
 *   node --import tsx bench/plan.ts [--users 100000] [--seed 1] [--write] [--profile fast] [--time-scale 1]
 *
 * The `fast` profile keeps Graph's documented quotas (the reports API allows 5 requests per 10 s,
 * so discovering 100,000 users takes over 3 minutes of report paging alone); `--time-scale 0.001`
 * runs emulated time 1,000 times faster to measure the orchestration itself.
 * Without `--write` the run is a dry run (the plan): it reports that the plan's counts add up to
 * the number of users. Prints a table on stderr and one JSON line on stdout: users, wall time,
 * peak RSS of this process, history events in all instances and per 1,000 users, replay cost.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { appModules } from "../local/cli/localRun.js";
import { startLocalHost } from "../local/host/index.js";
import {
  newRunId,
  readRunOutput,
  resolveTuning,
  runSettingsFrom,
  RUN_ORCHESTRATIONS,
} from "../shared/run/index.js";
import { configureServices } from "../shared/services.js";
import { environmentSettings, loadSettings } from "../shared/settings/index.js";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const users = Number(arg("users", "100000"));
const seed = arg("seed", "1");
const profile = arg("profile", "fast");
const write = process.argv.includes("--write");
const timeScale = arg("time-scale", "1");
const root = fileURLToPath(new URL("../", import.meta.url));

const emulator = spawn(
  process.execPath,
  [
    path.join(root, "node_modules/tsx/dist/cli.mjs"),
    path.join(root, "local/cli/main.ts"),
    "emulator",
    "--users",
    String(users),
    "--seed",
    seed,
    "--profile",
    profile,
    "--time-scale",
    timeScale,
  ],
  { stdio: ["ignore", "pipe", "inherit"] },
);
const info = JSON.parse(
  await new Promise<string>((resolve, reject) => {
    createInterface({ input: emulator.stdout! }).once("line", resolve);
    emulator.once("exit", (code) => reject(new Error(`emulator exited with ${code}`)));
  }),
) as { graphBaseUrl: string; identityEndpoint: string; identityHeader: string; caCertPath: string };

const stateDir = await mkdtemp(path.join(tmpdir(), "mfa-bench-"));
const settings = loadSettings({
  ...environmentSettings(),
  GRAPH_BASE_URL: info.graphBaseUrl,
  GRAPH_ALLOW_LOOPBACK: "true",
  GRAPH_AUTH: "managedIdentity",
  GRAPH_CA_FILE: info.caCertPath,
  IDENTITY_ENDPOINT: info.identityEndpoint,
  IDENTITY_HEADER: info.identityHeader,
  DEFAULT_REGION: "DK",
  RUN_STORE: stateDir,
});
configureServices(settings);
try {
  const host = await startLocalHost({
    stateDir: path.join(stateDir, "host"),
    modules: appModules(),
    activityConcurrency: 8,
    logger: {
      info: () => undefined,
      warn: () => undefined,
      error: (m) => process.stderr.write(`${m}\n`),
    },
  });
  const runId = newRunId("bench");
  const started = Date.now();
  await host.startNew(RUN_ORCHESTRATIONS.nightlyRun, {
    instanceId: runId,
    input: {
      runId,
      trigger: "cli",
      settings: runSettingsFrom(settings, !write),
      tuning: resolveTuning(),
    },
  });
  const status = await host.waitForCompletion(runId, { timeoutMs: 3 * 3_600_000 });
  const wallMs = Date.now() - started;
  if (status.runtimeStatus !== "Completed") {
    throw new Error(`run ended ${status.runtimeStatus}: ${JSON.stringify(status.output)}`);
  }
  const output = readRunOutput(status.output);
  if (!output) {
    throw new Error("the run completed without a run's output");
  }
  let historyEvents = 0;
  const instances = await host.listInstances();
  for (const i of instances) {
    historyEvents +=
      (await host.getStatus(i.instanceId, { showHistory: true }))?.history?.length ?? 0;
  }
  const stats = host.stats();
  await host.stop();
  const planned = Object.values(output.plan).reduce((a, b) => a + b, 0);
  const result = {
    users,
    dryRun: !write,
    profile,
    timeScale: Number(timeScale),
    wallMs,
    usersPerSecond: Math.round(users / (wallMs / 1000)),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    planCountsAddUp: planned === users && output.counts.candidates === users,
    planned: output.counts.planned,
    created: output.counts.created,
    instances: instances.length,
    historyEvents,
    historyEventsPer1000Users: Math.round((historyEvents / users) * 1000 * 10) / 10,
    replayEpisodes: stats.total.episodes,
    eventsReplayed: stats.total.eventsReplayed,
    bytesShipped: stats.total.bytesShipped,
  };
  process.stderr.write(
    `${Object.entries(result)
      .map(([k, v]) => `${k.padEnd(26)} ${String(v)}`)
      .join("\n")}\n`,
  );
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  emulator.kill("SIGTERM");
  await rm(stateDir, { recursive: true, force: true });
}
