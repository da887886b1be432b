/**
 * What a finished run leaves on the terminal: the contract's JSON object (`--json`, stdout) and
 * the human summary (stderr).
 */
import { readRunOutput, readRunStatus, type RunCounts } from "../../shared/run/index.js";
import type { InstanceStatus } from "../host/types.js";

/** The `--json` result line of `run`, as the CLI contract fixes it. */
export interface RunJson {
  runId: string;
  runtimeStatus: string;
  counts: Pick<
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
  failedChunks: number[];
  durationMs: number;
  error?: string;
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
  const c: Partial<RunCounts> =
    (status.runtimeStatus === "Completed" ? output?.counts : custom.counts) ?? {};
  const runId = output?.runId ?? custom.runId ?? status.instanceId;
  const json: RunJson = {
    runId,
    runtimeStatus: status.runtimeStatus,
    counts: {
      candidates: c.candidates ?? 0,
      planned: c.planned ?? 0,
      created: c.created ?? 0,
      alreadyPresent: c.alreadyPresent ?? 0,
      invalidNumber: c.invalidNumber ?? 0,
      skipped: c.skipped ?? 0,
      failed: c.failed ?? 0,
      deferred: c.deferred ?? 0,
    },
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
