/**
 * Shared types of the local Durable host: DTFx history events as the Durable extension
 * serialises them (PascalCase, numeric `EventType`), the public status shape and statistics.
 */
import type { HostAccess } from "./access.js";

/** History event type numbers, as DTFx and the durable-functions SDK number them. */
export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventRaised: 15,
  ContinueAsNew: 16,
} as const;

/**
 * One DTFx history event. Only the fields the SDK reads are typed; the host never adds
 * fields of its own so the bytes shipped to the worker match what the extension sends.
 */
export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  Name?: string;
  Input?: string;
  Result?: string;
  Reason?: string;
  Details?: string;
  TaskScheduledId?: number;
  TimerId?: number;
  FireAt?: string;
  InstanceId?: string;
  OrchestrationInstance?: { InstanceId: string; ExecutionId: string };
  ParentInstance?: { Name: string; OrchestrationInstance: { InstanceId: string } } | null;
  OrchestrationStatus?: number;
}

/** Runtime status names, as `DurableOrchestrationStatus.runtimeStatus` spells them. */
export type RuntimeStatus =
  "Pending" | "Running" | "Completed" | "Failed" | "Terminated" | "ContinuedAsNew";

/** A summarised history entry, as the status API returns it with `showHistory`. */
export interface HistoryEntry {
  EventType: string;
  Timestamp: string;
  Name?: string;
  FunctionName?: string;
  Result?: unknown;
  FailureDetails?: string;
  ScheduledTime?: string;
  FireAt?: string;
}

/** The JSON shape of the SDK's `DurableOrchestrationStatus`. */
export interface InstanceStatus {
  name: string;
  instanceId: string;
  createdTime: string;
  lastUpdatedTime: string;
  input: unknown;
  output: unknown;
  runtimeStatus: RuntimeStatus;
  customStatus: unknown;
  history?: HistoryEntry[];
}

/** Replay cost counters of one instance, or of all instances summed. */
export interface ReplayCounters {
  /** Orchestrator invocations (one per episode). */
  episodes: number;
  /** History events shipped to the orchestrator and replayed by the SDK. */
  eventsReplayed: number;
  /** UTF-8 bytes of the trigger payloads shipped to the worker. */
  bytesShipped: number;
  /** Wall-clock milliseconds spent inside orchestrator invocations. */
  ms: number;
}

/** Replay statistics: totals plus one entry per instance id seen by this host. */
export interface ReplayStats {
  total: ReplayCounters;
  instances: Record<string, ReplayCounters>;
  /** Bytes written to the state directory (journal lines and snapshots) since the host started. */
  persistedBytes: number;
}

/** Minimal logger the host writes to; `console` fits. */
export interface HostLogger {
  info(m: string): void;
  warn(m: string): void;
  error(m: string): void;
}

/** Filter of `listInstances`, mirroring the SDK's `OrchestrationFilter`. */
export interface InstanceFilter {
  runtimeStatus?: RuntimeStatus[];
  createdTimeFrom?: Date;
  createdTimeTo?: Date;
  /** Instance id prefix. */
  instanceIdPrefix?: string;
}

/** Options of {@link startLocalHost}. */
export interface LocalHostOptions {
  /** Persistence root, created if missing. */
  stateDir: string;
  /** Absolute paths or file URLs of app modules to import; each registers functions. */
  modules: string[];
  /** Activities running at once across all instances; default 8. */
  activityConcurrency?: number;
  /** `virtual`: timers fire as soon as nothing else is runnable; default `real`. */
  clock?: "real" | "virtual";
  /**
   * Starts the host clock this many ms ahead of the wall clock (default 0), so a host started on
   * an earlier host's state runs "a day later": orchestration time, history and status stamps,
   * and durable timers all use the host clock. Activities keep the wall clock.
   */
  clockOffsetMs?: number;
  /** Loopback port for `/api/*` and the durable RPC API; 0 (default) picks a free one. */
  port?: number;
  /** Task hub name reported to client functions; default `LocalTaskHub`. */
  taskHubName?: string;
  /** Where host and function logs go; default: warnings and errors on stderr. */
  logger?: HostLogger;
  /** Start NCRONTAB timer triggers on their schedule; default false. */
  schedules?: boolean;
  /**
   * App settings that `%NAME%` binding expressions (a timer's schedule) resolve from, as the
   * Functions host resolves them; default `process.env`.
   */
  appSettings?: Readonly<Record<string, string | undefined>>;
  /**
   * An instance gets its next episode once this many events wait for it, or as soon as none
   * of its activities is still queued; default 100. Mirrors the batching of the Azure Storage
   * provider, which hands an orchestration all messages that arrived while it was busy.
   */
  deliveryBatch?: number;
  /** Journal bytes after which an instance is compacted into a snapshot; default 1 MiB. */
  compactionBytes?: number;
  /**
   * What every HTTP request must bring (`access.ts`): the token, a loopback `Host` header, JSON
   * bodies. With a token, the host writes it to `access-token` in `stateDir` (mode 0600) for
   * callers in other processes and removes it on stop. Default: none of it.
   */
  access?: HostAccess;
}
