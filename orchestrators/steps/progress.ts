/**
 * A run's custom status as it moves through its phases: one object the steps update, published
 * with the orchestration's replay-safe clock (never the machine's).
 */
import type { OrchestrationContext } from "durable-functions";
import { emptyCounts, type RunPhase, type RunStatus } from "../../shared/run/index.js";

/** The custom status of one run, and how to publish it. */
export class RunProgress {
  readonly status: RunStatus;

  constructor(
    private readonly context: OrchestrationContext,
    run: { runId: string; dryRun: boolean },
  ) {
    const now = context.df.currentUtcDateTime.toISOString();
    this.status = {
      runId: run.runId,
      phase: "resolvingScope",
      dryRun: run.dryRun,
      startedAt: now,
      updatedAt: now,
      pages: { users: 0, report: 0, excluded: 0 },
      plan: {},
      chunks: { total: 0, done: 0, failed: 0 },
      counts: emptyCounts(),
      throttled: 0,
    };
    this.publish();
  }

  /** The orchestration's current time (replay-safe). */
  now(): Date {
    return this.context.df.currentUtcDateTime;
  }

  /**
   * Enters a phase and publishes.
   *
   * @param phase - the new phase.
   */
  enter(phase: RunPhase): void {
    this.status.phase = phase;
    this.publish();
  }

  /** Publishes the status as it is now. */
  publish(): void {
    this.status.updatedAt = this.now().toISOString();
    this.context.df.setCustomStatus(this.status);
  }

  /**
   * Ends the run as failed with a message that says what to fix; throwing fails the instance.
   *
   * @param message - one sentence, naming the setting or permission.
   */
  fail(message: string): never {
    this.status.phase = "failed";
    this.status.message = message;
    this.publish();
    throw new Error(message);
  }
}
