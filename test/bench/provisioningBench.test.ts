import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { writeQuota } from "../../bench/provisioning.js";
import { PROFILES } from "../../local/graph-emulator/config.js";

/**
 * The provisioning benchmark's JSON line (contract shared/contracts/cli.md, Benchmark), which
 * other tools read: its fields and their kinds, on a run too small and too fast to measure
 * anything. Speed itself is never asserted here.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const out = mkdtempSync(path.join(tmpdir(), "bench-"));

afterAll(() => {
  rmSync(out, { recursive: true, force: true });
});

/** Runs `npm run bench -- --json` with tiny sizes; returns stdout's last line, parsed. */
async function tinyRun(): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      "--import",
      "tsx",
      "bench/run.ts",
      "--json",
      ...["--users", "40", "--time-scale", "0.01"],
      ...["--reports-users", "10", "--reports-time-scale", "0.01"],
      ...["--seed-seconds", "5", "--seed-time-scale", "0.02"],
      ...["--out", out],
    ],
    { cwd: repo, maxBuffer: 16 * 1024 * 1024 },
  );
  const last = stdout.trimEnd().split("\n").pop() ?? "";
  return JSON.parse(last) as Record<string, unknown>;
}

const HEADLINE = [
  "users",
  "usersPerHour",
  "ceilingUsersPerHour",
  "ratio",
  "throttledShare",
  "callsPerUser",
  "p50WriteMs",
  "p99WriteMs",
] as const;

describe("npm run bench -- --json", () => {
  it("ends with the contract's line: the headline without the header, every quota shape with and without it, and the seed client", async () => {
    const line = await tinyRun();
    for (const field of HEADLINE) {
      expect(Number.isFinite(line[field]), field).toBe(true);
    }
    expect(line.users).toBe(40);
    expect(Number.isFinite(line.seedUsersPerHour)).toBe(true);
    expect(line.seedUsersPerHour as number).toBeGreaterThan(0);

    const scenarios = line.scenarios as Record<string, unknown>[];
    // A quota changed mid-run is judged by re-convergence, and says when it re-converged (null:
    // never, which a run this small may well be).
    const changing = ["ceilingHalved", "ceilingDoubled"];
    for (const s of scenarios) {
      const byConvergence = changing.includes(String(s.name));
      const keys = ["callsPerUser", "header", "name", "ratio", "throttledShare", "judged"];
      const midRun = byConvergence || s.name === "latencyDoubled";
      expect(Object.keys(s).sort()).toEqual((midRun ? [...keys, "convergeSeconds"] : keys).sort());
      expect(s.judged).toBe(byConvergence ? "convergence" : "bars");
      if (midRun) {
        expect(s.convergeSeconds === null || Number.isFinite(s.convergeSeconds)).toBe(true);
      }
      expect(typeof s.name).toBe("string");
      expect(typeof s.header).toBe("boolean");
      for (const field of ["ratio", "throttledShare", "callsPerUser"]) {
        expect(Number.isFinite(s[field]), `${String(s.name)} ${field}`).toBe(true);
      }
    }
    const seen = scenarios.map((s) => `${String(s.name)}:${String(s.header)}`);
    for (const shape of ["documented", "slidingWindow", "burstBucket", "reports"]) {
      expect(seen).toContain(`${shape}:false`);
      expect(seen).toContain(`${shape}:true`);
    }
    expect(seen).toEqual(
      expect.arrayContaining([
        "latencyDoubled:false",
        "ceilingHalved:false",
        "ceilingDoubled:false",
      ]),
    );

    // The headline is the documented quota of the realistic profile without the usage header.
    const headline = scenarios.find((s) => s.name === "documented" && s.header === false);
    expect(headline).toMatchObject({
      ratio: line.ratio,
      throttledShare: line.throttledShare,
      callsPerUser: line.callsPerUser,
    });

    // The raw figures beside the chart list every scenario with its bars' inputs.
    const raw = JSON.parse(readFileSync(path.join(out, "provisioning.json"), "utf8")) as {
      scenarios: unknown[];
    };
    expect(raw.scenarios).toHaveLength(scenarios.length);
  }, 180_000);
});

describe("the benchmark's ceiling", () => {
  const realistic = PROFILES.realistic;

  it("is the documented bucket: 3,000 at once, 20 a second", () => {
    expect(writeQuota(realistic)).toEqual({ burst: 3000, perSecond: 20 });
  });

  it("counts a token bucket's burst, not its window count, as what passes at once", () => {
    expect(
      writeQuota({ ...realistic, writeQuota: 20, writeQuotaWindowSeconds: 1, writeQuotaBurst: 5 }),
    ).toEqual({ burst: 5, perSecond: 20 });
  });

  it("counts a window's whole count as what passes at once, whatever the burst says", () => {
    expect(
      writeQuota({
        ...realistic,
        writeQuotaShape: "slidingWindow",
        writeQuota: 40,
        writeQuotaWindowSeconds: 2,
        writeQuotaBurst: 5,
      }),
    ).toEqual({ burst: 40, perSecond: 20 });
  });

  it("is the reports limit when phone-method requests count against it", () => {
    expect(writeQuota({ ...realistic, phoneWriteQuotaModel: "reports" })).toEqual({
      burst: 5,
      perSecond: 0.5,
    });
  });
});
