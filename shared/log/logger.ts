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
