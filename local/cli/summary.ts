/**
 * What a finished run leaves on the terminal: the contract's JSON object (`--json`, stdout) and
 * the human summary (stderr).
 */
import { readRunOutput, readRunStatus, type RunCounts } from "../../shared/run/index.js";
import type { Method } from "../../shared/settings/index.js";
import type { InstanceStatus } from "../host/types.js";

/** The counts the contract's `--json` line carries. */
type ContractCounts = Pick<
  RunCounts,
  | "candidates"
  | "planned"
  | "created"
  | "alreadyPresent"
  | "invalidNumber"
  | "skipped"
  | "failed"
  | "deferred"
>;

/** The `--json` result line of `run`, as the CLI contract fixes it. */
export interface RunJson {
  runId: string;
  runtimeStatus: string;
  /** Plan entries: with several methods a user counts once per method (`methods` splits them). */
  counts: ContractCounts;
  /**
   * The same counts per method, added after the contract's fields when the run registered more
   * than the mobile phone (a mobile-only run's line stays exactly the contract's).
   */
  methods?: Partial<Record<Method, ContractCounts>>;
  failedChunks: number[];
  durationMs: number;
  error?: string;
}

function contractCounts(c: Partial<RunCounts>): ContractCounts {
  return {
    candidates: c.candidates ?? 0,
    planned: c.planned ?? 0,
    created: c.created ?? 0,
    alreadyPresent: c.alreadyPresent ?? 0,
    invalidNumber: c.invalidNumber ?? 0,
    skipped: c.skipped ?? 0,
    failed: c.failed ?? 0,
    deferred: c.deferred ?? 0,
  };
}

/**
 * The contract's JSON object for a finished run.
 *
 * @param status - the final instance status.
 * @param durationMs - wall time of this command.
 */
export function runJson(status: InstanceStatus, durationMs: number): RunJson {
  const output = readRunOutput(status.output);
  const custom = readRunStatus(status.customStatus);
  const completed = status.runtimeStatus === "Completed";
  const c: Partial<RunCounts> = (completed ? output?.counts : custom.counts) ?? {};
  const runId = output?.runId ?? custom.runId ?? status.instanceId;
  const byMethod = Object.entries((completed ? output?.methods : custom.methods) ?? {}) as [
    Method,
    RunCounts,
  ][];
  const json: RunJson = {
    runId,
    runtimeStatus: status.runtimeStatus,
    counts: contractCounts(c),
    ...(byMethod.some(([m]) => m !== "mobile")
      ? { methods: Object.fromEntries(byMethod.map(([m, mc]) => [m, contractCounts(mc)])) }
      : {}),
    failedChunks: output?.failedChunks ?? [],
    durationMs,
  };
  // A completed run can still have failed (Graph unavailable; its chunks can be rerun).
  if (status.runtimeStatus !== "Completed" || output?.failure) {
    json.error = (
      output?.failure ??
      custom.message ??
      (typeof status.output === "string" ? status.output : undefined)
    )?.split("\n")[0];
  }
  return json;
}

/**
 * Writes a run's status, counts, failed chunks and error on stderr.
 *
 * @param r - the run's JSON object.
 */
export function printSummary(r: RunJson): void {
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
