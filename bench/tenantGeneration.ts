/**
 * Benchmark of the emulator's synthetic tenant generator: time and memory for 10k, 100k and 1M
 * users, each size in a fresh child process so memory figures do not mix.
 *
 *   node --import tsx bench/tenantGeneration.ts [--sizes 10000,100000,1000000] [--seed N]
 *
 * Prints a table to stderr and one JSON line to stdout:
 * `{"bench":"tenantGeneration","results":[{"users":n,"generateMs":x,...}]}`.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { validateTenant } from "../local/graph-emulator/tenant/fixture.js";
import { describeTenant, generateTenant } from "../local/graph-emulator/tenant/generate.js";

interface SizeResult {
  users: number;
  /** First call of the process: libphonenumber metadata and the per-country number ranges. */
  warmupMs: number;
  /** Wall time of `generateTenant`. */
  generateMs: number;
  /** CPU time of the process during `generateTenant` (all threads, garbage collector included). */
  generateCpuMs: number;
  /** Heap held by the tenant after a full collection. */
  heapMB: number;
  heapBytesPerUser: number;
  /** Resident set size after generation, its peak until then, and its peak over the child. */
  rssMB: number;
  generatePeakRssMB: number;
  maxRssMB: number;
  /** `validateTenant` (schema and referential checks) on the generated tenant: wall and CPU. */
  validateMs: number;
  validateCpuMs: number;
  describeMs: number;
  /** `JSON.stringify` of the tenant, and its size: what a fixture file of this size costs. */
  stringifyMs: number;
  jsonMB: number;
}

const MB = 1024 * 1024;

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) {
    throw new Error("bench: run the child with --expose-gc.");
  }
  gc();
}

function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function measure(users: number, seed: number): SizeResult {
  let started = performance.now();
  generateTenant({ users: 10, seed });
  const warmupMs = performance.now() - started;

  collect();
  const heapBefore = process.memoryUsage().heapUsed;
  const cpuBefore = process.cpuUsage();
  started = performance.now();
  const tenant = generateTenant({ users, seed });
  const generateMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  collect();
  const memory = process.memoryUsage();
  const heap = memory.heapUsed - heapBefore;
  const generatePeakRss = process.resourceUsage().maxRSS * 1024;

  const validateCpuBefore = process.cpuUsage();
  started = performance.now();
  validateTenant(tenant);
  const validateMs = performance.now() - started;
  const validateCpu = process.cpuUsage(validateCpuBefore);
  started = performance.now();
  describeTenant(tenant);
  const describeMs = performance.now() - started;
  started = performance.now();
  const json = JSON.stringify(tenant);
  const stringifyMs = performance.now() - started;

  return {
    users,
    warmupMs: round(warmupMs),
    generateMs: round(generateMs),
    generateCpuMs: round((cpu.user + cpu.system) / 1000),
    heapMB: round(heap / MB),
    heapBytesPerUser: Math.round(heap / Math.max(1, users)),
    rssMB: round(memory.rss / MB),
    generatePeakRssMB: round(generatePeakRss / MB),
    maxRssMB: round(process.resourceUsage().maxRSS / 1024),
    validateMs: round(validateMs),
    validateCpuMs: round((validateCpu.user + validateCpu.system) / 1000),
    describeMs: round(describeMs),
    stringifyMs: round(stringifyMs),
    jsonMB: round(Buffer.byteLength(json) / MB),
  };
}

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at === -1 ? fallback : (process.argv[at + 1] ?? fallback);
}

function main(): void {
  const seed = Number(option("--seed", "1"));
  const child = option("--child", "");
  if (child !== "") {
    process.stdout.write(`${JSON.stringify(measure(Number(child), seed))}\n`);
    return;
  }
  const sizes = option("--sizes", "10000,100000,1000000").split(",").map(Number);
  const script = fileURLToPath(import.meta.url);
  const results: SizeResult[] = [];
  for (const users of sizes) {
    const run = spawnSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", script, "--child", String(users), "--seed", String(seed)],
      { encoding: "utf8", maxBuffer: 16 * MB },
    );
    if (run.status !== 0) {
      process.stderr.write(run.stderr);
      throw new Error(`bench: the child for ${users} users failed with status ${run.status}.`);
    }
    results.push(JSON.parse(run.stdout.trim().split("\n").pop()!) as SizeResult);
  }
  const columns: (keyof SizeResult)[] = [
    "users",
    "warmupMs",
    "generateMs",
    "generateCpuMs",
    "heapMB",
    "heapBytesPerUser",
    "rssMB",
    "generatePeakRssMB",
    "maxRssMB",
    "validateMs",
    "validateCpuMs",
    "describeMs",
    "stringifyMs",
    "jsonMB",
  ];
  const rows = [columns.map(String), ...results.map((r) => columns.map((c) => String(r[c])))];
  const widths = columns.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows) {
    process.stderr.write(`${row.map((cell, i) => cell.padStart(widths[i]!)).join("  ")}\n`);
  }
  process.stdout.write(`${JSON.stringify({ bench: "tenantGeneration", seed, results })}\n`);
}

main();
