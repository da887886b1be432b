/**
 * `mfa-prepopulate plan`: `run --dry-run`, plan and report, write nothing.
 */
import type { Command } from "commander";
import { addNightlyRunCommand } from "./run.js";

/**
 * Adds `plan`.
 *
 * @param program - the CLI program.
 */
export function addPlanCommand(program: Command): Command {
  return addNightlyRunCommand(program, {
    name: "plan",
    description: "run --dry-run: plan and report, write nothing",
    dryRun: true,
  });
}
