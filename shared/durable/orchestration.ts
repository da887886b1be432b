/**
 * Orchestrations defined once: name, input schema and generator in the orchestrator's own file,
 * registered there, started by starters and called as sub-orchestrations through the definition.
 * The registered generator checks its input first, so a hand-made start (the Durable management
 * API, a queue message) with an unknown key, a missing field or a wrong type fails the instance
 * with one sentence before any activity runs.
 */
import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";
import type { z } from "zod";
import type { TypedTask } from "./activity.js";
import { parseInput } from "./input.js";

/** An orchestration, defined once. */
export interface OrchestrationDefinition<I, O> {
  readonly name: string;
  /** The registered generator (input checked first); orchestrator unit tests step it. */
  readonly handler: OrchestrationHandler;
  /**
   * Starts an instance from a client function or the CLI.
   *
   * @param client - anything with the Durable client's `startNew`.
   * @param options - the instance id and the input.
   */
  start(
    client: {
      startNew(name: string, options: { instanceId: string; input: unknown }): Promise<string>;
    },
    options: { instanceId: string; input: I },
  ): Promise<string>;
  /**
   * Schedules the orchestration as a sub-orchestration with retries, without waiting.
   *
   * @param context - the parent's context.
   * @param input - the sub-orchestration's input.
   * @param options - its instance id and retry options.
   */
  schedule(
    context: OrchestrationContext,
    input: I,
    options: { instanceId: string; retry: df.RetryOptions },
  ): TypedTask<O>;
}

/**
 * Defines and registers an orchestration.
 *
 * @param spec - the registered name, the input schema and the generator, which gets the checked
 *   input.
 */
export function defineOrchestration<I, O>(spec: {
  name: string;
  input: z.ZodType<I>;
  run: (context: OrchestrationContext, input: I) => Generator<Task, O, unknown>;
}): OrchestrationDefinition<I, O> {
  const handler: OrchestrationHandler = function* (context: OrchestrationContext) {
    const input = parseInput(spec.input, context.df.getInput(), spec.name);
    return yield* spec.run(context, input);
  };
  df.app.orchestration(spec.name, handler);
  return {
    name: spec.name,
    handler,
    start: (client, options) => client.startNew(spec.name, options),
    schedule(context, input, options) {
      return context.df.callSubOrchestratorWithRetry(
        spec.name,
        options.retry,
        input,
        options.instanceId,
      ) as TypedTask<O>;
    },
  };
}
