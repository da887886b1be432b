#!/usr/bin/env node
/**
 * `mfa-prepopulate`: the command line. Each command lives in `commands/`; this file only wires
 * them into one program. Data goes to stdout, progress and logs to stderr; every command exits 0
 * on success and non-zero with a one-line reason on error.
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";
import { addApproveCommand } from "./commands/approve.js";
import { addDemoCommand } from "./commands/demo.js";
import { addEmulatorCommand } from "./commands/emulator.js";
import { addNormalizeCommand } from "./commands/normalize.js";
import { addPlanCommand } from "./commands/plan.js";
import { addReportCommand } from "./commands/report.js";
import { addRerunCommand } from "./commands/rerun.js";
import { addRunCommand } from "./commands/run.js";
import { addServeCommand } from "./commands/serve.js";
import { addStatusCommand } from "./commands/status.js";

/** The package version, from the package.json above this file (source or dist). */
function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "mfa-prepopulate" && pkg.version) {
        return pkg.version;
      }
    } catch {
      // Not this level; try the next one up.
    }
  }
  return "0.0.0";
}

const program = new Command();
program
  .name("mfa-prepopulate")
  .description(
    "Register each Entra ID user's mobile number as their MFA/SSPR phone method through Microsoft Graph.",
  )
  .showHelpAfterError();

addNormalizeCommand(program);
addEmulatorCommand(program);
addRunCommand(program);
addPlanCommand(program);
addStatusCommand(program);
addReportCommand(program);
addRerunCommand(program);
addApproveCommand(program);
addServeCommand(program);
addDemoCommand(program);

program.version(packageVersion());

await program.parseAsync(process.argv);
