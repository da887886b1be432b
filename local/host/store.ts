/**
 * Persistence of orchestration instances under `<stateDir>/instances/<id>/`.
 *
 * Layout: an atomic snapshot (`snapshot.json`, written to a temp file, fsynced, renamed) plus an
 * append-only journal (`journal-<gen>.jsonl`) of the changes made since that snapshot. Every
 * state change is one journal line written with a single `write` before the host acts on it
 * (dispatching an activity, replying to a client), so a process killed with SIGKILL at any moment
 * restarts from exactly what it had promised. Appends are not fsynced one by one: a killed
 * process loses nothing the kernel already has; only a power cut could lose the last lines,
 * which then just means at-least-once re-execution of that work.
 *
 * Why a journal: rewriting the instance for every completion would make a 10,000-activity
 * fan-out quadratic in bytes written. A journal line costs the size of the change. The journal
 * is folded into a new snapshot once it outgrows both `compactionBytes` and the last snapshot,
 * so total bytes written stay linear in the work done. Compaction is crash-safe: the snapshot
 * names the journal generation that follows it, and stale generations are deleted on load.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { HistoryEvent, RuntimeStatus } from "./types.js";
import { EventType } from "./types.js";

/** Retry bookkeeping of one scheduled attempt or retry timer. */
export interface RetryInfo {
  /** Serialised `RetryOptions` of the action. */
  options: {
    firstRetryIntervalInMilliseconds: number;
    maxNumberOfAttempts: number;
    backoffCoefficient?: number;
    maxRetryIntervalInMilliseconds?: number;
  };
  /** Attempt number of the scheduled attempt (1-based). */
  attempt: number;
}

/** Work an instance has scheduled and not yet seen complete, keyed by its event id. */
export type Pending =
  | { k: "act"; name: string; input?: string; retry?: RetryInfo }
  | { k: "timer"; fireAt: string; retryOf?: RetryOrigin }
  | {
      k: "sub";
      name: string;
      input?: string;
      childId: string;
      explicitId?: string;
      retry?: RetryInfo;
    };

/** What a retry timer reschedules when it fires. */
export interface RetryOrigin {
  kind: "act" | "sub";
  name: string;
  input?: string;
  /** Instance id the code chose for a retried sub-orchestration, if any. */
  explicitId?: string;
  retry: RetryInfo;
}

/** The persisted state of one orchestration instance (current execution). */
export interface InstanceState {
  v: 1;
  instanceId: string;
  name: string;
  executionId: string;
  /** JSON text of the input, absent when there is none. */
  input?: string;
  parent?: { instanceId: string; name: string; taskId: number; executionId: string };
  runtimeStatus: RuntimeStatus;
  createdTime: string;
  lastUpdatedTime: string;
  /** JSON text of the output (or of the failure message). */
  output?: string;
  /** JSON text of the custom status. */
  customStatus?: string;
  history: HistoryEvent[];
  /** Events received and persisted but not yet delivered to the orchestrator. */
  inbox: HistoryEvent[];
  nextSeq: number;
  /** Signature of every action the code scheduled in this execution, in order. */
  actionSigs: string[];
  /** Event id given to each action (null for actions without one). */
  actionIds: (number | null)[];
  pending: Record<string, Pending>;
}

/** Fields a status change may set. */
export interface StatusFields {
  runtimeStatus?: RuntimeStatus;
  lastUpdatedTime?: string;
  output?: string;
  customStatus?: string;
}

/** One journal line. */
export type JournalRecord =
  | { k: "init"; s: InstanceState }
  | { k: "in"; e: HistoryEvent }
  | {
      k: "ep";
      add: HistoryEvent[];
      n: number;
      seq: number;
      sigs: string[];
      ids: (number | null)[];
      pend: Record<string, Pending | null>;
      st: StatusFields;
    }
  | { k: "st"; st: StatusFields; clear?: boolean };

/**
 * The pending-work key a completion event settles, if any.
 *
 * @param e - a completion history event
 */
export function completionKey(e: HistoryEvent): string | undefined {
  switch (e.EventType) {
    case EventType.TaskCompleted:
    case EventType.TaskFailed:
    case EventType.SubOrchestrationInstanceCompleted:
    case EventType.SubOrchestrationInstanceFailed:
      return String(e.TaskScheduledId);
    case EventType.TimerFired:
      return String(e.TimerId);
    default:
      return undefined;
  }
}

