/**
 * Checking what crosses the Durable boundary. Orchestration and activity inputs can be written by
 * anyone who can reach the Durable management API or the task hub's queues, so each is parsed
 * against a strict schema before it is used.
 */
import type { z } from "zod";

/**
 * Checks a value against a schema and returns it typed, or throws one sentence that names the
 * orchestration or activity and every field that is wrong (never a value: inputs may be hostile
 * and may hold numbers).
 *
 * @param schema - the strict schema.
 * @param value - what crossed the Durable boundary.
 * @param what - the orchestration or activity, for the message.
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) {
    return result.data;
  }
  const problems = result.error.issues.map((issue) => {
    const where = issue.path.length > 0 ? `'${issue.path.join(".")}'` : "the input";
    return issue.code === "unrecognized_keys"
      ? `${where} has unknown keys ${issue.keys.map((k) => `'${k}'`).join(", ")}`
      : `${where}: ${issue.message}`;
  });
  throw new Error(`${what}: the input is refused: ${problems.join("; ")}.`);
}
