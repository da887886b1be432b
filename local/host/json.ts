/**
 * JSON text helpers of the local host. The host keeps inputs, outputs and results as JSON text
 * (as the Durable extension stores them) and turns them back into values only for status
 * replies and messages.
 */

/**
 * Parses stored JSON text; text that is not JSON comes back as the string itself.
 *
 * @param text - JSON text, or undefined for "no value"
 * @returns the value, or null when there is none
 */
export function parseJson(text: string | undefined): unknown {
  if (text === undefined) {
    return null;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * A short printable form of any value (at most 200 characters), for error messages.
 *
 * @param value - what to describe
 */
export function describe(value: unknown): string {
  try {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text === undefined ? String(value) : text.slice(0, 200);
  } catch {
    return String(value);
  }
}

/**
 * The message of a thrown value, described when it is not an `Error`.
 *
 * @param err - what was thrown
 */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : describe(err);
}
