/**
 * Settled numbers: a value is written only after the same user has held it for the settle period
 * (`NUMBER_SETTLE_DAYS`), so a number planted on night N is not made a factor on night N. The
 * evidence, in order: the store's own history of what each user held (every run, dry runs
 * included, records it), and where the history has no entry for the user (the first runs in a
 * tenant, a store that was reset, a user the run never saw), the directory audit log and the
 * user's creation date. A pure decision: the census activity does the reading and writing.
 */

const DAY_MS = 86_400_000;

/** One user's history for one kind of value: the value's hash, first and last seen (ISO). */
export interface HistoryEntry {
  /** The value's hash; `""` when the user held no usable value. */
  h: string;
  /** When the user was first seen holding it (or when it changed, if the audit log says). */
  f: string;
  /** When a run last saw it. */
  l: string;
}

/** What this run saw of one user. */
export interface Observation {
  userId: string;
  /** The value's hash; `""` when the user holds no usable value. */
  h: string;
  /** When the account was created, when Graph said. */
  created?: string;
}

/** The latest change of the user's value that the audit log shows within the settle period. */
export interface AuditChange {
  at: string;
  /** Who made it (a UPN or an app's name), when the log says. */
  by?: string;
}

/** Why a value is not settled yet. */
export type UnsettledWhy = "changed" | "auditChange" | "createdRecently" | "noEvidence";

/** What the guard concludes for one user. */
export type Settlement =
  | { settled: true; since: string }
  | { settled: false; since: string; until: string; why: UnsettledWhy; by?: string };

/** The conclusion, the entry to keep, and the change to report if the value changed. */
export interface SettleResult {
  settlement: Settlement;
  next: HistoryEntry;
  /** Set when the user's value differs from what the history held, or the audit log shows a change. */
  change?: { at: string; by?: string; why: UnsettledWhy };
}

/**
 * Settles one user's value.
 *
 * @param entry - what the history held for the user, if anything.
 * @param observation - what this run saw.
 * @param audit - the latest audited change of the value within the settle period, if any.
 * @param now - the run's start (orchestration time).
 * @param settleDays - `NUMBER_SETTLE_DAYS`; 0 settles everything (the guard is off).
 * @param auditRead - whether the audit log could be read; without it a user the history does
 *   not know has no evidence and waits the settle period (fail closed).
 */
export function settleValue(
  entry: HistoryEntry | undefined,
  observation: Observation,
  audit: AuditChange | undefined,
  now: Date,
  settleDays: number,
  auditRead = true,
): SettleResult {
  const nowIso = now.toISOString();
  const periodStart = now.getTime() - settleDays * DAY_MS;
  const conclude = (since: string, why: UnsettledWhy, by?: string): Settlement => {
    const until = new Date(Date.parse(since) + settleDays * DAY_MS).toISOString();
    return settleDays === 0 || Date.parse(since) <= periodStart
      ? { settled: true, since }
      : { settled: false, since, until, why, ...(by ? { by } : {}) };
  };

  if (entry && entry.h === observation.h) {
    return {
      settlement: conclude(entry.f, "changed"),
      next: { h: entry.h, f: entry.f, l: nowIso },
    };
  }
  if (entry) {
    // The value differs from what the history held: it changed between the last sighting and
    // now; the audit log may say exactly when and by whom.
    const auditAfter = audit && Date.parse(audit.at) > Date.parse(entry.l) ? audit : undefined;
    const since = auditAfter?.at ?? nowIso;
    return {
      settlement: conclude(since, "changed", auditAfter?.by),
      next: { h: observation.h, f: since, l: nowIso },
      change: { at: since, why: "changed", ...(auditAfter?.by ? { by: auditAfter.by } : {}) },
    };
  }
  if (audit && Date.parse(audit.at) > periodStart) {
    return {
      settlement: conclude(audit.at, "auditChange", audit.by),
      next: { h: observation.h, f: audit.at, l: nowIso },
      change: { at: audit.at, why: "auditChange", ...(audit.by ? { by: audit.by } : {}) },
    };
  }
  if (observation.created && Date.parse(observation.created) > periodStart) {
    return {
      settlement: conclude(observation.created, "createdRecently"),
      next: { h: observation.h, f: observation.created, l: nowIso },
    };
  }
  if (!auditRead) {
    return {
      settlement: conclude(nowIso, "noEvidence"),
      next: { h: observation.h, f: nowIso, l: nowIso },
    };
  }
  // No history, no audited change within the period, an account older than the period: the
  // directory shows the value has been there at least that long.
  const since = new Date(periodStart).toISOString();
  return { settlement: { settled: true, since }, next: { h: observation.h, f: since, l: nowIso } };
}
