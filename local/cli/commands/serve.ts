/**
 * `mfa-prepopulate serve [--port N] [--state-dir DIR]`: keeps the local host up with the runs
 * HTTP API and the nightly timer, until SIGTERM or SIGINT.
 */
import type { Command } from "commander";
import { fail } from "../fail.js";
import { wholeNumber } from "../numberFlags.js";

interface ServeOptions {
  port: string;
  stateDir: string;
}

/**
 * Adds `serve`.
 *
 * @param program - the CLI program.
 */
export function addServeCommand(program: Command): Command {
  return program
    .command("serve")
    .description("keep the local host up with the runs HTTP API and the nightly timer")
    .option("--port <n>", "loopback port", "7071")
    .option("--state-dir <dir>", "state directory", ".state")
    .action(async (opts: ServeOptions) => {
      try {
        await serve(opts);
      } catch (error) {
        fail(error);
      }
    });
}

async function serve(opts: ServeOptions): Promise<void> {
  const { settingsFrom } = await import("../settingsFrom.js");
  const settings = settingsFrom();
  const { startAppHost } = await import("../localRun.js");
  const host = await startAppHost(opts.stateDir, settings, {
    logger: {
      info: (m) => process.stderr.write(`${m}\n`),
      warn: (m) => process.stderr.write(`${m}\n`),
      error: (m) => process.stderr.write(`${m}\n`),
    },
    port: wholeNumber("--port", opts.port),
    schedules: true,
  });
  process.stdout.write(
    `${JSON.stringify({ baseUrl: host.baseUrl, runsApi: `${host.baseUrl}/api/runs` })}\n`,
  );
  const stop = (): void => {
    void host.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
