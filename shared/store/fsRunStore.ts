/**
 * The filesystem run store: one file per key under a root directory. The embedded default for
 * local runs (the CLI and the local host).
 */
import { randomUUID } from "node:crypto";
import {
  type FileHandle,
  link,
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  unlink,
} from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  type RunStore,
  type StreamSource,
  assertKey,
  assertPrefix,
  parseJsonText,
  toJsonText,
} from "./runStore.js";

const COMPONENT = "FsRunStore";

/** Writes are gathered to about this many bytes before each system call. */
const WRITE_BUFFER_BYTES = 64 * 1024;

/** How many files {@link FsRunStore.delete} unlinks at once. */
const DELETE_CONCURRENCY = 32;

/** Options of {@link FsRunStore}. */
export interface FsRunStoreOptions {
  /**
   * Flush each file (and its directory) to disk before it becomes visible, so a value survives a
   * power cut, not only a killed process. Slower; off by default because the local host only
   * needs to survive a killed process.
   */
  fsync?: boolean;
}

/**
 * A {@link RunStore} on the local filesystem. A key `a/b/c.json` is the file `{root}/a/b/c.json`.
 *
 * - Writes go to a hidden temporary file in the target's directory, which is then renamed over
 *   the target: rename within a directory is atomic, so readers see the old or the new content.
 * - `createIfAbsent` hard-links a complete temporary file to the target; `link` fails when the
 *   target exists, so exactly one of many concurrent creators wins and nobody sees a partial file.
 *   (The root must be on a filesystem with hard links: any local Linux, macOS or NTFS volume.)
 * - `list` walks the directories, skipping hidden names (keys never start a segment with `.`).
 *
 * A key cannot also be a folder of other keys here (`a` and `a/b`), unlike in Blob Storage; the
 * run store's layout never needs that. `delete` is not meant to race with writes under the same
 * prefix.
 */
export class FsRunStore implements RunStore {
  /** The absolute root directory. */
  readonly root: string;
  private readonly fsync: boolean;

  /**
   * @param root - the directory holding the keys; relative paths are resolved against the
   *   current directory. Created on the first write.
   * @param options - see {@link FsRunStoreOptions}.
   */
  constructor(root: string, options: FsRunStoreOptions = {}) {
    if (typeof root !== "string" || root.trim() === "") {
      throw new TypeError(`${COMPONENT}: the root directory must be a non-empty path.`);
    }
    this.root = path.resolve(root);
    this.fsync = options.fsync ?? false;
  }

  /** {@inheritDoc RunStore.putJson} */
  async putJson(key: string, value: unknown): Promise<void> {
    assertKey(key, COMPONENT);
    await this.replace(key, [toJsonText(value, COMPONENT)]);
  }

  /** {@inheritDoc RunStore.getJson} */
  async getJson<T>(key: string): Promise<T | undefined> {
    const text = await this.getText(key);
    return text === undefined ? undefined : parseJsonText<T>(text, key, COMPONENT);
  }

  /** {@inheritDoc RunStore.putText} */
  async putText(key: string, text: string, _contentType?: string): Promise<void> {
    assertKey(key, COMPONENT);
    if (typeof text !== "string") {
      throw new TypeError(`${COMPONENT}: putText needs a string for '${key}'.`);
    }
    await this.replace(key, [text]);
  }

  /** {@inheritDoc RunStore.getText} */
  async getText(key: string): Promise<string | undefined> {
    assertKey(key, COMPONENT);
    try {
      return await readFile(this.pathOf(key), "utf8");
    } catch (error) {
      if (isAbsence(error)) {
        return undefined;
      }
      throw this.failure("read", key, error);
    }
  }

  /** {@inheritDoc RunStore.putStream} */
  async putStream(key: string, source: StreamSource, _contentType?: string): Promise<void> {
    assertKey(key, COMPONENT);
    await this.replace(key, source);
  }

  /** {@inheritDoc RunStore.exists} */
  async exists(key: string): Promise<boolean> {
    assertKey(key, COMPONENT);
    try {
      return (await stat(this.pathOf(key))).isFile();
    } catch (error) {
      if (isAbsence(error)) {
        return false;
      }
      throw this.failure("check", key, error);
    }
  }

  /** {@inheritDoc RunStore.list} */
  list(prefix: string): AsyncIterable<string> {
    assertPrefix(prefix, COMPONENT);
    const cut = prefix.lastIndexOf("/") + 1;
    return this.walk(prefix.slice(0, cut), prefix.slice(cut));
  }

  /** {@inheritDoc RunStore.delete} */
  async delete(prefix: string): Promise<number> {
    assertPrefix(prefix, COMPONENT, false);
    const keys: string[] = [];
    for await (const key of this.list(prefix)) {
      keys.push(key);
    }
    let deleted = 0;
    for (let i = 0; i < keys.length; i += DELETE_CONCURRENCY) {
      const results = await Promise.all(
        keys.slice(i, i + DELETE_CONCURRENCY).map(async (key) => {
          try {
            await unlink(this.pathOf(key));
            return 1;
          } catch (error) {
            if (isAbsence(error)) {
              return 0;
            }
            throw this.failure("delete", key, error);
          }
        }),
      );
      deleted += results.reduce<number>((a, b) => a + b, 0);
    }
    const folder = this.pathOf(prefix.slice(0, -1));
    if (prefix.endsWith("/") && (await stat(folder).catch(() => undefined))?.isDirectory()) {
      // Also sweeps temporary files a killed writer left behind in the folder.
      await rm(folder, { recursive: true, force: true });
    }
    await this.pruneEmptyDirectories(keys);
    return deleted;
  }

