/**
 * Error types shared by the app. Each carries a stable `code` so callers branch on it, never on
 * the message, and messages never contain secrets or phone numbers.
 */

/** Name of {@link ConfigurationError}. */
export const ConfigurationErrorName = "ConfigurationError";

/** One bad setting: its name and what is wrong, never its value. */
export interface SettingProblem {
  setting: string;
  problem: string;
}

/**
 * Thrown once at start when one or more settings are missing or invalid; lists every problem.
 */
export class ConfigurationError extends Error {
  readonly code = "invalidConfiguration";
  readonly problems: SettingProblem[];

  constructor(problems: SettingProblem[]) {
    super(
      `Configuration: ${problems.length} setting${problems.length === 1 ? " is" : "s are"} invalid: ` +
        problems.map((p) => `'${p.setting}' ${p.problem}`).join("; ") +
        ".",
    );
    this.name = ConfigurationErrorName;
    this.problems = problems;
  }
}
