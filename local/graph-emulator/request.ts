/**
 * A Graph request after HTTP parsing, and the path split every route match starts from. The same
 * shape serves top-level requests and `$batch` items.
 */
import { GraphHttpError } from "./response.js";

/** A Graph request after HTTP parsing. */
export interface GraphRequest {
  method: string;
  /** Raw path including the version, e.g. `/v1.0/users/abc`, without the query. */
  path: string;
  query: URLSearchParams;
  /** Header names lower-cased. */
  headers: Record<string, string | undefined>;
  /** Parsed JSON body, undefined when there is none. */
  body?: unknown;
  /** True when a body was sent but is not valid JSON. */
  bodyMalformed?: boolean;
}

/**
 * Splits a path into decoded segments (the version first), ignoring one trailing slash.
 *
 * @param path - e.g. `/v1.0/users/abc`
 * @returns the segments, or a 400 for a path that does not decode
 */
export function splitPath(path: string): string[] | GraphHttpError {
  const raw = path.split("/").slice(1);
  if (raw.length > 1 && raw[raw.length - 1] === "") {
    raw.pop();
  }
  try {
    return raw.map((s) => decodeURIComponent(s));
  } catch {
    return new GraphHttpError(400, "BadRequest", "The request URL is not valid.");
  }
}
