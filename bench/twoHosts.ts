/**
 * Two hosts, one write budget: the run's chunks written by `provisionChunk` in two processes (two
 * "instances", each with its own limiter, as on Flex Consumption) on one run store, against one
 * emulator that enforces a quota and sends no usage header.
 *
 *   node --import tsx bench/twoHosts.ts [--users 3000] [--chunk-size 500] [--one-host] [--gap-ms 0]
 *     [--chunks-per-wave 25] [--sequential | --parallel]
 *
 * By default the chunks run as the product runs them: in waves of `--chunks-per-wave` (the
 * run's default tuning), one after the other, each wave's chunks taking turns (provisionWave's
 * `runWaveInTurns`: the next chunk is started while the one before still writes, and sends once
 * that one has sent all), alternating between the two processes (the worst case for the
 * limiter's handover through the run store). `--sequential` runs one chunk after the other (the
 * design before turns); `--parallel` one chunk in each process at once (the design before that,
 * each instance's limiter on its own); `--one-host` writes every chunk in the first process, the
 * baseline of one limiter that never changes hands. Real time, no scaling: the quota is the
 * sliding window of 40 writes per 2 s. `--gap-ms N` plays the gap Durable puts between scheduling
 * an activity and its start (queue polling, dispatch; 0 by default), and three more such gaps
 * between two waves (see runWaves).
 * Prints one JSON line: users, seconds, ratio (writes over what the quota admitted), throttled
 * share (429s over requests) and calls per user, from the emulator's metrics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { InvocationContext } from "@azure/functions";
import { startEmulator } from "../local/graph-emulator/index.js";
import {
  provisionChunk,
  type ProvisionChunkInput,
  type ProvisionChunkResult,
} from "../activities/provisionChunk.js";
import { GraphAccess } from "../shared/graph/client.js";
import { AdaptiveLimiter } from "../shared/graph/throttle.js";
import {
  DEFAULT_RUN_TUNING,
  QUICK_CHUNK_MS,
  TURN_WAIT_MS,
  runKeys,
  type ChunkItem,
} from "../shared/run/index.js";
import { setServices } from "../shared/services.js";
import { loadSettings } from "../shared/settings/index.js";
import { FsRunStore } from "../shared/store/index.js";
import { benchTenant, describeQuota, writeQuota } from "./provisioning.js";

const RUN_ID = "bench-two-hosts";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

/** What a worker needs to play one instance. */
interface WorkerSetup {
  storeDir: string;
  graphBaseUrl: string;
  caPem: string;
  token: string;
}

/** A worker: one process, one limiter; writes the chunks it is sent on stdin, one per line. */
async function worker(): Promise<void> {
  const setup = JSON.parse(process.env.TWO_HOSTS_SETUP ?? "{}") as WorkerSetup;
  setServices({
    settings: loadSettings({}),
    store: new FsRunStore(setup.storeDir),
    limiter: new AdaptiveLimiter(),
    graph: new GraphAccess({
      baseUrl: setup.graphBaseUrl,
      caPem: setup.caPem,
      credential: {
        getToken: async () => ({
          token: setup.token,
          expiresOnTimestamp: Date.now() + 3_600_000,
        }),
        invalidate: () => undefined,
      },
    }),
  });
  // A context whose log methods drop every line (the package's own class is test-mode only here).
  const context = new Proxy({}, { get: () => () => undefined }) as InvocationContext;
  // Chunks run as they come, several at once (a waiting one beside a writing one), as an
  // instance runs several activities.
  for await (const line of createInterface({ input: process.stdin })) {
    const job = JSON.parse(line) as Job;
    void provisionChunk(
      { runId: RUN_ID, chunkNo: job.chunkNo, logPhoneNumbers: "masked", ...job.turn },
      context,
    ).then((result) => process.stdout.write(`${JSON.stringify(result)}\n`));
  }
}

/** One chunk for a worker, with its turn when chunks take turns. */
interface Job {
  chunkNo: number;
  turn?: Pick<ProvisionChunkInput, "turn">;
}