function applyStatus(s: InstanceState, st: StatusFields): void {
  if (st.runtimeStatus !== undefined) {
    s.runtimeStatus = st.runtimeStatus;
  }
  if (st.lastUpdatedTime !== undefined) {
    s.lastUpdatedTime = st.lastUpdatedTime;
  }
  if (st.output !== undefined) {
    s.output = st.output;
  }
  if (st.customStatus !== undefined) {
    s.customStatus = st.customStatus;
  }
}

/**
 * Applies one journal record to an in-memory state. The host changes state only through this
 * function, so memory and disk cannot drift apart.
 *
 * @param s - state to change (ignored for `init`)
 * @param rec - the record
 * @returns the resulting state
 */
export function applyRecord(s: InstanceState | undefined, rec: JournalRecord): InstanceState {
  if (rec.k === "init") {
    return rec.s;
  }
  if (!s) {
    throw new Error("LocalHost: journal record before the instance was initialised.");
  }
  switch (rec.k) {
    case "in": {
      // Pending work stays recorded until an episode consumes its completion, because a
      // retried task's options are needed when its failure is delivered.
      s.inbox.push(rec.e);
      break;
    }
    case "ep": {
      s.inbox.splice(0, rec.n);
      for (const e of rec.add) {
        s.history.push(e);
      }
      s.nextSeq = rec.seq;
      for (const sig of rec.sigs) {
        s.actionSigs.push(sig);
      }
      for (const id of rec.ids) {
        s.actionIds.push(id);
      }
      for (const [key, p] of Object.entries(rec.pend)) {
        if (p === null) {
          delete s.pending[key];
        } else {
          s.pending[key] = p;
        }
      }
      applyStatus(s, rec.st);
      break;
    }
    case "st": {
      applyStatus(s, rec.st);
      if (rec.clear) {
        s.pending = {};
        s.inbox = [];
      }
      break;
    }
  }
  return s;
}

/** Result of loading one instance directory. */
export interface LoadResult {
  state?: InstanceState;
  /** Set when the files are corrupt; a sentence without the trailing period. */
  error?: string;
}

/**
 * Encodes an instance id into a safe directory name.
 *
 * @param instanceId - any instance id
 */
export function dirNameFor(instanceId: string): string {
  return encodeURIComponent(instanceId).replace(/\./g, "%2E").replace(/\*/g, "%2A");
}

let written = 0;

/** Bytes this process has written to instance files (journals and snapshots), for benchmarks. */
export function bytesWritten(): number {
  return written;
}

/** Files of one instance: snapshot plus journal, with atomic snapshot writes. */
export class InstanceStore {
  private fd: number | undefined;
  private gen = 0;
  /** Bytes appended to the current journal generation. */
  journalBytes = 0;
  /** Size of the last snapshot written or read. */
  snapshotBytes = 0;

  /**
   * @param dir - the instance directory
   */
  constructor(readonly dir: string) {}

  private journalPath(gen: number): string {
    return path.join(this.dir, `journal-${gen}.jsonl`);
  }

