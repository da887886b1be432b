/**
 * `mfa-prepopulate status RUN_ID [--state-dir DIR] [--json]`: a run's status, read from the local
 * host's state files without starting the host.
 */
import * as path from "node:path";
import type { Command } from "commander";
import { fail } from "../fail.js";

interface StatusOptions {
  stateDir: string;
  json?: boolean;
}

/**
 * Adds `status`.
 *
 * @param program - the CLI program.
 */
export function addStatusCommand(program: Command): Command {
  return program
    .command("status")
    .description("show a run's status from --state-dir")
    .argument("<runId>", "the run id")
    .option("--state-dir <dir>", "state directory", ".state")
    .option("--json", "print JSON on stdout")
    .action(async (runId: string, opts: StatusOptions) => {
      try {
        await printStatus(runId, opts);
      } catch (error) {
        fail(error);
      }
    });
}

async function printStatus(runId: string, opts: StatusOptions): Promise<void> {
  const { readPersistedInstances } = await import("../../host/index.js");
  const { runJson } = await import("../summary.js");
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
}