  /** {@inheritDoc RunStore.createIfAbsent} */
  async createIfAbsent(key: string, value: unknown): Promise<boolean> {
    assertKey(key, COMPONENT);
    const target = this.pathOf(key);
    const temp = await this.writeTemp(target, [toJsonText(value, COMPONENT)]);
    try {
      await link(temp, target);
      if (this.fsync) {
        await syncDirectory(path.dirname(target));
      }
      return true;
    } catch (error) {
      if (errorCode(error) === "EEXIST") {
        return false;
      }
      throw this.failure("create", key, error);
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** {@inheritDoc RunStore.describe} */
  describe(): string {
    return pathToFileURL(this.root).href;
  }

  private pathOf(key: string): string {
    return path.join(this.root, ...key.split("/"));
  }

  /** Writes the content to a temporary file, then renames it over the target. */
  private async replace(key: string, source: StreamSource): Promise<void> {
    const target = this.pathOf(key);
    const temp = await this.writeTemp(target, source);
    try {
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw this.failure("write", key, error);
    }
    if (this.fsync) {
      await syncDirectory(path.dirname(target));
    }
  }

  /** Writes a complete hidden temporary file beside the target and returns its path. */
  private async writeTemp(target: string, source: StreamSource): Promise<string> {
    const directory = path.dirname(target);
    const temp = path.join(directory, `.tmp-${randomUUID()}`);
    let handle: FileHandle;
    try {
      handle = await open(temp, "wx");
    } catch (error) {
      if (errorCode(error) !== "ENOENT") {
        throw this.failure("write", this.keyOf(target), error);
      }
      try {
        await mkdir(directory, { recursive: true });
        handle = await open(temp, "wx");
      } catch (retryError) {
        throw this.failure("write", this.keyOf(target), retryError);
      }
    }
    try {
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      for await (const piece of source) {
        const bytes = typeof piece === "string" ? Buffer.from(piece, "utf8") : Buffer.from(piece);
        pending.push(bytes);
        pendingBytes += bytes.length;
        if (pendingBytes >= WRITE_BUFFER_BYTES) {
          await handle.writeFile(Buffer.concat(pending, pendingBytes));
          pending = [];
          pendingBytes = 0;
        }
      }
      if (pendingBytes > 0) {
        await handle.writeFile(Buffer.concat(pending, pendingBytes));
      }
      if (this.fsync) {
        await handle.sync();
      }
      await handle.close();
    } catch (error) {
      await handle.close().catch(() => undefined);
      await rm(temp, { force: true });
      // A disk error (ENOSPC, EIO) gets the store's context; the source's own errors pass as-is.
      throw isSystemError(error) ? this.failure("write", this.keyOf(target), error) : error;
    }
    return temp;
  }

  private async *walk(relativeDirectory: string, namePrefix: string): AsyncGenerator<string> {
    let entries;
    try {
      entries = await readdir(path.join(this.root, ...relativeDirectory.split("/")), {
        withFileTypes: true,
      });
    } catch (error) {
      if (isAbsence(error)) {
        return;
      }
      throw new Error(
        `${COMPONENT}: could not list '${relativeDirectory}' in ${this.describe()} (${errorCode(error)}).`,
        { cause: error },
      );
    }
    // Sorting names with a trailing '/' on folders makes this depth-first walk yield whole keys
    // in lexicographic order: 'a-b' < 'a/x' < 'a0', as Blob Storage lists them.
    const sorted = entries
      .filter((e) => !e.name.startsWith(".") && e.name.startsWith(namePrefix))
      .filter((e) => e.isFile() || e.isDirectory())
      .map((e) => ({
        name: e.name,
        directory: e.isDirectory(),
        sortKey: e.isDirectory() ? `${e.name}/` : e.name,
      }))
      .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    for (const entry of sorted) {
      if (entry.directory) {
        yield* this.walk(`${relativeDirectory}${entry.name}/`, "");
      } else {
        yield `${relativeDirectory}${entry.name}`;
      }
    }
  }

  /** Removes folders left empty by a delete, up to (not including) the root. */
  private async pruneEmptyDirectories(keys: readonly string[]): Promise<void> {
    const folders = new Set<string>();
    for (const key of keys) {
      const segments = key.split("/");
      for (let n = segments.length - 1; n > 0; n--) {
        folders.add(segments.slice(0, n).join("/"));
      }
    }
    // Deepest first, so a parent is tried after its children are gone.
    const ordered = [...folders].sort((a, b) => b.split("/").length - a.split("/").length);
    for (const folder of ordered) {
      await rmdir(this.pathOf(folder)).catch(() => undefined);
    }
  }

  private keyOf(file: string): string {
    return path.relative(this.root, file).split(path.sep).join("/");
  }

  private failure(action: string, key: string, error: unknown): Error {
    return new Error(
      `${COMPONENT}: could not ${action} '${key}' in ${this.describe()} (${errorCode(error) ?? "unknown error"}).`,
      { cause: error },
    );
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}

function isSystemError(error: unknown): boolean {
  return error instanceof Error && "syscall" in error && errorCode(error) !== undefined;
}

/** Errors meaning "no value under this key": missing file, a folder, or a file where a folder is. */
function isAbsence(error: unknown): boolean {
  const code = errorCode(error);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

async function syncDirectory(directory: string): Promise<void> {
  // Flushing the directory entry makes the rename durable; Windows cannot open folders, so skip.
  if (process.platform === "win32") {
    return;
  }
  const handle = await open(directory, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