/** A running worker process and its answers, by chunk. */
class Host {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly waiting = new Map<number, (result: ProvisionChunkResult) => void>();

  constructor(
    setup: WorkerSetup,
    private readonly gapMs: number,
  ) {
    const self = fileURLToPath(import.meta.url);
    this.child = spawn(process.execPath, ["--import", "tsx", self, "--worker"], {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, TWO_HOSTS_SETUP: JSON.stringify(setup) },
    });
    this.lines = createInterface({ input: this.child.stdout! });
    this.lines.on("line", (line) => {
      const result = JSON.parse(line) as ProvisionChunkResult;
      this.waiting.get(result.chunkNo)?.(result);
    });
  }

  /** Writes one chunk in this process. */
  write(chunkNo: number, turn?: Job["turn"]): Promise<ProvisionChunkResult> {
    return new Promise((resolve) => {
      this.waiting.set(chunkNo, resolve);
      // Durable's start of a scheduled activity (queue polling, dispatch), when played.
      setTimeout(
        () => this.child.stdin!.write(`${JSON.stringify({ chunkNo, turn })}\n`),
        this.gapMs,
      );
    });
  }

  close(): void {
    this.child.stdin!.end();
  }
}

/**
 * Plays provisionWave's `runWaveInTurns` for one wave: each next chunk starts while the one
 * before writes, with that one's token as `after`, from the wave's start when it starts quick and
 * after a chunk that proved quick; a chunk whose turn did not come runs again, with its token,
 * once the one before has ended. Durable's gap only with `--gap-ms`.
 */
async function takeTurns(
  chunks: number[],
  quickStart: boolean,
  write: (chunkNo: number, turn: Job["turn"]) => Promise<ProvisionChunkResult>,
  count: (r: ProvisionChunkResult) => void,
): Promise<void> {
  type Current = {
    chunkNo: number;
    result: Promise<ProvisionChunkResult>;
    token: string;
    at: number;
  };
  let current: Current | undefined;
  let quick = quickStart;
  const settle = async (c: Current): Promise<void> => {
    let result = await c.result;
    if ("turnMissed" in result) {
      result = await write(c.chunkNo, { turn: { token: c.token, waitMs: TURN_WAIT_MS } });
    }
    count(result);
    quick = performance.now() - c.at < QUICK_CHUNK_MS;
  };
  for (const c of chunks) {
    if (current && !quick) {
      await settle(current);
      current = undefined;
    }
    const token = randomUUID();
    const turn = {
      turn: { token, ...(current ? { after: current.token } : {}), waitMs: TURN_WAIT_MS },
    };
    const next = { chunkNo: c, result: write(c, turn), token, at: performance.now() };
    if (current) {
      await settle(current);
    }
    current = next;
  }
  if (current) {
    await settle(current);
  }
}

/**
 * Plays provisionWaves: the chunks cut into waves of `perWave`, one wave after the other, each
 * starting quick when the wave before had quick chunks (the first does). Between two waves,
 * besides the chunk's own start, Durable's gap three times more: the wave's completion reaching
 * the run's orchestration, the run scheduling the next wave, the wave starting.
 */
async function runWaves(
  chunks: number[],
  perWave: number,
  gapMs: number,
  write: (chunkNo: number, turn: Job["turn"]) => Promise<ProvisionChunkResult>,
  count: (r: ProvisionChunkResult) => void,
): Promise<void> {
  let quickStart = true;
  for (let from = 0; from < chunks.length; from += perWave) {
    if (from > 0) {
      await new Promise((resolve) => setTimeout(resolve, 3 * gapMs));
    }
    const wave = chunks.slice(from, from + perWave);
    const startedAt = performance.now();
    await takeTurns(wave, quickStart, write, count);
    quickStart = (performance.now() - startedAt) / wave.length < QUICK_CHUNK_MS;
  }
}

