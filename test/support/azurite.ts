/**
 * Starts a private Azurite blob service for a test file: in memory, on 127.0.0.1 and a port the
 * OS picks, so test files can run in parallel. Stop it in `afterAll`.
 *
 * ```ts
 * let azurite: Azurite;
 * beforeAll(async () => { azurite = await startAzurite(); });
 * afterAll(async () => { await azurite?.stop(); });
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";

/** Azurite's fixed development account and key (public, documented by Microsoft). */
export const AZURITE_ACCOUNT = "devstoreaccount1";
const AZURITE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** A running Azurite blob service. */
export interface Azurite {
  /** Connection string for `@azure/storage-blob` (`BlobServiceClient.fromConnectionString`). */
  connectionString: string;
  /** The account's blob endpoint, e.g. `http://127.0.0.1:40123/devstoreaccount1`. */
  blobEndpoint: string;
  /** The server's process id. */
  pid: number;
  /** Stops the server (SIGTERM, then SIGKILL after a timeout) and removes its work folder. */
  stop(): Promise<void>;
}

/** Options of {@link startAzurite}. */
export interface StartAzuriteOptions {
  /** How long to wait for the listening line (default 30 s, generous for a loaded CI machine). */
  startTimeoutMs?: number;
  /** How long to wait after SIGTERM before SIGKILL (default 5 s). */
  stopTimeoutMs?: number;
}

/**
 * Spawns `node .../azurite/dist/src/blob/main.js` directly (never `npx`, whose pid would be
 * npm's and leave the server running) and resolves once it listens.
 *
 * @param options - see {@link StartAzuriteOptions}.
 */
export async function startAzurite(options: StartAzuriteOptions = {}): Promise<Azurite> {
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  const stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
  const require = createRequire(import.meta.url);
  const entry = path.join(
    path.dirname(require.resolve("azurite/package.json")),
    "dist/src/blob/main.js",
  );
  // With in-memory persistence Azurite writes nothing, but its cwd is where a debug log or a
  // future default would land: keep that out of the repository.
  const workDir = await mkdtemp(path.join(tmpdir(), "azurite-"));
  const child = spawn(
    process.execPath,
    [
      entry,
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      "0",
      "--inMemoryPersistence",
      "--extentMemoryLimit",
      "512",
      "--skipApiVersionCheck",
      "--disableTelemetry",
      "--silent",
    ],
    { cwd: workDir, stdio: ["ignore", "pipe", "pipe"] },
  );

  // If the test process dies without calling stop() (a crash, process.exit), take the server
  // along rather than leave it orphaned on a port.
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);
  child.once("exit", () => process.off("exit", killOnExit));

  let endpoint: string;
  try {
    endpoint = await waitForListening(child, startTimeoutMs);
  } catch (error) {
    await kill(child, stopTimeoutMs);
    await rm(workDir, { recursive: true, force: true });
    throw error;
  }
  const blobEndpoint = `${endpoint}/${AZURITE_ACCOUNT}`;
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=${blobEndpoint};`,
    blobEndpoint,
    pid: child.pid ?? -1,
    async stop(): Promise<void> {
      await kill(child, stopTimeoutMs);
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

function waitForListening(child: ChildProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => {
      cleanup();
      reject(
        new Error(`Azurite: did not listen within ${timeoutMs} ms. Output: ${output.slice(-500)}`),
      );
    }, timeoutMs);
    const onData = (data: Buffer): void => {
      output += data.toString("utf8");
      const match = /listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match?.[1]) {
        cleanup();
        // Keep draining so a full pipe never blocks the server.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(match[1]);
      }
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanup();
      reject(
        new Error(
          `Azurite: exited before listening (code ${code}, signal ${signal}). Output: ${output.slice(-500)}`,
        ),
      );
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(new Error(`Azurite: could not start (${error.message}).`, { cause: error }));
    };
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

async function kill(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) {
    return;
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), timeoutMs);
  });
  const forced = await Promise.race([exited.then(() => false), timedOut]);
  clearTimeout(timer);
  if (forced) {
    child.kill("SIGKILL");
    await exited;
  }
}
