/**
 * One orchestration instance in memory: its persisted state (see `store.ts`), its files, and
 * the caches and scheduling flags derived from them. Every state change goes through
 * `commit`, which writes the journal line first and then applies that same record in memory,
 * so memory and disk cannot drift apart.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { executionStarted } from "./history.js";
import {
  applyRecord,
  completionKey,
  InstanceStore,
  type InstanceState,
  type JournalRecord,
} from "./store.js";
import type { HistoryEvent, HostLogger, RuntimeStatus } from "./types.js";

const TERMINAL: RuntimeStatus[] = ["Completed", "Failed", "Terminated"];

/**
 * Whether an instance with this status never runs again. Every other status counts as active.
 *
 * @param status - runtime status
 */
export function isTerminal(status: RuntimeStatus): boolean {
  return TERMINAL.includes(status);
}

/** The journal record of one episode. */
export type EpisodeRecord = Extract<JournalRecord, { k: "ep" }>;

/** A live instance: state, store, caches and what the engine needs to schedule it. */
export class Instance {
  /** An episode of this instance is running. */
  busy = false;
  /** Activities of this instance waiting in the queue (not started). */
  queued = 0;
  /** Completion keys present in the inbox, to drop duplicate deliveries. */
  inboxKeys = new Set<string>();
  /** Committed history as comma-joined JSON, so episodes do not re-serialise it. */
  histJson = "";
  /** Called once when the instance finishes. */
  waiters: (() => void)[] = [];
  /** True once a finished instance's history was dropped from memory (it stays on disk). */
  released = false;

  /**
   * @param s - the current state
   * @param store - its files
   * @param compactionBytes - journal size after which the state is folded into a snapshot
   */
  constructor(
    public s: InstanceState,
    readonly store: InstanceStore,
    private readonly compactionBytes: number,
  ) {
    this.rebuildCaches();
  }

  /**
   * Persists one journal record, then applies it in memory.
   *
   * @param rec - the change
   */
  commit(rec: JournalRecord): void {
    this.store.append(rec);
    this.s = applyRecord(this.s, rec);
    if (rec.k === "in") {
      const key = completionKey(rec.e);
      if (key !== undefined) {
        this.inboxKeys.add(key);
      }
    }
    const limit = Math.max(this.compactionBytes, this.store.snapshotBytes * 2);
    if (this.store.journalBytes > limit) {
      this.store.compact(this.s);
    }
  }

  /**
   * Commits an episode and updates the caches for the events it consumed and added.
   *
   * @param rec - the episode record
   * @param batch - the inbox events the episode consumed
   */
  commitEpisode(rec: EpisodeRecord, batch: HistoryEvent[]): void {
    const histBefore = this.s.history.length;
    this.commit(rec);
    if (this.s.history.length === histBefore + rec.add.length) {
      const json = rec.add.map((e) => JSON.stringify(e)).join(",");
      this.histJson = this.histJson ? `${this.histJson},${json}` : json;
    } else {
      this.rebuildCaches();
    }
    for (const e of batch) {
      const key = completionKey(e);
      if (key !== undefined) {
        this.inboxKeys.delete(key);
      }
    }
  }

  /** Recomputes the caches from the state (after loading or replacing it). */
  rebuildCaches(): void {
    this.histJson = this.s.history.map((e) => JSON.stringify(e)).join(",");
    this.inboxKeys = new Set(
      this.s.inbox.map(completionKey).filter((k): k is string => k !== undefined),
    );
  }

  /**
   * Drops a finished instance's history, actions and pending work from memory: they are in its
   * snapshot, nothing changes them any more, and a state directory full of finished large runs
   * would otherwise all sit in memory. `showHistory` reads them back from disk.
   */
  release(): void {
    this.s.history = [];
    this.s.inbox = [];
    this.s.actionSigs = [];
    this.s.actionIds = [];
    this.s.pending = {};
    this.histJson = "";
    this.released = true;
  }
}

/**
 * The state of a new execution: Pending, with its `ExecutionStarted` event in the inbox.
 *
 * @param instanceId - instance id
 * @param name - orchestrator name
 * @param input - JSON text of the input
 * @param parent - set for sub-orchestrations
 * @param now - ISO creation time
 */
export function newExecution(
  instanceId: string,
  name: string,
  input: string | undefined,
  parent: InstanceState["parent"],
  now: string,
): InstanceState {
  const executionId = randomUUID();
  return {
    v: 1,
    instanceId,
    name,
    executionId,
    ...(input !== undefined ? { input } : {}),
    ...(parent ? { parent } : {}),
    runtimeStatus: "Pending",
    createdTime: now,
    lastUpdatedTime: now,
    history: [],
    inbox: [executionStarted({ instanceId, executionId, name, input, parent }, now)],
    nextSeq: 0,
    actionSigs: [],
    actionIds: [],
    pending: {},
  };
}

/**
 * Loads every instance under `<stateDir>/instances`. A corrupt one is quarantined and comes back
 * Failed with a message naming the instance, so one bad directory never stops the host.
 *
 * @param stateDir - the host's state directory (created if missing)
 * @param compactionBytes - see {@link Instance}
 * @param logger - where corruption is reported
 * @param nowIso - ISO time for replaced states
 * @returns each instance with the id its directory name encodes
 */
export function loadInstances(
  stateDir: string,
  compactionBytes: number,
  logger: HostLogger,
  nowIso: () => string,
): [string, Instance][] {
  const root = path.join(stateDir, "instances");
  fs.mkdirSync(root, { recursive: true });
  return fs.readdirSync(root).map((dir) => {
    const instanceId = decodeURIComponent(dir);
    const store = new InstanceStore(path.join(root, dir));
    const loaded = store.load();
    let s = loaded.state;
    if (!s || loaded.error) {
      const message = `LocalHost: the state of instance '${instanceId}' is corrupt: ${loaded.error ?? "unknown reason"}.`;
      logger.error(message);
      store.quarantine();
      s = newExecution(instanceId, s?.name ?? "unknown", undefined, undefined, nowIso());
      s.runtimeStatus = "Failed";
      s.output = JSON.stringify(message);
      s.inbox = [];
      store.compact(s);
    }
    return [instanceId, new Instance(s, store, compactionBytes)];
  });
}
