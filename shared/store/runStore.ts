/**
 * The run store: where a run keeps everything large or sensitive (user and report pages, planned
 * chunks with phone numbers, per-user outcomes, reports). Orchestration history, custom status,
 * queues and logs only ever hold keys into it, so phone numbers live nowhere else.
 *
 * Keys are slash-separated paths such as `runs/{runId}/chunks/{n}.json`; see {@link assertKey}.
 */

/** Content type used for JSON values. */
export const JSON_CONTENT_TYPE = "application/json; charset=utf-8";

/** Default content type of {@link RunStore.putText} and {@link RunStore.putStream}. */
export const TEXT_CONTENT_TYPE = "text/plain; charset=utf-8";

/** Longest key accepted; Azure Blob names may be 1,024 characters. */
export const MAX_KEY_LENGTH = 1024;

/** A source of content for {@link RunStore.putStream}: strings are written as UTF-8. */
export type StreamSource = AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

/**
 * Storage for one deployment's runs, behind which sit the local filesystem ({@link FsRunStore})
 * and Azure Blob Storage ({@link BlobRunStore}). Both behave the same, which a shared contract
 * test suite checks.
 *
 * Every write replaces the whole value atomically: a reader sees the old value or the new one,
 * never a mix or a truncated file. Bad keys throw a `TypeError` before any I/O.
 */
export interface RunStore {
  /**
   * Writes a value as JSON, replacing any previous value.
   *
   * @param key - where to write, e.g. `runs/{runId}/chunks/3.json`.
   * @param value - anything `JSON.stringify` accepts; `undefined` is rejected with a `TypeError`.
   */
  putJson(key: string, value: unknown): Promise<void>;

  /**
   * Reads a JSON value.
   *
   * @param key - where to read.
   * @returns the parsed value, or `undefined` when nothing is stored under the key.
   * @throws Error when the stored text is not valid JSON.
   */
  getJson<T>(key: string): Promise<T | undefined>;

  /**
   * Writes text (UTF-8), replacing any previous value.
   *
   * @param key - where to write, e.g. `runs/{runId}/report.csv`.
   * @param text - the content.
   * @param contentType - MIME type kept by the blob store (default `text/plain; charset=utf-8`);
   *   the filesystem store does not keep it.
   */
  putText(key: string, text: string, contentType?: string): Promise<void>;

  /**
   * Reads text (UTF-8).
   *
   * @param key - where to read.
   * @returns the text, or `undefined` when nothing is stored under the key.
   */
  getText(key: string): Promise<string | undefined>;

  /**
   * Writes content produced piece by piece, for values too large to build in memory (a CSV report
   * of a million users). Nothing is visible under the key until the source has ended; if the
   * source throws, the previous value (or absence) stays and the error is rethrown.
   *
   * @param key - where to write.
   * @param source - the pieces, in order; strings are encoded as UTF-8.
   * @param contentType - as for {@link RunStore.putText}.
   */
  putStream(key: string, source: StreamSource, contentType?: string): Promise<void>;

  /**
   * Tells whether a value is stored under the key.
   *
   * @param key - the key to test; a prefix of other keys does not count.
   */
  exists(key: string): Promise<boolean>;

  /**
   * Lists the keys that start with a prefix, in lexicographic (code unit) order. The prefix is a
   * plain string prefix, as in Azure Blob listing: end it with `/` to mean "inside this folder"
   * (`runs/1/` does not match `runs/10/...`, `runs/1` does).
   *
   * @param prefix - the prefix; `""` lists every key.
   */
  list(prefix: string): AsyncIterable<string>;

  /**
   * Deletes every key that starts with a prefix (see {@link RunStore.list}), e.g. to purge a run.
   *
   * @param prefix - a non-empty prefix; `""` is refused so one slip cannot wipe the store.
   * @returns how many keys were deleted.
   */
  delete(prefix: string): Promise<number>;

  /**
   * Writes a value as JSON only when nothing is stored under the key yet. Atomic: of many
   * concurrent calls for one key exactly one returns `true`. Activities use it to stay idempotent
   * when Durable runs them twice.
   *
   * @param key - where to write.
   * @param value - as for {@link RunStore.putJson}.
   * @returns `true` when this call created the value, `false` when one was already there.
   */
  createIfAbsent(key: string, value: unknown): Promise<boolean>;

  /**
   * Where the store is, for messages: `file:///...` or `https://{account}.blob.../{container}`.
   * Never contains credentials.
   */
  describe(): string;
}

const KEY_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

/**
 * Checks a key: one or more `/`-separated segments of `[A-Za-z0-9._-]`, none empty and none
 * starting with `.` (which rules out `.` and `..`, and keeps hidden temporary files of the
 * filesystem store out of the key space), at most {@link MAX_KEY_LENGTH} characters.
 *
 * @param key - the key to check.
 * @param component - the store's name, for the message.
 * @throws TypeError when the key is not valid.
 */
export function assertKey(key: string, component = "RunStore"): void {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new TypeError(
      `${component}: a key must be a string of 1 to ${MAX_KEY_LENGTH} characters.`,
    );
  }
  for (const segment of key.split("/")) {
    if (!KEY_SEGMENT.test(segment)) {
      throw new TypeError(
        `${component}: key '${printable(key)}' is invalid: keys are '/'-separated segments of ` +
          "letters, digits, '.', '_' and '-', none empty and none starting with '.'.",
      );
    }
  }
}

/**
 * Checks a prefix for {@link RunStore.list} and {@link RunStore.delete}: empty, or a key, or a key
 * followed by `/`, or a key whose last segment is unfinished.
 *
 * @param prefix - the prefix to check.
 * @param component - the store's name, for the message.
 * @param allowEmpty - whether `""` is accepted.
 * @throws TypeError when the prefix is not valid.
 */
export function assertPrefix(prefix: string, component = "RunStore", allowEmpty = true): void {
  if (typeof prefix !== "string") {
    throw new TypeError(`${component}: a prefix must be a string.`);
  }
  if (prefix === "") {
    if (!allowEmpty) {
      throw new TypeError(
        `${component}: an empty prefix is refused, as it would delete every key.`,
      );
    }
    return;
  }
  assertKey(prefix.endsWith("/") ? prefix.slice(0, -1) : prefix, component);
}

/** Keeps a bad key readable in a message without echoing control characters or huge input. */
function printable(key: string): string {
  const shown = key.length > 80 ? `${key.slice(0, 80)}...` : key;
  return shown.replace(/[^\x20-\x7e]/g, "?");
}

/**
 * Serialises a value for {@link RunStore.putJson}.
 *
 * @param value - the value.
 * @param component - the store's name, for the message.
 * @throws TypeError when the value has no JSON form (`undefined`, a function).
 */
export function toJsonText(value: unknown, component = "RunStore"): string {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new TypeError(`${component}: the value has no JSON form (undefined or a function).`);
  }
  return text;
}

/**
 * Parses text read by {@link RunStore.getJson}, naming the key (never the content) on failure.
 *
 * @param text - the stored text.
 * @param key - the key it came from.
 * @param component - the store's name, for the message.
 */
export function parseJsonText<T>(text: string, key: string, component = "RunStore"): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    // The parser's own message quotes the text, which may hold phone numbers: leave it out.
    throw new Error(`${component}: the value under '${key}' is not valid JSON.`);
  }
}
