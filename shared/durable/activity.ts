/**
 * Activities defined once: name, input schema, result type and handler in the activity's own
 * file, registered there, and called from orchestrators through the definition, so no
 * orchestrator repeats an activity's name or casts its result.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { OrchestrationContext, Task } from "durable-functions";
import type { z } from "zod";
import { parseInput } from "./input.js";

/** A scheduled task whose result has a known type; read it with {@link resultOf}. */
export interface TypedTask<T> extends Task {
  /** Never set: carries the result type only. */
  readonly __result?: T;
}

/**
 * The result of a completed task.
 *
 * @param task - a task from a definition's `schedule`, completed and not faulted.
 */
export function resultOf<T>(task: TypedTask<T>): T {
  return task.result as T;
}

/** An activity, defined once. */
export interface ActivityDefinition<I, O> {
  readonly name: string;
  /**
   * Schedules the activity with retries and waits for its result; use with `yield*` in an
   * orchestrator.
   *
   * @param context - the orchestration context.
   * @param input - the activity's input.
   * @param retry - retry options for the whole activity.
   */
  call(
    context: OrchestrationContext,
    input: I,
    retry: df.RetryOptions,
  ): Generator<Task, O, unknown>;
  /**
   * Schedules the activity with retries without waiting (fan-out with `Task.all`).
   *
   * @param context - the orchestration context.
   * @param input - the activity's input.
   * @param retry - retry options for the whole activity.
   */
  schedule(context: OrchestrationContext, input: I, retry: df.RetryOptions): TypedTask<O>;
}

/**
 * Defines and registers an activity. The registered handler checks its input against the schema
 * before the handler sees it.
 *
 * @param spec - the registered name, the input schema and the handler.
 */
export function defineActivity<I, O>(spec: {
  name: string;
  input: z.ZodType<I>;
  handler: (input: I, context: InvocationContext) => Promise<O>;
}): ActivityDefinition<I, O> {
  df.app.activity(spec.name, {
    handler: (raw: unknown, context: InvocationContext) =>
      spec.handler(parseInput(spec.input, raw, spec.name), context),
  });
  return {
    name: spec.name,
    *call(context, input, retry) {
      return (yield context.df.callActivityWithRetry(spec.name, retry, input)) as O;
    },
    schedule(context, input, retry) {
      return context.df.callActivityWithRetry(spec.name, retry, input) as TypedTask<O>;
    },
  };
}
