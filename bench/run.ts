/**
 * `npm run bench [-- --json] [--users 20000] [--time-scale 0.05] [--scenario all]`
 *
 * The provisioning benchmark (contract: shared/contracts/cli.md, Benchmark). Three scenarios
 * against the emulator's `realistic` profile, each through the product's writer and limiter, with
 * the usage header on phone-method writes switched on (`phoneWriteUsageHeader`; the profile's
 * default is off):
 *
 * - `realistic`: the documented write quota (3,000 writes / 150 s per app and tenant);
 * - `reports`: phone-method requests under the reports limit (5 requests / 10 s, 0.5/s);
 * - `latency`: the documented quota with the create latency doubled halfway through.
 *
 * Prints a table, writes an SVG chart of rate and concurrency over time to `bench/results/` and,
 * with `--json`, ends stdout with the contract's JSON line for the `realistic` scenario.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { renderChart } from "./chart.js";
import { runScenario, type ScenarioOptions, type ScenarioResult } from "./provisioning.js";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? process.argv[i + 1] : undefined;
  return value === undefined || value.startsWith("--") ? fallback : value;
}

function numberOption(name: string, fallback: number): number {
  const value = Number(option(name, String(fallback)));
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`bench/run: --${name} must be a positive number.`);
  }
  return value;
}

const json = process.argv.includes("--json");
const users = Math.round(numberOption("users", 20_000));
const timeScale = numberOption("time-scale", 0.05);
const reportsUsers = Math.round(numberOption("reports-users", 400));
const reportsTimeScale = numberOption("reports-time-scale", 0.1);
const which = option("scenario", "all");
const known = ["all", "realistic", "reports", "latency"];
if (!known.includes(which)) {
  throw new RangeError(`bench/run: --scenario must be one of ${known.join(", ")}, not '${which}'.`);
}

/** Every scenario measures the limiter with the usage header, as before the profile lost it. */
const withHeader = { phoneWriteUsageHeader: true } as const;

const all: ScenarioOptions[] = [
  { name: "realistic", users, timeScale, config: withHeader },
  {
    name: "reports",
    users: reportsUsers,
    timeScale: reportsTimeScale,
    config: { ...withHeader, phoneWriteQuotaModel: "reports" },
  },
  {
    name: "latency",
    users,
    timeScale,
    config: withHeader,
    midRun: {
      atShare: 0.5,
      label: "create latency doubled",
      patch: { latency: { "phoneMethods.create": { meanMs: 3720, p99Ms: 5800 } } },
    },
  },
];
const scenarios = all.filter((s) => which === "all" || s.name === which);

const results: ScenarioResult[] = [];
for (const scenario of scenarios) {
  process.stderr.write(
    `bench: ${scenario.name}: ${scenario.users} users, timeScale ${scenario.timeScale} ...\n`,
  );
  results.push(await runScenario(scenario));
}

const rows: [string, (r: ScenarioResult) => string][] = [
  ["users provisioned / planned", (r) => `${r.users} / ${r.planned}`],
  ["emulated time (real)", (r) => `${r.emulatedSeconds} s (${r.realSeconds} s)`],
  ["users/hour", (r) => r.usersPerHour.toLocaleString("en-US")],
  ["ceiling users/hour (run, incl. burst)", (r) => r.ceilingUsersPerHour.toLocaleString("en-US")],
  ["share of ceiling (bar >= 0.90)", (r) => r.ratio.toFixed(3)],
  ["quota refill users/hour", (r) => r.quotaPerHour.toLocaleString("en-US")],
  ["2nd half users/hour / refill", (r) => r.secondHalfRatio.toFixed(3)],
  ["Graph requests (429s)", (r) => `${r.requests} (${r.throttled})`],
  ["throttled share (bar <= 0.02)", (r) => r.throttledShare.toFixed(4)],
  ["calls per user (bar <= 1.1)", (r) => r.callsPerUser.toFixed(3)],
  ["write round trip p50 / p99", (r) => `${r.p50WriteMs} / ${r.p99WriteMs} ms`],
  ["writes applied by Graph", (r) => String(r.emulatorWrites)],
];
const width = Math.max(...rows.map(([label]) => label.length));
const colWidth = 22;
const lines = [
  `${"".padEnd(width)}  ${results.map((r) => r.name.padStart(colWidth)).join("")}`,
  ...rows.map(
    ([label, cell]) =>
      `${label.padEnd(width)}  ${results.map((r) => cell(r).padStart(colWidth)).join("")}`,
  ),
];
const bars = (r: ScenarioResult): boolean =>
  r.ratio >= 0.9 && r.throttledShare <= 0.02 && r.callsPerUser <= 1.1 && r.users === r.planned;
lines.push(
  `${"meets the bars".padEnd(width)}  ${results.map((r) => (bars(r) ? "yes" : "NO").padStart(colWidth)).join("")}`,
);

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "results");
mkdirSync(outDir, { recursive: true });
const chartPath = join(outDir, "provisioning.svg");
writeFileSync(chartPath, renderChart(results));
writeFileSync(join(outDir, "provisioning.json"), `${JSON.stringify(results, null, 2)}\n`);

process.stdout.write(
  [
    "",
    "Provisioning benchmark (emulated time; the bucket starts full, so the ceiling of a run of",
    "T seconds is burst + refill x T writes: the initial burst counts on both sides of the ratio).",
    "",
    ...lines,
    "",
    `chart: ${relative(process.cwd(), chartPath)}`,
    "",
  ].join("\n"),
);
if (json) {
  const main = results.find((r) => r.name === "realistic") ?? results[0];
  if (main) {
    const { users: n, usersPerHour, ceilingUsersPerHour, ratio } = main;
    const { throttledShare, callsPerUser, p50WriteMs, p99WriteMs } = main;
    process.stdout.write(
      `${JSON.stringify({
        users: n,
        usersPerHour,
        ceilingUsersPerHour,
        ratio,
        throttledShare,
        callsPerUser,
        p50WriteMs,
        p99WriteMs,
      })}\n`,
    );
  }
}
