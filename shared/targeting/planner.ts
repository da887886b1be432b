/**
 * The stateful wrapper around {@link decideUser} for one run: it enforces `MAX_WRITES_PER_RUN`
 * and counts decisions. Writes are `create` and `replace`; past the cap they become
 * `skip`/`deferred`, so the next run picks those users up.
 */
import type { Settings } from "../settings/index.js";
import {
  decideUser,
  SKIP_PRECEDENCE,
  type Decision,
  type SkipReason,
  type TargetingSettings,
  type UserContext,
} from "./decide.js";

/** Settings of a planner: the targeting settings and the write cap (0 = no cap). */
export type PlannerSettings = TargetingSettings & Pick<Settings, "maxWritesPerRun">;

/** Decisions made so far, by action and by skip reason. */
export interface PlanCounts {
  decided: number;
  create: number;
  replace: number;
  alreadyPresent: number;
  skipped: number;
  skip: Record<SkipReason, number>;
}

/** Decides users one after another within one run. */
export interface Planner {
  /**
   * Decides one user; a write past the cap comes back as `skip`/`deferred`.
   *
   * @param ctx - the user and what is known about them.
   */
  decide(ctx: UserContext): Decision;
  /** A copy of the counts so far. */
  counts(): PlanCounts;
  /** Writes planned so far (`create` + `replace`), never more than the cap. */
  readonly writes: number;
}

function emptyCounts(): PlanCounts {
  return {
    decided: 0,
    create: 0,
    replace: 0,
    alreadyPresent: 0,
    skipped: 0,
    skip: Object.fromEntries(SKIP_PRECEDENCE.map((r) => [r, 0])) as Record<SkipReason, number>,
  };
}

/**
 * Creates a planner for one run. Which users are deferred depends on the order they are decided
 * in, so callers feed them in a stable order (the directory's paging order) to keep a resumed run
 * deciding alike.
 *
 * @param settings - targeting settings and `maxWritesPerRun` (0 or less means no cap).
 */
export function createPlanner(settings: PlannerSettings): Planner {
  const cap = settings.maxWritesPerRun > 0 ? settings.maxWritesPerRun : Infinity;
  const counts = emptyCounts();
  let writes = 0;
  return {
    decide(ctx: UserContext): Decision {
      let decision = decideUser(ctx, settings);
      if (decision.action === "create" || decision.action === "replace") {
        if (writes >= cap) {
          decision = {
            action: "skip",
            reason: "deferred",
            detail: `The run reached its cap of ${settings.maxWritesPerRun} writes (MAX_WRITES_PER_RUN); the user is left for a later run.`,
          };
        } else {
          writes += 1;
        }
      }
      counts.decided += 1;
      if (decision.action === "skip") {
        counts.skipped += 1;
        counts.skip[decision.reason] += 1;
      } else {
        counts[decision.action] += 1;
      }
      return decision;
    },
    counts(): PlanCounts {
      return { ...counts, skip: { ...counts.skip } };
    },
    get writes(): number {
      return writes;
    },
  };
}
