/**
 * `npm run bench:limiter [-- --seeds 3] [--scenario sliding] [--header false] [--trace 5] [--json]`
 *
 * Runs the limiter simulation (`limiterSim.ts`) for every scenario, without and with the usage
 * header (`x-ms-throttle-limit-percentage`: Graph most likely never sends it for phone-method
 * writes, and when it does it may only help), prints a table and writes
 * `bench/results/limiterSim.json`. This complements the emulator benchmark (`npm run bench`),
 * which measures the same code over real HTTP in scaled time. `--trace 5` prints the limiter's
 * state every 5 simulated seconds to stderr.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { SCENARIOS, simulate, type SimResult, type SimSample } from "./limiterSim.js";
import { BARS, converged, CONVERGE_WITHIN_S } from "./bars.js";

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Prints the limiter's state and Graph's answers every `everyMs` of simulated time (stderr). */
function tracer(everyMs: number): (sample: SimSample) => void {
  let last: SimSample | undefined;
  return (sample) => {
    if (Math.round(sample.t * 1000) % everyMs !== 0) {
      return;
    }
    const s = sample.limiter;
    const f = (x: number | undefined): string => (x === undefined ? "-" : x.toFixed(2));
    const seconds = everyMs / 1000;
    process.stderr.write(
      `t=${sample.t.toFixed(0).padStart(5)} ` +
        `ok/s=${f((sample.writes - (last?.writes ?? 0)) / seconds).padStart(6)} ` +
        `429=${String(sample.throttled - (last?.throttled ?? 0)).padStart(3)} ` +
        `rate=${f(s.ratePerSecond).padStart(7)} ceil=${f(s.ceilingPerSecond).padStart(7)} ` +
        `win=${s.limit} inFlight=${s.inFlight} paused=${s.pausedForMs.toFixed(0)} ` +
        `usage=${s.usage} rtt=${f(s.roundTripMs)}\n`,
    );
    last = sample;
  };
}

/** Whether a run meets what its scenario is held to ("yes", "NO", or "-" when nothing). */
function verdict(r: SimResult): string {
  const judged = SCENARIOS.find((s) => s.name === r.name)?.judged;
  if (!judged) {
    return "-";
  }
  const common =
    r.throttledShare <= BARS.throttledShare &&
    r.callsPerUser <= BARS.callsPerUser &&
    r.provisioned === r.users;
  const own = judged === "bars" ? r.ratio >= BARS.ratio : converged(r.convergeSeconds);
  return common && own ? "yes" : "NO";
}

async function main(): Promise<void> {
  const seeds = Number(option("seeds") ?? 1);
  const traceEveryMs = Number(option("trace") ?? 0) * 1000;
  const onlyHeader = option("header");
  const which = option("scenario");
  const scenarios = SCENARIOS.filter((s) => which === undefined || s.name === which);
  if (scenarios.length === 0) {
    throw new RangeError(
      `bench/limiterSim: --scenario must be one of ${SCENARIOS.map((s) => s.name).join(", ")}.`,
    );
  }
  const results: SimResult[] = [];
  for (const scenario of scenarios) {
    for (const header of [false, true]) {
      if (onlyHeader !== undefined && String(header) !== onlyHeader) {
        continue;
      }
      for (let seed = 1; seed <= seeds; seed++) {
        results.push(
          await simulate(scenario, {
            header,
            seed,
            ...(traceEveryMs > 0 ? { onSecond: tracer(traceEveryMs) } : {}),
          }),
        );
      }
    }
  }
  const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;
  const head = [
    "scenario",
    "header",
    "seed",
    "users",
    "sim s",
    "ratio",
    "steady",
    "throttled",
    "calls/user",
    "converge s",
    "bars",
    "wall ms",
  ];
  const rows = results.map((r) => [
    r.name,
    r.header ? "yes" : "no",
    String(r.seed),
    String(r.provisioned),
    r.seconds.toFixed(0),
    pct(r.ratio),
    pct(r.steadyRatio),
    pct(r.throttledShare),
    r.callsPerUser.toFixed(3),
    r.convergeSeconds === undefined
      ? ""
      : r.convergeSeconds === null
        ? "never"
        : String(r.convergeSeconds),
    verdict(r),
    r.wallMs.toFixed(0),
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join("  ");
  const shapes = scenarios.map((s) => `  ${s.name.padEnd(12)} ${s.shape}, ${s.users} users`);
  const here = dirname(fileURLToPath(import.meta.url));
  const outDir = join(here, "results");
  mkdirSync(outDir, { recursive: true });
  const outPath = join(outDir, "limiterSim.json");
  writeFileSync(outPath, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(
    [
      `Limiter simulation (simulated time). Bars: ratio >= ${BARS.ratio * 100}%, throttled <= ${BARS.throttledShare * 100}%, calls/user <= ${BARS.callsPerUser};`,
      `a changing quota must instead re-converge within ${CONVERGE_WITHIN_S} s (converge s); latency and faults are shown only.`,
      ...shapes,
      "",
      line(head),
      ...rows.map(line),
      "",
      `results: ${relative(process.cwd(), outPath)}`,
      "",
    ].join("\n"),
  );
  if (process.argv.includes("--json")) {
    process.stdout.write(
      `${JSON.stringify(
        results.map(({ name, header, ratio, throttledShare, callsPerUser }) => ({
          name,
          header,
          ratio,
          throttledShare,
          callsPerUser,
        })),
      )}\n`,
    );
  }
}

await main();
