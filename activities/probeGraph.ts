/**
 * probeGraph: one small read, to tell whether Graph answers again after provisioning paused for
 * an outage. One read (and the transport's own few retries), so probing a Graph that is still
 * down adds next to nothing to its load.
 */
import { z } from "zod";
import { defineActivity } from "../shared/durable/index.js";
import { GraphRequestError } from "../shared/graph/errors.js";
import { runIdSchema } from "../shared/run/index.js";
import { services } from "../shared/services.js";

/** Input: the run that waits. */
export const probeGraphInput = z.strictObject({ runId: runIdSchema });

/** Whether Graph answered, and if not, what came back. */
export type ProbeGraphResult = { up: true } | { up: false; why: string };

/**
 * Reads one user id. Any answer but a 5xx, a timeout or no answer means Graph is up: a refusal
 * (401, 403) is for the chunks to report with its own message.
 *
 * @param _input - the run (for the activity's log context only).
 */
export async function probeGraph(
  _input: z.infer<typeof probeGraphInput>,
): Promise<ProbeGraphResult> {
  try {
    await services().graph.get("/users?$top=1&$select=id");
    return { up: true };
  } catch (error) {
    if (error instanceof GraphRequestError && error.kind !== "transient") {
      return { up: true };
    }
    const why =
      error instanceof Error ? (error.message.split("\n")[0] ?? error.name) : String(error);
    return { up: false, why: why.slice(0, 300) };
  }
}

/** The activity. */
export const probeGraphActivity = defineActivity({
  name: "probeGraph",
  input: probeGraphInput,
  handler: probeGraph,
});