async function main(): Promise<void> {
  const users = Number(arg("users", "3000"));
  const chunkSize = Number(arg("chunk-size", String(DEFAULT_RUN_TUNING.chunkSize)));
  const gapMs = Number(arg("gap-ms", "0"));
  const chunksPerWave = Number(arg("chunks-per-wave", String(DEFAULT_RUN_TUNING.chunksPerWave)));
  const parallel = process.argv.includes("--parallel");
  const sequential = process.argv.includes("--sequential");
  const oneHost = process.argv.includes("--one-host");
  const tenant = benchTenant(users);
  const emulator = await startEmulator({
    profile: "realistic",
    tenant,
    config: { writeQuotaShape: "slidingWindow", writeQuota: 40, writeQuotaWindowSeconds: 2 },
  });
  const storeDir = await mkdtemp(path.join(tmpdir(), "mfa-two-hosts-"));
  try {
    const store = new FsRunStore(storeDir);
    const chunks: number[] = [];
    for (let from = 0, no = 0; from < users; from += chunkSize, no++) {
      const items: ChunkItem[] = tenant.users.slice(from, from + chunkSize).map((u) => ({
        userId: u.id,
        userPrincipalName: u.userPrincipalName,
        phoneNumber: u.mobilePhone ?? "",
        action: "create",
      }));
      await store.putJson(runKeys.chunk(RUN_ID, no), items);
      chunks.push(no);
    }
    const setup: WorkerSetup = {
      storeDir,
      graphBaseUrl: emulator.graphBaseUrl,
      caPem: emulator.caCertPem,
      token: emulator.issueToken({ lifetimeSeconds: 3_600 }),
    };
    const hosts = [new Host(setup, gapMs), new Host(setup, gapMs)];
    // Both processes loaded before the clock starts (tsx compiles the product in each).
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    emulator.resetMetrics();
    const t0 = performance.now();
    let created = 0;
    const count = (r: ProvisionChunkResult): void => {
      created += "counts" in r ? r.counts.created : 0;
    };
    if (parallel) {
      const queues = hosts.map((_, k) => chunks.filter((c) => c % 2 === k));
      await Promise.all(
        hosts.map(async (h, k) => {
          for (const c of queues[k] ?? []) {
            count(await h.write(c));
          }
        }),
      );
    } else if (sequential) {
      for (const c of chunks) {
        count(await (hosts[oneHost ? 0 : c % 2] as Host).write(c));
      }
    } else {
      await runWaves(
        chunks,
        chunksPerWave,
        gapMs,
        (c, turn) => (hosts[oneHost ? 0 : c % 2] as Host).write(c, turn),
        count,
      );
    }
    const seconds = (performance.now() - t0) / 1000;
    hosts.forEach((h) => h.close());
    const metrics = emulator.metrics();
    const quota = writeQuota(emulator.config);
    const admitted = quota.burst + quota.perSecond * seconds;
    const round = (x: number, d = 4): number => Math.round(x * 10 ** d) / 10 ** d;
    process.stdout.write(
      `${JSON.stringify({
        design: parallel
          ? "two writers, a limiter each"
          : `${sequential ? "one chunk after the other" : "chunks taking turns"}, ${oneHost ? "one host" : "alternating hosts, handed over"}`,
        quota: describeQuota(emulator.config),
        header: emulator.config.phoneWriteUsageHeader,
        users,
        created,
        chunkSize,
        ...(parallel || sequential ? {} : { chunksPerWave }),
        gapMs,
        seconds: round(seconds, 1),
        ratio: round(created / admitted),
        throttledShare: round(metrics.requests > 0 ? metrics.throttled / metrics.requests : 0, 5),
        callsPerUser: round(created > 0 ? metrics.requests / created : 0),
        requests: metrics.requests,
        throttled: metrics.throttled,
      })}\n`,
    );
  } finally {
    await emulator.close();
    await rm(storeDir, { recursive: true, force: true });
  }
}

await (process.argv.includes("--worker") ? worker() : main());
