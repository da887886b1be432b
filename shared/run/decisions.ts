/**
 * The decision vocabulary: what a run decides for each user and why. Targeting produces these,
 * planning stores them, the summary, status, report and CLI read them. A new skip reason is added
 * here (in {@link SKIP_PRECEDENCE}, at the place where it is checked) and in the rule that
 * produces it (`shared/targeting/decide.ts`).
 */

/**
 * Why a user is left alone (for one method), in the order the reasons are checked; the first that
 * applies is the one reported. Who the user is (guest, disabled, or a record too incomplete to
 * tell) comes first, then which users the run may touch at all (groups, admins, the target mode),
 * then what they already have (a method of the kind), then their value (missing, unusable, in the
 * tenant's own domain, held by others, not yet settled); `deferred` is applied last, by planning,
 * to writes past the cap. The email method has reasons of its own where a number's would mislead
 * (`noAddress`, `invalidAddress`, `internalDomain`, `sharedAddress`, `addressNotSettled`).
 */
export const SKIP_PRECEDENCE = [
  "guest",
  "disabled",
  "incompleteRecord",
  "excludedGroup",
  "outsideStagingGroup",
  "admin",
  "alreadyMfaRegistered",
  "alreadySsprRegistered",
  "hasMobileMethod",
  "hasOfficeMethod",
  "hasEmailMethod",
  "noNumber",
  "noAddress",
  "invalidNumber",
  "invalidAddress",
  "internalDomain",
  "sharedNumber",
  "sharedAddress",
  "numberNotSettled",
  "addressNotSettled",
  "deferred",
] as const;

/** Why a user is left alone. */
export type SkipReason = (typeof SKIP_PRECEDENCE)[number];

/** The writes a plan can hold: POST a new method, or PATCH the existing one. */
export type WriteAction = "create" | "replace";

/** The value a decision is about: a number in Graph's format, or an email address. */
export type DecidedValue =
  | { phoneNumber: string; emailAddress?: undefined }
  | { emailAddress: string; phoneNumber?: undefined };

/** The one decision for a user and method. `detail` explains some skips in a sentence. */
export type Decision =
  | ({ action: WriteAction } & DecidedValue)
  | ({ action: "alreadyPresent" } & DecidedValue)
  /** The value is kept where a guard held back a valid one (for the report). */
  | ({ action: "skip"; reason: SkipReason; detail?: string } & Partial<DecidedValue>);

/** A decision as the plan, the counts and the report name it: the action, or `skip:<reason>`. */
export type DecisionLabel = WriteAction | "alreadyPresent" | `skip:${SkipReason}`;

/** Every decision label, writes first. */
export const DECISION_LABELS: readonly DecisionLabel[] = [
  "create",
  "replace",
  "alreadyPresent",
  ...SKIP_PRECEDENCE.map((reason): DecisionLabel => `skip:${reason}`),
];

/** How many users got each decision. */
export type DecisionCounts = Partial<Record<DecisionLabel, number>>;

/**
 * The label of a decision.
 *
 * @param decision - one user's decision.
 */
export function decisionLabel(decision: Decision): DecisionLabel {
  return decision.action === "skip" ? `skip:${decision.reason}` : decision.action;
}

/**
 * The number or address a decision is about, if any.
 *
 * @param decision - one decision.
 */
export function decidedValue(decision: Decision): string | undefined {
  return decision.phoneNumber ?? decision.emailAddress;
}

/**
 * Whether a decision writes to Graph.
 *
 * @param decision - a decision or its label.
 */
export function isWrite(decision: Decision | DecisionLabel): boolean {
  const action = typeof decision === "string" ? decision : decision.action;
  return action === "create" || action === "replace";
}

/**
 * Adds `from` into `into`.
 *
 * @param into - the counts to add to.
 * @param from - the counts to add.
 */
export function mergeDecisionCounts(into: DecisionCounts, from: DecisionCounts): DecisionCounts {
  for (const [label, n] of Object.entries(from) as [DecisionLabel, number][]) {
    into[label] = (into[label] ?? 0) + n;
  }
  return into;
}