  /**
   * Reads the snapshot and replays the journal; never throws for corrupt files.
   *
   * @param readOnly - leave the files untouched (no stale-file cleanup, no torn-tail repair), for
   *   readers that may run while a host owns the directory
   */
  load(readOnly = false): LoadResult {
    let state: InstanceState | undefined;
    const snapPath = path.join(this.dir, "snapshot.json");
    try {
      if (fs.existsSync(snapPath)) {
        const text = fs.readFileSync(snapPath, "utf8");
        this.snapshotBytes = text.length;
        const parsed = JSON.parse(text) as { gen: number; state: InstanceState };
        if (typeof parsed.gen !== "number" || !parsed.state || parsed.state.v !== 1) {
          return { error: "its snapshot has an unknown format" };
        }
        this.gen = parsed.gen;
        state = parsed.state;
      }
    } catch (err) {
      return { error: `its snapshot is unreadable (${(err as Error).message})` };
    }
    for (const f of fs.readdirSync(this.dir)) {
      const m = /^journal-(\d+)\.jsonl$/.exec(f);
      if (!readOnly && ((m && Number(m[1]) !== this.gen) || f.endsWith(".tmp"))) {
        fs.rmSync(path.join(this.dir, f), { force: true });
      }
    }
    const jPath = this.journalPath(this.gen);
    let text: string | undefined;
    try {
      text = fs.readFileSync(jPath, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        return { error: `its journal is unreadable (${(err as Error).message})` };
      }
    }
    if (text !== undefined) {
      let offset = 0;
      while (offset < text.length) {
        const nl = text.indexOf("\n", offset);
        if (nl < 0) {
          // A torn last line is a write the process did not finish: drop it.
          if (!readOnly) {
            fs.truncateSync(jPath, Buffer.byteLength(text.slice(0, offset)));
          }
          break;
        }
        let rec: JournalRecord | undefined;
        try {
          rec = JSON.parse(text.slice(offset, nl)) as JournalRecord;
        } catch {
          rec = undefined;
        }
        if (!rec) {
          if (nl === text.length - 1) {
            if (!readOnly) {
              fs.truncateSync(jPath, Buffer.byteLength(text.slice(0, offset)));
            }
            break;
          }
          return { error: `its journal has a corrupt line at character ${offset}` };
        }
        try {
          state = applyRecord(state, rec);
        } catch (err) {
          return { error: `its journal cannot be replayed (${(err as Error).message})` };
        }
        offset = nl + 1;
      }
      this.journalBytes = readOnly ? text.length : fs.statSync(jPath).size;
    }
    if (!state) {
      return { error: "it has neither a snapshot nor an initial journal record" };
    }
    return { state };
  }

  /**
   * Appends one record to the journal with a single write.
   *
   * @param rec - the record
   */
  append(rec: JournalRecord): void {
    if (this.fd === undefined) {
      fs.mkdirSync(this.dir, { recursive: true });
      this.fd = fs.openSync(this.journalPath(this.gen), "a");
    }
    const line = JSON.stringify(rec) + "\n";
    const buf = Buffer.from(line, "utf8");
    fs.writeSync(this.fd, buf);
    this.journalBytes += buf.length;
    written += buf.length;
  }

  /**
   * Writes a snapshot atomically and starts a new, empty journal generation.
   *
   * @param state - the full state to persist
   */
  compact(state: InstanceState): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const next = this.gen + 1;
    const text = JSON.stringify({ gen: next, state });
    const tmp = path.join(this.dir, "snapshot.json.tmp");
    const fd = fs.openSync(tmp, "w");
    try {
      written += fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, "snapshot.json"));
    try {
      const dfd = fs.openSync(this.dir, "r");
      fs.fsyncSync(dfd);
      fs.closeSync(dfd);
    } catch {
      // Directory fsync is not supported everywhere; the rename is still atomic.
    }
    this.close();
    fs.rmSync(this.journalPath(this.gen), { force: true });
    this.gen = next;
    this.journalBytes = 0;
    this.snapshotBytes = text.length;
  }

  /** Closes the journal file. */
  close(): void {
    if (this.fd !== undefined) {
      fs.closeSync(this.fd);
      this.fd = undefined;
    }
  }

  /** Moves corrupt files aside so a fresh state can be written. */
  quarantine(): void {
    this.close();
    for (const f of fs.readdirSync(this.dir)) {
      if (!f.endsWith(".corrupt")) {
        fs.renameSync(path.join(this.dir, f), path.join(this.dir, `${f}.corrupt`));
      }
    }
    this.gen = 0;
    this.journalBytes = 0;
  }

  /** Deletes the instance directory. */
  remove(): void {
    this.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Reads every persisted instance under a state directory without starting a host (used by
 * tests and tools to inspect what was durably recorded). Read-only: safe while a host runs on
 * the directory, though it may then see a state a few changes old.
 *
 * @param stateDir - the host's state directory
 * @returns one load result per instance directory, with the instance id
 */
export function readPersistedInstances(stateDir: string): (LoadResult & { instanceId: string })[] {
  const root = path.join(stateDir, "instances");
  if (!fs.existsSync(root)) {
    return [];
  }
  return fs.readdirSync(root).map((d) => {
    const instanceId = decodeURIComponent(d);
    try {
      return { instanceId, ...new InstanceStore(path.join(root, d)).load(true) };
    } catch (err) {
      // The directory may vanish (purge) while a running host owns it.
      return { instanceId, error: `it could not be read (${(err as Error).message})` };
    }
  });
}
