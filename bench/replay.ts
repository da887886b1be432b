/**
 * Replay-cost benchmark of the local Durable host: a fan-out of 100, 1,000 and 10,000
 * activities, run directly in one orchestration and through sub-orchestrations of 100 items.
 * Reports episodes, history events replayed, bytes of history shipped to the worker and
 * milliseconds spent in orchestrator invocations (plus wall time).
 *
 * Run: `node --import tsx bench/replay.ts` — table on stderr, one JSON line on stdout.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
// The host must be imported before the app registers functions (it installs the worker core).
import { startLocalHost, type ReplayCounters } from "../local/host/index.js";
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";

const CHUNK = 100;

df.app.activity("BenchWork", { handler: (i: number) => i });

df.app.orchestration("BenchDirect", function* (context: OrchestrationContext) {
  const n = context.df.getInput() as number;
  const results = (yield context.df.Task.all(
    Array.from({ length: n }, (_, i) => context.df.callActivity("BenchWork", i)),
  )) as number[];
  return results.length;
});

df.app.orchestration("BenchChunk", function* (context: OrchestrationContext) {
  const { from, count } = context.df.getInput() as { from: number; count: number };
  const results = (yield context.df.Task.all(
    Array.from({ length: count }, (_, i) => context.df.callActivity("BenchWork", from + i)),
  )) as number[];
  return results.length;
});

df.app.orchestration("BenchViaSubs", function* (context: OrchestrationContext) {
  const n = context.df.getInput() as number;
  const subs = [];
  for (let from = 0; from < n; from += CHUNK) {
    subs.push(
      context.df.callSubOrchestrator("BenchChunk", { from, count: Math.min(CHUNK, n - from) }),
    );
  }
  const counts = (yield context.df.Task.all(subs)) as number[];
  return counts.reduce((a, b) => a + b, 0);
});

interface Row extends ReplayCounters {
  mode: "direct" | "subOrchestrations";
  n: number;
  wallMs: number;
  /** Bytes written to the state directory (journals and snapshots). */
  persistedBytes: number;
}

async function measure(mode: Row["mode"], n: number): Promise<Row> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "replay-bench-"));
  const host = await startLocalHost({
    stateDir,
    modules: [],
    clock: "virtual",
    activityConcurrency: 8,
  });
  try {
    const t0 = performance.now();
    const id = await host.startNew(mode === "direct" ? "BenchDirect" : "BenchViaSubs", {
      input: n,
    });
    const status = await host.waitForCompletion(id, { timeoutMs: 600_000 });
    const wallMs = performance.now() - t0;
    if (status.output !== n) {
      throw new Error(
        `ReplayBench: '${mode}' with n=${n} ended ${status.runtimeStatus} with output ${JSON.stringify(status.output)}.`,
      );
    }
    const stats = host.stats();
    const total = stats.total;
    return {
      mode,
      n,
      ...total,
      ms: Math.round(total.ms),
      wallMs: Math.round(wallMs),
      persistedBytes: stats.persistedBytes,
    };
  } finally {
    await host.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

const rows: Row[] = [];
for (const mode of ["direct", "subOrchestrations"] as const) {
  for (const n of [100, 1_000, 10_000]) {
    rows.push(await measure(mode, n));
  }
}

const header = [
  "mode",
  "n",
  "episodes",
  "eventsReplayed",
  "bytesShipped",
  "replayMs",
  "wallMs",
  "bytes/activity",
  "persistedBytes",
];
const lines = rows.map((r) => [
  r.mode,
  String(r.n),
  String(r.episodes),
  String(r.eventsReplayed),
  String(r.bytesShipped),
  String(r.ms),
  String(r.wallMs),
  String(Math.round(r.bytesShipped / r.n)),
  String(r.persistedBytes),
]);
const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
const fmt = (cells: string[]): string => cells.map((c, i) => c.padStart(widths[i]!)).join("  ");
process.stderr.write(`${fmt(header)}\n${lines.map(fmt).join("\n")}\n`);
process.stdout.write(`${JSON.stringify({ bench: "replay", chunk: CHUNK, rows })}\n`);
