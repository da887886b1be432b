/**
 * `mfa-prepopulate rerun RUN_ID [--state-dir DIR] [--json]`: provision again a finished run's
 * failed chunks and transiently failed users, on the local host, with live progress.
 */
import type { Command } from "commander";
import { fail } from "../fail.js";

interface RerunOptions {
  stateDir: string;
  json?: boolean;
}

/**
 * Adds `rerun`.
 *
 * @param program - the CLI program.
 */
export function addRerunCommand(program: Command): Command {
  return program
    .command("rerun")
    .description("provision again a finished run's failed chunks and transiently failed users")
    .argument("<runId>", "the finished run")
    .option("--state-dir <dir>", "state directory", ".state")
    .option("--json", "print the result as one JSON line on stdout")
    .action(async (runId: string, opts: RerunOptions) => {
      try {
        const { settingsFrom } = await import("../settingsFrom.js");
        const settings = settingsFrom();
        // A rerun repeats a run's writes (a dry run has nothing to rerun): sign in for writes.
        const { signInForRun } = await import("../signIn.js");
        const credential = await signInForRun({ ...settings, dryRun: false });
        const { hostAndFollow } = await import("../hostAndFollow.js");
        const { startRerun } = await import("../localRun.js");
        await hostAndFollow(
          { stateDir: opts.stateDir, json: opts.json, settings, credential },
          async (host) => {
            const rerunId = await startRerun(host, runId, settings.rerunMaxAgeHours);
            process.stderr.write(`Started rerun '${rerunId}' of run '${runId}'.\n`);
            return rerunId;
          },
        );
      } catch (error) {
        fail(error);
      }
    });
}
