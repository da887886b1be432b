/**
 * Approving a run from the command line. A run that waits for approval is hosted by the `run` (or
 * `serve`) process that started it; that process writes where its host listens into the state
 * directory, so `approve` in another shell can reach it. When no process hosts the run, `approve`
 * hosts it itself: it resumes the run, approves it and follows it to its end.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import * as path from "node:path";
import { APPROVAL_EVENT, readRunStatus } from "../../shared/run/index.js";
import type { LocalHost } from "../host/index.js";
import type { InstanceStatus } from "../host/types.js";

/** Where a host that runs on a state directory can be reached. */
interface HostEndpoint {
  baseUrl: string;
  pid: number;
}

function endpointFile(stateDir: string): string {
  return path.resolve(stateDir, "host", "endpoint.json");
}

/**
 * Records where this process's host listens, for `approve` in another shell.
 *
 * @param stateDir - the state directory.
 * @param host - the running host.
 * @returns removes the record again.
 */
export async function publishEndpoint(
  stateDir: string,
  host: LocalHost,
): Promise<() => Promise<void>> {
  const file = endpointFile(stateDir);
  const endpoint: HostEndpoint = { baseUrl: host.baseUrl, pid: process.pid };
  await writeFile(file, JSON.stringify(endpoint));
  return () => rm(file, { force: true });
}

/** Who approves from this machine: the operating-system user. */
export function cliApprover(): string {
  return `cli:${userInfo().username}`;
}

/**
 * The message for a run that waits for approval, once per run.
 *
 * @param status - the run's status.
 * @param stateDir - the state directory (for the command to type).
 */
export function awaitingApprovalMessage(status: InstanceStatus, stateDir: string): string {
  const s = readRunStatus(status.customStatus);
  const a = s.approval;
  const keys = a?.reportKeys;
  const report = keys ? path.resolve(stateDir, keys.html ?? keys.csv) : "(not written)";
  return (
    `Run '${status.instanceId}' plans ${a?.planned ?? "?"} writes, more than APPROVAL_THRESHOLD (${a?.threshold ?? "?"}), ` +
    `and waits for approval until ${a?.expiresAt ?? "?"}. Review the plan: ${report}\n` +
    `Approve from another shell: mfa-prepopulate approve ${status.instanceId} --state-dir ${stateDir}\n`
  );
}

/**
 * Whether a run waits for approval now.
 *
 * @param status - the run's status.
 */
export function isAwaitingApproval(status: InstanceStatus | undefined): boolean {
  return (
    status !== undefined &&
    (status.runtimeStatus === "Running" || status.runtimeStatus === "Pending") &&
    readRunStatus(status.customStatus).phase === "awaitingApproval"
  );
}

/**
 * Approves a waiting run in a host of this process.
 *
 * @param host - the host running the run.
 * @param instanceId - the run.
 * @param by - who approves.
 */
export async function approveInHost(
  host: LocalHost,
  instanceId: string,
  by: string,
): Promise<void> {
  const status = await host.getStatus(instanceId);
  if (!isAwaitingApproval(status)) {
    throw new Error(notWaiting(instanceId, status));
  }
  await host.raiseEvent(instanceId, APPROVAL_EVENT, { by });
}

function notWaiting(instanceId: string, status: InstanceStatus | undefined): string {
  if (!status) {
    return `No run has the id '${instanceId}' in this state directory.`;
  }
  const phase = readRunStatus(status.customStatus).phase ?? "?";
  return `Run '${instanceId}' is not waiting for approval (${status.runtimeStatus}, phase ${phase}).`;
}

/**
 * Approves a waiting run through the host of another process on the same state directory.
 *
 * @param stateDir - the state directory.
 * @param instanceId - the run.
 * @param by - who approves.
 * @returns true when a running host took the approval; false when no process hosts the run.
 */
export async function approveInOtherProcess(
  stateDir: string,
  instanceId: string,
  by: string,
): Promise<boolean> {
  let endpoint: HostEndpoint;
  try {
    endpoint = JSON.parse(await readFile(endpointFile(stateDir), "utf8")) as HostEndpoint;
  } catch {
    return false;
  }
  const instance = `${endpoint.baseUrl}/runtime/webhooks/durabletask/instances/${encodeURIComponent(instanceId)}`;
  let status: InstanceStatus | undefined;
  try {
    const answer = await fetch(instance);
    status = answer.status === 404 ? undefined : ((await answer.json()) as InstanceStatus);
  } catch {
    // The process that wrote the endpoint is gone.
    return false;
  }
  if (!isAwaitingApproval(status)) {
    throw new Error(notWaiting(instanceId, status));
  }
  const raised = await fetch(`${instance}/raiseEvent/${APPROVAL_EVENT}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ by }),
  });
  if (!raised.ok) {
    throw new Error(
      `The host of run '${instanceId}' refused the approval (HTTP ${raised.status}).`,
    );
  }
  return true;
}
