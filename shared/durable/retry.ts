/**
 * Retry options for activities and sub-orchestrations.
 */
import * as df from "durable-functions";

/** Longest wait between two attempts. */
const MAX_RETRY_INTERVAL_MS = 60_000;

/**
 * Retry options with exponential backoff, at most 60 s between attempts.
 *
 * @param firstIntervalMs - wait before the first retry.
 * @param attempts - attempts in all, the first included.
 */
export function retryOptions(firstIntervalMs: number, attempts: number): df.RetryOptions {
  const options = new df.RetryOptions(Math.max(1, firstIntervalMs), attempts);
  options.backoffCoefficient = 2;
  options.maxRetryIntervalInMilliseconds = MAX_RETRY_INTERVAL_MS;
  return options;
}
