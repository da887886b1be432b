/**
 * Two hosts, one write budget: the run's chunks written by `provisionChunk` in two processes (two
 * "instances", each with its own limiter, as on Flex Consumption) on one run store, against one
 * emulator that enforces a quota and sends no usage header.
 *
 *   node --import tsx bench/twoHosts.ts [--users 3000] [--chunk-size 500] [--parallel] [--one-host]
 *
 * By default the chunks run as the product runs them: one at a time, alternating between the two
 * processes (the worst case for the limiter's handover through the run store). `--parallel` runs
 * one chunk in each process at once instead, the design before (each instance's limiter on its
 * own), for comparison; `--one-host` writes every chunk in the first process, the baseline of one
 * limiter that never changes hands. Real time, no scaling: the quota is the sliding window of 40 writes per
 * 2 s. The gap Durable puts between two chunks (queue polling, scheduling) is not played here.
 * Prints one JSON line: users, seconds, ratio (writes over what the quota admitted), throttled
 * share (429s over requests) and calls per user, from the emulator's metrics.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { createInterface, type Interface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { InvocationContext } from "@azure/functions";
import { startEmulator } from "../local/graph-emulator/index.js";
import { provisionChunk, type ProvisionChunkResult } from "../activities/provisionChunk.js";
import { GraphAccess } from "../shared/graph/client.js";
import { AdaptiveLimiter } from "../shared/graph/throttle.js";
import { DEFAULT_RUN_TUNING, runKeys, type ChunkItem } from "../shared/run/index.js";
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
  for await (const line of createInterface({ input: process.stdin })) {
    const chunkNo = Number(line);
    const result = await provisionChunk(
      { runId: RUN_ID, chunkNo, logPhoneNumbers: "masked" },
      context,
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
}

/** A running worker process and its answers, in order. */
class Host {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly waiting: ((line: string) => void)[] = [];

  constructor(setup: WorkerSetup) {
    const self = fileURLToPath(import.meta.url);
    this.child = spawn(process.execPath, ["--import", "tsx", self, "--worker"], {
      stdio: ["pipe", "pipe", "inherit"],
      env: { ...process.env, TWO_HOSTS_SETUP: JSON.stringify(setup) },
    });
    this.lines = createInterface({ input: this.child.stdout! });
    this.lines.on("line", (line) => this.waiting.shift()?.(line));
  }

  /** Writes one chunk in this process. */
  write(chunkNo: number): Promise<ProvisionChunkResult> {
    return new Promise((resolve) => {
      this.waiting.push((line) => resolve(JSON.parse(line) as ProvisionChunkResult));
      this.child.stdin!.write(`${chunkNo}\n`);
    });
  }

  close(): void {
    this.child.stdin!.end();
  }
}

async function main(): Promise<void> {
  const users = Number(arg("users", "3000"));
  const chunkSize = Number(arg("chunk-size", String(DEFAULT_RUN_TUNING.chunkSize)));
  const parallel = process.argv.includes("--parallel");
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
    const hosts = [new Host(setup), new Host(setup)];
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
    } else {
      for (const c of chunks) {
        count(await (hosts[oneHost ? 0 : c % 2] as Host).write(c));
      }
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
          : oneHost
            ? "one writing chunk, one host"
            : "one writing chunk, handed over",
        quota: describeQuota(emulator.config),
        header: emulator.config.phoneWriteUsageHeader,
        users,
        created,
        chunkSize,
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
