/**
 * Steps an orchestrator's generator with a fake `context.df`, the way the durable-js samples test
 * orchestrators: every scheduled activity or sub-orchestration is answered by the test's script,
 * the orchestration clock advances by a fixed step per answered task, and every custom status is
 * recorded. No host, no history: what is tested is the orchestrator's own logic (order of calls,
 * inputs, fatal paths, progress, ETA).
 */
import type { OrchestrationContext, OrchestrationHandler, Task } from "durable-functions";

/** One scheduled call, as the orchestrator made it. */
export interface ScheduledCall {
  kind: "activity" | "subOrchestration";
  name: string;
  input: unknown;
  instanceId?: string;
  /** Orchestration time when the call was answered. */
  at: Date;
}

/** Answers a call: return the result, or throw to fail the task. */
export type Answer = (call: ScheduledCall) => unknown;

interface FakeTask extends Task {
  call?: ScheduledCall;
  children?: FakeTask[];
  /** `Task.any` rather than `Task.all`. */
  any?: boolean;
  event?: string;
  timer?: { fireAt: Date; canceled: boolean };
}

/** What a driven orchestration did. */
export interface DrivenRun {
  /** The orchestrator's return value, when it completed. */
  output?: unknown;
  /** The error it threw, when it failed. */
  error?: Error;
  calls: ScheduledCall[];
  /** The calls answered at each yield: a group yielded with `Task.all` is one entry. */
  yields: ScheduledCall[][];
  /** Every custom status it set, deep-copied at the time. */
  statuses: Record<string, unknown>[];
  /** When each durable timer it waited on alone (not in `Task.any`) was due; each fires then. */
  timers: Date[];
  /**
   * Activities and sub-orchestrations as they were scheduled and answered, in order:
   * `scheduled <name> <input.chunkNo>` or `answered ...` (what overlapped shows here).
   */
  log: string[];
}

/**
 * Runs an orchestrator to its end.
 *
 * @param handler - the registered generator.
 * @param options - the input, the instance id, the answers, the start time and the clock step.
 */
export function driveOrchestration(
  handler: OrchestrationHandler,
  options: {
    input: unknown;
    answer: Answer;
    instanceId?: string;
    start?: Date;
    /** Orchestration time that passes per answered task (default 1 s). */
    stepMs?: number;
    /** External events that arrive while the orchestration waits for them, by name. */
    events?: Record<string, unknown>;
  },
): DrivenRun {
  const run: DrivenRun = { calls: [], yields: [], statuses: [], timers: [], log: [] };
  const entry = (what: string, name: string, input: unknown): string =>
    `${what} ${name} ${(input as { chunkNo?: number } | undefined)?.chunkNo ?? ""}`.trim();
  let now = options.start ?? new Date("2026-12-01T02:00:00.000Z");
  const stepMs = options.stepMs ?? 1_000;
  const schedule = (
    kind: ScheduledCall["kind"],
    name: string,
    input: unknown,
    instanceId?: string,
  ): FakeTask => {
    run.log.push(entry("scheduled", name, input));
    return {
      isCompleted: false,
      isFaulted: false,
      call: { kind, name, input, instanceId, at: now },
    };
  };
  let guids = 0;
  const df = {
    instanceId: options.instanceId ?? "run-1",
    /** Deterministic like the SDK's: the same sequence on every drive. */
    newGuid: (): string => `00000000-0000-4000-8000-${String(++guids).padStart(12, "0")}`,
    isReplaying: false,
    get currentUtcDateTime(): Date {
      return now;
    },
    getInput: () => options.input,
    setCustomStatus: (s: unknown) =>
      run.statuses.push(structuredClone(s) as Record<string, unknown>),
    callActivityWithRetry: (name: string, _retry: unknown, input: unknown) =>
      schedule("activity", name, input),
    callSubOrchestratorWithRetry: (name: string, _retry: unknown, input: unknown, id?: string) =>
      schedule("subOrchestration", name, input, id),
    Task: {
      all: (tasks: FakeTask[]): FakeTask => ({
        isCompleted: false,
        isFaulted: false,
        children: tasks,
      }),
      any: (tasks: FakeTask[]): FakeTask => ({
        isCompleted: false,
        isFaulted: false,
        children: tasks,
        any: true,
      }),
    },
    waitForExternalEvent: (name: string): FakeTask => ({
      isCompleted: false,
      isFaulted: false,
      event: name,
    }),
    createTimer: (fireAt: Date): FakeTask & { cancel(): void } => {
      const task: FakeTask & { cancel(): void } = {
        isCompleted: false,
        isFaulted: false,
        timer: { fireAt, canceled: false },
        cancel: () => {
          (task.timer as { canceled: boolean }).canceled = true;
        },
      };
      return task;
    },
  };
  const settle = (task: FakeTask): void => {
    if (task.isCompleted || !task.call) {
      return;
    }
    now = new Date(now.getTime() + stepMs);
    const call = { ...task.call, at: now };
    run.calls.push(call);
    run.log.push(entry("answered", call.name, call.input));
    task.isCompleted = true;
    try {
      task.result = options.answer(call);
    } catch (error) {
      task.isFaulted = true;
      task.result = error;
    }
  };
  /** A wait: the scripted event arrives at once; otherwise the timer fires at its time. */
  const resolveAny = (task: FakeTask): FakeTask => {
    const children = task.children ?? [];
    const event = children.find(
      (c) => c.event !== undefined && options.events && c.event in options.events,
    );
    if (event) {
      event.isCompleted = true;
      event.result = options.events?.[event.event as string];
      return event;
    }
    const timer = children.find((c) => c.timer);
    if (!timer?.timer) {
      throw new Error("driveOrchestration: Task.any with nothing that can complete");
    }
    now = new Date(Math.max(now.getTime(), timer.timer.fireAt.getTime()));
    timer.isCompleted = true;
    return timer;
  };
  const resolve = (task: FakeTask): unknown => {
    if (task.any) {
      return resolveAny(task);
    }
    if (task.timer) {
      run.timers.push(task.timer.fireAt);
      now = new Date(Math.max(now.getTime(), task.timer.fireAt.getTime()));
      task.isCompleted = true;
      return undefined;
    }
    if (task.children) {
      task.children.forEach(settle);
      const failed = task.children.find((c) => c.isFaulted);
      if (failed) {
        throw failed.result;
      }
      return task.children.map((c) => c.result);
    }
    settle(task);
    if (task.isFaulted) {
      throw task.result;
    }
    return task.result;
  };

  const gen = handler({ df } as unknown as OrchestrationContext);
  try {
    let step = gen.next();
    while (!step.done) {
      let value: unknown;
      let thrown: unknown;
      const before = run.calls.length;
      try {
        value = resolve(step.value as FakeTask);
      } catch (error) {
        thrown = error;
      }
      run.yields.push(run.calls.slice(before));
      step = thrown === undefined ? gen.next(value) : gen.throw(thrown);
    }
    run.output = step.value;
  } catch (error) {
    run.error = error instanceof Error ? error : new Error(String(error));
  }
  return run;
}
