/**
 * Throughput of phone-number normalisation on one core: `node --import tsx bench/normalize.ts
 * [--count N]`. Prints a table per input family on stderr and one JSON line on stdout:
 * `{"numbers": n, "numbersPerSecond": x, "acceptedNumbersPerSecond": x, "wallNumbersPerSecond": x,
 * "okShare": x, "families": {...}}`. The target is at
 * least 20,000 numbers/s; it is measured here, not asserted in tests.
 */
import { performance } from "node:perf_hooks";

import { normalizePhoneNumber, type NormalizeOptions } from "../shared/phone/index.js";

interface Family {
  name: string;
  options: NormalizeOptions;
  make: (i: number) => string;
}

const pad = (i: number, width: number): string => String(i).padStart(width, "0");

// Families mirror what HR exports and directory `mobilePhone` values look like.
const FAMILIES: Family[] = [
  {
    name: "DK international",
    options: {},
    make: (i) => `+45 2${1 + (i % 5)}${1 + (i % 9)}${pad(i % 100000, 5)}`,
  },
  {
    name: "DK national",
    options: { defaultRegion: "DK" },
    make: (i) => `${2 + (i % 2)}${1 + (i % 3)}${1 + (i % 9)}${pad(i % 100000, 5)}`,
  },
  {
    name: "GB mobile (0) form",
    options: {},
    make: (i) => `+44 (0)74${pad(i % 100, 2)} ${pad(i % 999999, 6)}`,
  },
  {
    name: "US formatted + ext",
    options: { defaultRegion: "US" },
    make: (i) => `(206) 555-${pad(i % 10000, 4)} x${i % 999}`,
  },
  {
    name: "DE slash national",
    options: { defaultRegion: "DE" },
    make: (i) => `0171/${pad(i % 10000000, 7)}`,
  },
  {
    name: "labelled + note",
    options: { defaultRegion: "SE" },
    make: (i) => `Mobile: 070-${pad(i % 1000, 3)} ${pad(i % 10000, 4)} (work)`,
  },
  {
    name: "Unicode digits",
    options: {},
    make: (i) =>
      `+٤٥ ٢${toArabic(String(1 + (i % 5)))} ${toArabic(String(1 + (i % 9)) + pad(i % 100000, 5))}`,
  },
  {
    name: "two numbers",
    options: { defaultRegion: "DK" },
    make: (i) => `${20000000 + i}, ${30000000 + i}`,
  },
  {
    name: "placeholders",
    options: { defaultRegion: "DK" },
    make: (i) => ["N/A", "-", "0", "unknown", ""][i % 5] ?? "",
  },
  {
    name: "landline rejected",
    options: { defaultRegion: "GB" },
    make: (i) => `020 7946 ${pad(i % 10000, 4)}`,
  },
];

function toArabic(digits: string): string {
  return digits.replace(/\d/g, (d) => String.fromCharCode(0x0660 + Number(d)));
}

function argValue(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index >= 0 ? Number(process.argv[index + 1]) : NaN;
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

const perFamily = Math.ceil(argValue("--count", 200_000) / FAMILIES.length);
const inputs = FAMILIES.map((f) => Array.from({ length: perFamily }, (_, i) => f.make(i)));

// Warm up the JIT and libphonenumber's metadata caches so the figure is the steady state.
for (let f = 0; f < FAMILIES.length; f += 1) {
  const family = FAMILIES[f] as Family;
  for (const input of (inputs[f] as string[]).slice(0, 2_000)) {
    normalizePhoneNumber(input, family.options);
  }
}

const rows: { family: string; numbers: number; ok: number; ms: number; perSecond: number }[] = [];
// Throughput is computed from this process's CPU time, which is what "one core" means and which
// other work on a shared machine does not distort; wall-clock throughput is reported beside it.
let totalMs = 0;
let wallMs = 0;
let totalOk = 0;
for (let f = 0; f < FAMILIES.length; f += 1) {
  const family = FAMILIES[f] as Family;
  const list = inputs[f] as string[];
  let ok = 0;
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  for (const input of list) {
    if (normalizePhoneNumber(input, family.options).ok) {
      ok += 1;
    }
  }
  const cpu = process.cpuUsage(cpuStart);
  wallMs += performance.now() - start;
  const ms = (cpu.user + cpu.system) / 1000;
  totalMs += ms;
  totalOk += ok;
  rows.push({
    family: family.name,
    numbers: list.length,
    ok,
    ms,
    perSecond: Math.round((list.length / ms) * 1000),
  });
}

const numbers = perFamily * FAMILIES.length;
const numbersPerSecond = Math.round((numbers / totalMs) * 1000);
const wallNumbersPerSecond = Math.round((numbers / wallMs) * 1000);
// Accepted numbers are the expensive path (full parse and classification); rejections of
// placeholders and multi-number fields end early, so the mix alone would flatter the figure.
const acceptedRows = rows.filter((r) => r.ok === r.numbers);
const acceptedNumbersPerSecond = Math.round(
  (acceptedRows.reduce((n, r) => n + r.numbers, 0) / acceptedRows.reduce((ms, r) => ms + r.ms, 0)) *
    1000,
);
process.stderr.write(
  `${"family".padEnd(22)} ${"numbers".padStart(8)} ${"ok".padStart(8)} ${"numbers/s".padStart(10)}\n`,
);
for (const row of rows) {
  process.stderr.write(
    `${row.family.padEnd(22)} ${String(row.numbers).padStart(8)} ${String(row.ok).padStart(8)} ${String(row.perSecond).padStart(10)}\n`,
  );
}
process.stderr.write(
  `${"all".padEnd(22)} ${String(numbers).padStart(8)} ${String(totalOk).padStart(8)} ${String(numbersPerSecond).padStart(10)}\n`,
);
process.stderr.write(
  `${"accepted only".padEnd(22)} ${"".padStart(8)} ${"".padStart(8)} ${String(acceptedNumbersPerSecond).padStart(10)}\n` +
    `(numbers/s per CPU second of this process; wall clock: ${wallNumbersPerSecond}/s)\n`,
);
process.stdout.write(
  `${JSON.stringify({
    numbers,
    numbersPerSecond,
    acceptedNumbersPerSecond,
    wallNumbersPerSecond,
    okShare: Number((totalOk / numbers).toFixed(4)),
    families: Object.fromEntries(rows.map((r) => [r.family, r.perSecond])),
  })}\n`,
);
