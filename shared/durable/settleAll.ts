/**
 * Fan-out, and waiting on a task that may fail, safe on replay.
 */
import type { OrchestrationContext, Task } from "durable-functions";

/**
 * Waits for every task of a group and returns them; read each one's outcome from the task. A
 * compound task re-sends the actions of its children, so a task already yielded inside one must
 * never go into another (the extension would schedule it twice): each group is yielded once, and
 * after a failure the still-running tasks are awaited one by one, which re-sends nothing.
 *
 * @param context - the orchestration context.
 * @param tasks - tasks scheduled and not yet yielded.
 */
export function* settleAll<T extends Task>(
  context: OrchestrationContext,
  tasks: T[],
): Generator<Task, T[], unknown> {
  try {
    yield context.df.Task.all(tasks);
  } catch {
    for (const task of tasks) {
      if (!task.isCompleted) {
        try {
          yield task;
        } catch {
          // Its failure is read from the task by the caller.
        }
      }
    }
  }
  return tasks;
}

/**
 * Waits for one task and returns it; read its outcome from the task. Yielded alone, so it is safe
 * for a task that was already yielded inside a compound (a `Task.any` that scheduled it), where
 * {@link settleAll} would put it into a second one.
 *
 * @param task - a task scheduled, yielded alone or in a compound or not at all.
 */
export function* settleOne<T extends Task>(task: T): Generator<Task, T, unknown> {
  try {
    yield task;
  } catch {
    // Its failure is read from the task by the caller.
  }
  return task;
}
