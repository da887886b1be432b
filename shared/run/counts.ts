/**
 * The counts of a run, a chunk or a wave: one type for all of them, filled by {@link tally} (one
 * outcome) and {@link tallyDecision} (one plan decision), added up by {@link mergeCounts}. The CLI
 * contract's `counts` object is a subset of these fields. A run's counts count plan entries, one
 * per user and method: with the mobile phone alone, one per user; with several methods, a user
 * counts once per method, and {@link MethodCounts} splits them.
 */
import type { Method } from "../settings/index.js";
import type { DecisionCounts, DecisionLabel } from "./decisions.js";
import type { Outcome } from "./outcomes.js";

/** Counts of users (per method) by what the run decided and what happened. */
export interface RunCounts {
  /** Users the run decided for (times the methods it decided). */
  candidates: number;
  /** Writes planned (`create` and `replace`). */
  planned: number;
  created: number;
  replaced: number;
  /** The method already held the number (decided in the plan, or found when writing). */
  alreadyPresent: number;
  invalidNumber: number;
  /** Users left alone for any other reason (a different existing number included). */
  skipped: number;
  failed: number;
  /** Of `failed`, those that a rerun may fix (throttling, outages). */
  failedTransient: number;
  /** Writes past `MAX_WRITES_PER_RUN`, left for the next run. */
  deferred: number;
  /** Users whose mobile method exists with another number, left alone (REPLACE_EXISTING off). */
  existingDiffers: number;
  /** Created, but Graph said the number is another user's SMS sign-in number. */
  smsSignInNotUnique: number;
  /** Not written: the user changed between the plan and the write (number, state, groups, role). */
  changedSincePlan: number;
}

/** A zeroed {@link RunCounts}. */
export function emptyCounts(): RunCounts {
  return {
    candidates: 0,
    planned: 0,
    created: 0,
    replaced: 0,
    alreadyPresent: 0,
    invalidNumber: 0,
    skipped: 0,
    failed: 0,
    failedTransient: 0,
    deferred: 0,
    existingDiffers: 0,
    smsSignInNotUnique: 0,
    changedSincePlan: 0,
  };
}

/**
 * Adds one write's outcome.
 *
 * @param counts - the counts to add to.
 * @param outcome - one user's outcome.
 */
export function tally(counts: RunCounts, outcome: Outcome): RunCounts {
  switch (outcome.result) {
    case "created":
      counts.created++;
      if (outcome.note === "smsSignInNumberNotUnique") {
        counts.smsSignInNotUnique++;
      }
      break;
    case "replaced":
      counts.replaced++;
      break;
    case "alreadyPresent":
      counts.alreadyPresent++;
      break;
    case "existingDiffers":
      counts.existingDiffers++;
      // A different existing number left alone is a skip, as far as the run's totals go.
      counts.skipped++;
      break;
    case "failed":
      counts.failed++;
      if (outcome.transient) {
        counts.failedTransient++;
      }
      break;
    case "changedSincePlan":
      counts.changedSincePlan++;
      counts.skipped++;
      break;
  }
  return counts;
}

/**
 * Adds one plan decision (or `n` alike): every decision is a candidate; writes count as planned
 * (their outcome is tallied separately), the other decisions count where they end.
 *
 * @param counts - the counts to add to.
 * @param label - one user's decision.
 * @param n - how many entries got it.
 */
export function tallyDecision(counts: RunCounts, label: DecisionLabel, n = 1): RunCounts {
  counts.candidates += n;
  switch (label) {
    case "create":
    case "replace":
      counts.planned += n;
      break;
    case "alreadyPresent":
      counts.alreadyPresent += n;
      break;
    case "skip:invalidNumber":
      counts.invalidNumber += n;
      break;
    case "skip:deferred":
      counts.deferred += n;
      break;
    default:
      counts.skipped += n;
  }
  return counts;
}

/**
 * Counts outcomes.
 *
 * @param outcomes - per-user outcomes.
 */
export function countOutcomes(outcomes: Iterable<Outcome>): RunCounts {
  const counts = emptyCounts();
  for (const o of outcomes) {
    tally(counts, o);
  }
  return counts;
}

/**
 * Adds `from` into `into`, field by field.
 *
 * @param into - the counts to add to.
 * @param from - the counts to add.
 */
export function mergeCounts(into: RunCounts, from: RunCounts): RunCounts {
  for (const key of Object.keys(into) as (keyof RunCounts)[]) {
    into[key] += from[key] ?? 0;
  }
  return into;
}

/**
 * Users whose write has an outcome so far (what progress and the ETA count).
 *
 * @param counts - outcome counts.
 */
export function usersDone(counts: RunCounts): number {
  return (
    counts.created +
    counts.replaced +
    counts.alreadyPresent +
    counts.failed +
    counts.existingDiffers
  );
}

/** A run's counts split by method (only the methods the run registers appear). */
export type MethodCounts = Partial<Record<Method, RunCounts>>;

/**
 * The counts of one method, added when missing.
 *
 * @param byMethod - the counts per method.
 * @param method - the method.
 */
export function countsOf(byMethod: MethodCounts, method: Method): RunCounts {
  return (byMethod[method] ??= emptyCounts());
}

/**
 * The counts a plan's decisions make before anything is written.
 *
 * @param decisions - how many entries got each decision.
 */
export function countDecisions(decisions: DecisionCounts): RunCounts {
  const counts = emptyCounts();
  for (const [label, n] of Object.entries(decisions) as [DecisionLabel, number][]) {
    tallyDecision(counts, label, n);
  }
  return counts;
}
