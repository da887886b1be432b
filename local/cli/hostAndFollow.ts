/**
 * What `run`, `plan`, `rerun` and `demo` share: the local host on a state directory, one instance
 * followed with live progress until it ends, the summary (and the contract's JSON line with
 * `--json`), and exit code 0 only when the instance completed.
 */
import { mkdir } from "node:fs/promises";
import * as path from "node:path";
import type { GraphCredential } from "../../shared/graph/credentials.js";
import { readRunStatus, withWavesInFlight } from "../../shared/run/index.js";
import type { Settings } from "../../shared/settings/index.js";
import type { LocalHost } from "../host/index.js";
import type { InstanceStatus } from "../host/types.js";
import {
  approveInHost,
  awaitingApprovalMessage,
  cliApprover,
  isAwaitingApproval,
  publishEndpoint,
} from "./approval.js";
import { fileLogger } from "./fileLogger.js";
import { follow, startAppHost } from "./localRun.js";
import { ProgressView } from "./progress.js";
import { printSummary, runJson } from "./summary.js";

/** Options of {@link hostAndFollow}. */
export interface HostAndFollowOptions {
  /** The `--state-dir`: host state, run store (unless `RUN_STORE` is set) and `logs/host.log`. */
  stateDir: string;
  settings: Settings;
  /** Print the contract's JSON object as the last stdout line. */
  json?: boolean;
  /** When the command started (default: now); the JSON's `durationMs` counts from it. */
  started?: number;
  /** Runs after the summary and before the JSON line (the demo adds its details there). */
  afterSummary?: (final: InstanceStatus, logFile: string) => Promise<void>;
  /**
   * Approve the run when it waits for approval (`run --approve`: the operator running the CLI by
   * hand is the person who approves); otherwise say how to approve from another shell.
   */
  approve?: boolean;
  /** The emulator's time scale when Graph is a time-scaled emulator (the demo): progress says so. */
  timeScale?: number;
  /** The Graph credential of an administrator who signed in before the host started. */
  credential?: GraphCredential;
}

/**
 * Starts the local host, starts or resumes an instance with `begin`, shows its progress until it
 * ends, prints the summary, and exits.
 *
 * @param options - see {@link HostAndFollowOptions}.
 * @param begin - starts (or finds) the instance to follow and returns its id.
 */
export async function hostAndFollow(
  options: HostAndFollowOptions,
  begin: (host: LocalHost, logFile: string) => Promise<string>,
): Promise<never> {
  const started = options.started ?? Date.now();
  const logFile = path.resolve(options.stateDir, "logs", "host.log");
  await mkdir(path.dirname(logFile), { recursive: true });
  const logger = fileLogger(logFile);
  const host = await startAppHost(options.stateDir, options.settings, {
    logger,
    credential: options.credential,
  });
  const unpublish = await publishEndpoint(options.stateDir, host);
  const instanceId = await begin(host, logFile);
  const view = new ProgressView({ timeScale: options.timeScale });
  let told = false;
  const final = await follow(host, instanceId, async (s) => {
    // The chunks the run's waves in flight finished since it last published its status.
    const custom = readRunStatus(s.customStatus);
    const waves = await Promise.all(
      (custom.wavesRunning ?? []).map(async (id) => (await host.getStatus(id))?.customStatus),
    );
    view.update({ ...s, customStatus: withWavesInFlight(custom, waves) });
    if (!told && isAwaitingApproval(s)) {
      told = true;
      view.note(
        options.approve
          ? `Run '${instanceId}' waits for approval; --approve approves it as ${cliApprover()}.\n`
          : awaitingApprovalMessage(s, options.stateDir),
      );
      if (options.approve) {
        void approveInHost(host, instanceId, cliApprover());
      }
    }
  });
  view.stop();
  await unpublish();
  await host.stop();
  await logger.close();
  const result = runJson(final, Date.now() - started);
  printSummary(result);
  await options.afterSummary?.(final, logFile);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
  }
  process.exit(final.runtimeStatus === "Completed" ? 0 : 1);
}
