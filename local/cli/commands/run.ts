/**
 * `mfa-prepopulate run [settings flags] [--state-dir DIR] [--json] [--chunk-size N]`: one nightly
 * run on the local host against the configured Graph. The same state directory after a crash
 * resumes the unfinished run instead of starting another. `plan` is this command with `DRY_RUN`
 * fixed on.
 */
import type { Command } from "commander";
import { DEFAULT_RUN_TUNING, runTuningSchema } from "../../../shared/run/index.js";
import { fail } from "../fail.js";
import { wholeNumber } from "../numberFlags.js";
import { addSettingFlags, settingsFromCommandLine } from "../settingFlags.js";

interface RunOptions {
  stateDir: string;
  json?: boolean;
  chunkSize?: string;
  approve?: boolean;
}

/** A command that runs one nightly run: its name, help, and whether it fixes `DRY_RUN` on. */
export interface NightlyRunCommand {
  name: string;
  description: string;
  dryRun: boolean;
}

/**
 * Adds a nightly-run command (`run` or `plan`) with the setting flags.
 *
 * @param program - the CLI program.
 * @param spec - see {@link NightlyRunCommand}.
 */
export function addNightlyRunCommand(program: Command, spec: NightlyRunCommand): Command {
  return addSettingFlags(program.command(spec.name))
    .description(spec.description)
    .option(
      "--state-dir <dir>",
      "where the local host and the run store keep their state",
      ".state",
    )
    .option("--json", "print the result as one JSON line on stdout")
    .option(
      "--chunk-size <n>",
      `writes per provisioning chunk (default ${DEFAULT_RUN_TUNING.chunkSize}, at most ${MOST_PER_CHUNK})`,
    )
    .option(
      "--approve",
      "approve the run's plan if it needs approval (more writes than APPROVAL_THRESHOLD): you are the person who approves",
    )
    .action(async (opts: RunOptions, command: Command) => runNightly(opts, command, spec.dryRun));
}

/**
 * Adds `run`.
 *
 * @param program - the CLI program.
 */
export function addRunCommand(program: Command): Command {
  return addNightlyRunCommand(program, {
    name: "run",
    description:
      "run one nightly run on the local host against the configured Graph; resumes an unfinished run in --state-dir",
    dryRun: false,
  });
}

/** The largest chunk a run's input takes (a chunk must end inside the function timeout). */
const MOST_PER_CHUNK = runTuningSchema.shape.chunkSize.maxValue ?? DEFAULT_RUN_TUNING.chunkSize;

/** `--chunk-size`: refused here above the bound, rather than by the run once it has started. */
function chunkSizeFrom(value: string): number {
  const n = Math.max(1, wholeNumber("--chunk-size", value));
  if (n > MOST_PER_CHUNK) {
    throw new Error(`'--chunk-size' must be at most ${MOST_PER_CHUNK}, not ${n}.`);
  }
  return n;
}

async function runNightly(opts: RunOptions, command: Command, dryRun: boolean): Promise<void> {
  try {
    const settings = await settingsFromCommandLine(command, dryRun ? { DRY_RUN: "true" } : {});
    const tuning = opts.chunkSize ? { chunkSize: chunkSizeFrom(opts.chunkSize) } : undefined;
    const { signInForRun } = await import("../signIn.js");
    const credential = await signInForRun(settings);
    const { hostAndFollow } = await import("../hostAndFollow.js");
    const { startOrResume } = await import("../localRun.js");
    await hostAndFollow(
      {
        stateDir: opts.stateDir,
        json: opts.json,
        settings,
        approve: opts.approve === true,
        credential,
      },
      async (host, logFile) => {
        const { instanceId, resumed } = await startOrResume(host, settings, { tuning });
        process.stderr.write(
          `${resumed ? "Resuming" : "Started"} run '${instanceId}'; logs in ${logFile}\n`,
        );
        return instanceId;
      },
    );
  } catch (error) {
    fail(error);
  }
}
