/**
 * The logger that `shared/` code takes as an argument instead of calling `console`, so activities
 * can pass their `InvocationContext` and tests can capture lines.
 */
export interface Logger {
  error(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
};

/** A logger that writes to stderr, one line per call; data stays on stdout. */
export const stderrLogger: Logger = {
  error: (m, ...a) => console.error(m, ...a),
  warn: (m, ...a) => console.error(m, ...a),
  info: (m, ...a) => console.error(m, ...a),
  debug: () => undefined,
};
