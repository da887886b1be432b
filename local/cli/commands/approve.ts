/**
 * `mfa-prepopulate approve RUN_ID [--state-dir DIR] [--json]`: approves a run that waits for
 * approval (it planned more writes than `APPROVAL_THRESHOLD`). When the process that started the
 * run still hosts it, the approval goes to that process and this command ends; otherwise this
 * command resumes the run, approves it and follows it to its end, like `run`.
 */
import type { Command } from "commander";
import { fail } from "../fail.js";

interface ApproveOptions {
  stateDir: string;
  json?: boolean;
}

/**
 * Adds `approve`.
 *
 * @param program - the CLI program.
 */
export function addApproveCommand(program: Command): Command {
  return program
    .command("approve")
    .description("approve a run that waits for approval before writing")
    .argument("<runId>", "the waiting run")
    .option("--state-dir <dir>", "state directory", ".state")
    .option(
      "--json",
      "print the result as one JSON line on stdout (when this command hosts the run)",
    )
    .action(async (runId: string, opts: ApproveOptions) => {
      try {
        const { approveInHost, approveInOtherProcess, cliApprover } =
          await import("../approval.js");
        if (await approveInOtherProcess(opts.stateDir, runId, cliApprover())) {
          process.stderr.write(
            `Approved run '${runId}' as ${cliApprover()}; the process that started it goes on.\n`,
          );
          return;
        }
        const { settingsFrom } = await import("../settingsFrom.js");
        const settings = settingsFrom();
        const { hostAndFollow } = await import("../hostAndFollow.js");
        await hostAndFollow(
          { stateDir: opts.stateDir, json: opts.json, settings },
          async (host) => {
            await approveInHost(host, runId, cliApprover());
            process.stderr.write(
              `Approved run '${runId}' as ${cliApprover()}; following it here.\n`,
            );
            return runId;
          },
        );
      } catch (error) {
        fail(error);
      }
    });
}
