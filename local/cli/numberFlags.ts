/**
 * Numbers given as flags (`--port`, `--users`, `--time-scale`), checked with a message naming
 * the flag.
 */

/**
 * A whole number, 0 or more.
 *
 * @param flag - the flag, for the message.
 * @param value - its text.
 */
export function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) {
    throw new Error(`'${flag}' must be a whole number, not '${value}'.`);
  }
  return Number(value);
}

/**
 * A number above 0.
 *
 * @param flag - the flag, for the message.
 * @param value - its text.
 */
export function positive(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new Error(`'${flag}' must be a positive number, not '${value}'.`);
  }
  return n;
}
