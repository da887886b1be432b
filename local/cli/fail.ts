/**
 * How a command fails: one line on stderr naming what to fix, exit code 1.
 */

/**
 * Prints the first line of the error's message and exits 1.
 *
 * @param error - what went wrong.
 */
export function fail(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`mfa-prepopulate: ${message.split("\n")[0]}\n`);
  process.exit(1);
}
