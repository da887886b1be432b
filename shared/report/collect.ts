/**
 * Gathers the report model's tallies while summarizeRun walks the plan once: users by decision
 * and by outcome, failures by Graph code, the chunks' timings, and the first user rows for the
 * page. Memory stays bounded at any run size: the rows stop at {@link REPORT_USER_ROWS}, the rest
 * are counts.
 */
import type { DecisionCounts } from "../run/decisions.js";
import type { ChunkTiming } from "../run/outcomes.js";
import {
  REPORT_USER_ROWS,
  type FailureCodeRow,
  type OutcomeColumn,
  type ReportModel,
  type ReportUserRow,
} from "./model.js";
import { buildTimeline } from "./timeline.js";

/** The parts of the report model the walk over the plan produces. */
export type CollectedParts = Pick<
  ReportModel,
  "decisions" | "outcomes" | "failuresByCode" | "timeline" | "users"
>;

/** Tallies for the report page, fed one user and one chunk at a time. */
export class ReportCollector {
  private readonly decisions: DecisionCounts = {};
  private readonly outcomes: Partial<Record<OutcomeColumn, number>> = {};
  private readonly failureCodes = new Map<string, FailureCodeRow>();
  private readonly timings = new Map<number, ChunkTiming>();
  private readonly rows: ReportUserRow[] = [];
  private total = 0;

  /**
   * Adds one user's line (as report.csv has it).
   *
   * @param row - the user's line.
   */
  user(row: ReportUserRow): void {
    this.total++;
    this.decisions[row.decision] = (this.decisions[row.decision] ?? 0) + 1;
    if (row.outcome !== "") {
      this.outcomes[row.outcome] = (this.outcomes[row.outcome] ?? 0) + 1;
    }
    if (this.rows.length < REPORT_USER_ROWS) {
      this.rows.push(row);
    }
  }

  /**
   * Adds one failed write.
   *
   * @param failure - Graph's code, the HTTP status, and whether a rerun may fix it.
   */
  failure(failure: { code: string; status: number; transient: boolean }): void {
    const key = `${failure.status} ${failure.code}`;
    const row = this.failureCodes.get(key) ?? {
      code: failure.code,
      status: failure.status,
      count: 0,
      transient: 0,
    };
    row.count++;
    row.transient += failure.transient ? 1 : 0;
    this.failureCodes.set(key, row);
  }

  /**
   * Adds a chunk's timing (a chunk seen twice counts once).
   *
   * @param chunkNo - the chunk.
   * @param timing - its outcome file's timing, if it has one.
   */
  chunk(chunkNo: number, timing: ChunkTiming | undefined): void {
    if (timing) {
      this.timings.set(chunkNo, timing);
    }
  }

  /** The collected parts of the model: failures most frequent first. */
  parts(): CollectedParts {
    return {
      decisions: this.decisions,
      outcomes: this.outcomes,
      failuresByCode: [...this.failureCodes.values()].sort(
        (a, b) => b.count - a.count || a.code.localeCompare(b.code),
      ),
      timeline: buildTimeline(this.timings.values()),
      users: { total: this.total, rows: this.rows },
    };
  }
}
