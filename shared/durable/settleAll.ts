/**
 * Fan-out that is safe on replay.
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
