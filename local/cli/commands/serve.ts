/**
 * `mfa-prepopulate serve [--port N] [--state-dir DIR]`: keeps the local host up with the runs
 * HTTP API and the nightly timer, until SIGTERM or SIGINT.
 *
 * A web page in the operator's browser can reach a loopback port too, so the host answers only
 * requests that carry a token made at start (`Authorization: Bearer <token>`), name a loopback
 * `Host` (no DNS rebinding) and send JSON bodies (no form posts). The token is printed in the
 * JSON line on stdout and kept in `{state-dir}/host/access-token`, readable only by the user, for
 * other commands that call this host.
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
  const { newAccessToken } = await import("../../host/index.js");
  const token = newAccessToken();
  const host = await startAppHost(opts.stateDir, settings, {
    logger: {
      info: (m) => process.stderr.write(`${m}\n`),
      warn: (m) => process.stderr.write(`${m}\n`),
      error: (m) => process.stderr.write(`${m}\n`),
    },
    port: wholeNumber("--port", opts.port),
    schedules: true,
    access: { token, loopbackOnly: true, jsonBodies: true },
  });
  process.stdout.write(
    `${JSON.stringify({
      baseUrl: host.baseUrl,
      runsApi: `${host.baseUrl}/api/runs`,
      token,
      tokenFile: host.accessTokenFile,
    })}\n`,
  );
  const stop = (): void => {
    void host.stop().then(() => process.exit(0));
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}
