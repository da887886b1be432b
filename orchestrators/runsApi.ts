/**
 * The runs HTTP API (Durable client functions): start a run, list runs, read one run's progress
 * and its report page, approve a run that waits, rerun a finished run's failed chunks, cancel a
 * run. In Azure it sits
 * behind Microsoft Entra ID authentication: reading needs the app role `Runs.Read`, everything
 * that can make the product write needs `Runs.Operate`, and the caller is recorded in the run.
 * Function keys stay on too, but a key alone is not enough: anyone who can list the app's keys
 * could otherwise start writes. Errors are JSON `{ "error": "..." }` with a 4xx status, never a
 * stack trace.
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { HttpDurableClientHandler } from "durable-functions";
import * as df from "durable-functions";
import { z } from "zod";
import { authorize, type Caller, type Need } from "../shared/api/caller.js";
import { ConfigurationError } from "../shared/errors.js";
import { logEvent } from "../shared/log/events.js";
import { HTML_CONTENT_TYPE, REPORT_CSP } from "../shared/report/html.js";
import { services } from "../shared/services.js";
import {
  isRunOrchestration,
  newRunId,
  prepareRerun,
  resolveTuning,
  runSettingsFrom,
  readRunOutput,
  readRunStatus,
  withWavesInFlight,
  acquireRunLock,
  countsAsActive,
  releaseRunLock,
  runKeys,
  RUN_ID_PATTERN,
  stillWriting,
  APPROVAL_EVENT,
  type RunInput,
  type RunTrigger,
} from "../shared/run/index.js";
import { nightlyRunOrchestration } from "./nightlyRun.js";
import { rerunFailedOrchestration } from "./rerunFailed.js";

const ACTIVE = [df.OrchestrationRuntimeStatus.Running, df.OrchestrationRuntimeStatus.Pending];

const RUN_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Takes the one-run lock for a new run, asking the Durable client whether the holder is still
 * active (running, pending, suspended, or terminated while a chunk still writes).
 *
 * @param client - the Durable client.
 * @param runId - the run to start.
 */
async function takeRunLock(
  client: df.DurableClient,
  runId: string,
): Promise<{ acquired: true } | { acquired: false; heldBy: string }> {
  const { store } = services();
  return acquireRunLock(store, runId, async (holder) =>
    countsAsActive(store, holder, (await statusOf(client, holder))?.runtimeStatus),
  );
}

/**
 * Starts a nightly run unless one is in progress. Atomic: of a timer and requests racing, exactly
 * one starts a run (the run store's lock decides).
 *
 * @param client - the Durable client.
 * @param trigger - who starts it.
 * @param options - a dry run asked for by the caller (it can only ask for less than the
 *   settings allow), and who started it.
 * @returns the new run's id, or the running one's with `started: false`.
 */
export async function startRunIfIdle(
  client: df.DurableClient,
  trigger: RunTrigger,
  options: { dryRun?: boolean; startedBy?: Caller } = {},
): Promise<{ started: boolean; runId: string; dryRun: boolean }> {
  const { settings, store } = services();
  const runId = newRunId(trigger === "timer" ? "nightly" : "run");
  const lock = await takeRunLock(client, runId);
  if (!lock.acquired) {
    return { started: false, runId: lock.heldBy, dryRun: settings.dryRun };
  }
  const input: RunInput = {
    runId,
    trigger,
    settings: runSettingsFrom(settings, options.dryRun),
    tuning: resolveTuning(),
    ...(options.startedBy ? { startedBy: startedByOf(options.startedBy) } : {}),
  };
  try {
    await nightlyRunOrchestration.start(client, { instanceId: runId, input });
  } catch (error) {
    await releaseRunLock(store, runId);
    throw error;
  }
  return { started: true, runId, dryRun: input.settings.dryRun };
}

/** The caller as a run records it. */
function startedByOf(caller: Caller): NonNullable<RunInput["startedBy"]> {
  return caller.objectId ? { name: caller.name, objectId: caller.objectId } : { name: caller.name };
}

/**
 * The status of an instance, or undefined when it does not exist.
 *
 * @param client - the Durable client.
 * @param id - instance id.
 */
export async function statusOf(
  client: df.DurableClient,
  id: string,
): Promise<df.DurableOrchestrationStatus | undefined> {
  try {
    const status = await client.getStatus(id);
    return status?.instanceId ? status : undefined;
  } catch (error) {
    if (error instanceof Error && /\b404\b/.test(error.message)) {
      return undefined;
    }
    throw error;
  }
}

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return { status, jsonBody: body, headers: { "Content-Type": "application/json", ...headers } };
}

function runView(request: HttpRequest, s: df.DurableOrchestrationStatus): Record<string, unknown> {
  const custom = readRunStatus(s.customStatus);
  const output = readRunOutput(s.output);
  const total = custom.chunks?.total ?? 0;
  const finished = (custom.chunks?.done ?? 0) + (custom.chunks?.failed ?? 0);
  const completed = s.runtimeStatus === df.OrchestrationRuntimeStatus.Completed;
  const base = new URL(request.url);
  const self = `${base.origin}/api/runs/${encodeURIComponent(s.instanceId)}`;
  return {
    id: s.instanceId,
    name: s.name,
    runtimeStatus: s.runtimeStatus,
    phase: custom.phase,
    dryRun: custom.dryRun ?? output?.dryRun,
    createdTime: s.createdTime,
    lastUpdatedTime: s.lastUpdatedTime,
    progressPercent: completed ? 100 : total > 0 ? Math.floor((finished / total) * 100) : 0,
    counts: output?.counts ?? custom.counts,
    plan: output?.plan ?? custom.plan,
    // Per method (a user counts once per method in `counts`), the readiness and the pre-flight.
    methods: output?.methods ?? custom.methods,
    readiness: output?.readiness ?? custom.readiness,
    preflight: custom.preflight,
    chunks: custom.chunks,
    throttled: output?.throttled ?? custom.throttled,
    usersPerHour: custom.usersPerHour,
    etaAt: custom.etaAt,
    failedChunks: output?.failedChunks ?? [],
    retryableChunks: output?.retryableChunks ?? [],
    reportKeys: output?.reportKeys,
    message:
      custom.message ??
      (s.runtimeStatus === df.OrchestrationRuntimeStatus.Failed ? firstLine(s.output) : undefined),
    links: { self, rerun: `${self}/rerun`, cancel: `${self}/cancel` },
  };
}

function firstLine(value: unknown): string | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return (text.split("\n")[0] ?? text).slice(0, 500);
}

/** The body of `POST /api/runs`: nothing, or `{"dryRun": true}`. */
const startBody = z.strictObject({ dryRun: z.boolean().optional() });

/** POST /api/runs: start a run (`{"dryRun": true}` for a plan only). */
export async function startRun(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  let dryRun: boolean | undefined;
  const text = await request.text();
  if (text.trim() !== "") {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return json(400, { error: 'The request body must be JSON, e.g. {"dryRun": true}.' });
    }
    const parsed = startBody.safeParse(body);
    if (!parsed.success) {
      return json(400, { error: "The body may hold only 'dryRun', true or false." });
    }
    dryRun = parsed.data.dryRun;
  }
  try {
    const result = await startRunIfIdle(client, "http", { dryRun, startedBy: caller });
    if (!result.started) {
      return json(409, {
        error: `Run '${result.runId}' is in progress; wait for it or cancel it.`,
        runningId: result.runId,
      });
    }
    logEvent(context, "runStarted", {
      runId: result.runId,
      dryRun: result.dryRun,
      by: caller.name,
    });
    const location = `${new URL(request.url).origin}/api/runs/${result.runId}`;
    const body: Record<string, unknown> = {
      id: result.runId,
      dryRun: result.dryRun,
      statusUrl: location,
    };
    if (dryRun === false && result.dryRun) {
      body.note =
        "DRY_RUN is on, so this run writes nothing: a request can ask for a dry run, never for writes. Only the DRY_RUN setting turns writes on.";
    }
    return json(202, body, { Location: location });
  } catch (error) {
    if (error instanceof ConfigurationError) {
      return json(500, { error: error.message });
    }
    throw error;
  }
}

/** GET /api/runs: recent runs, newest first. */
export async function listRuns(
  request: HttpRequest,
  client: df.DurableClient,
): Promise<HttpResponseInit> {
  const all = await client.getStatusAll();
  const runs = all
    .filter((s) => isRunOrchestration(s.name))
    .sort((a, b) => new Date(b.createdTime).getTime() - new Date(a.createdTime).getTime())
    .slice(0, 50)
    .map((s) => runView(request, s));
  return json(200, { runs });
}

/** The run a request's `{id}` names, found. */
interface FoundRun {
  id: string;
  status: df.DurableOrchestrationStatus;
}

/**
 * The run a request's `{id}` names, or the 400/404 answer when the id is malformed or unknown.
 *
 * @param request - the HTTP request with the `id` route parameter.
 * @param client - the Durable client.
 */
async function findRun(
  request: HttpRequest,
  client: df.DurableClient,
): Promise<FoundRun | { response: HttpResponseInit }> {
  const id = request.params.id ?? "";
  if (!RUN_ID.test(id)) {
    return {
      response: json(400, {
        error: "A run id holds 1 to 100 letters, digits, '.', '_', ':' or '-'.",
      }),
    };
  }
  const status = await statusOf(client, id);
  if (!status || !isRunOrchestration(status.name)) {
    return { response: json(404, { error: `No run has the id '${id}'.` }) };
  }
  return { id, status };
}

/** GET /api/runs/{id}: one run's status, counts, progress, ETA, failed chunks and links. */
export async function getRun(
  found: FoundRun,
  request: HttpRequest,
  client: df.DurableClient,
): Promise<HttpResponseInit> {
  // The chunks its waves in flight finished since the run last published its status.
  const custom = readRunStatus(found.status.customStatus);
  const waves = await Promise.all(
    (custom.wavesRunning ?? []).map(async (id) => (await statusOf(client, id))?.customStatus),
  );
  const view = runView(request, {
    ...found.status,
    customStatus: withWavesInFlight(custom, waves),
  } as df.DurableOrchestrationStatus);
  if (found.status.runtimeStatus === df.OrchestrationRuntimeStatus.Terminated) {
    // "Cancelled" only once nothing of the run still writes.
    view.phase = (await stillWriting(services().store, found.id)) ? "cancelling" : "cancelled";
  }
  return json(200, view);
}

/**
 * GET /api/runs/{id}/report: the run's report page (report.html), once the run has written one:
 * when it finished, or when its plan waits for approval. A rerun's page is the report of the run
 * it repaired. The page loads nothing; the policy header says so to the browser too, and
 * forbids framing it.
 */
export async function getRunReport(
  found: FoundRun,
  _request: HttpRequest,
  _client: df.DurableClient,
): Promise<HttpResponseInit> {
  const reportOf = readRunOutput(found.status.output)?.runId ?? found.id;
  const html =
    RUN_ID_PATTERN.test(reportOf) && !reportOf.startsWith(".")
      ? await services().store.getText(runKeys.reportHtml(reportOf))
      : undefined;
  if (html === undefined) {
    return json(404, {
      error: `Run '${found.id}' has no report yet: it is written when the run ends or waits for approval.`,
    });
  }
  return {
    status: 200,
    body: html,
    headers: {
      "Content-Type": HTML_CONTENT_TYPE,
      "Content-Security-Policy": `${REPORT_CSP}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      // The page lists users: no shared cache keeps it.
      "Cache-Control": "no-store",
    },
  };
}

/** POST /api/runs/{id}/rerun: provision a finished run's failed chunks again. */
export async function rerunRun(
  found: FoundRun,
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  const rerun = prepareRerun(found.status, {
    maxAgeHours: services().settings.rerunMaxAgeHours,
    now: new Date(),
  });
  if ("error" in rerun) {
    return json(409, { error: rerun.error });
  }
  const { rerunId, input } = rerun;
  const lock = await takeRunLock(client, rerunId);
  if (!lock.acquired) {
    return json(409, {
      error: `Run '${lock.heldBy}' is in progress; wait for it or cancel it.`,
      runningId: lock.heldBy,
    });
  }
  const source = input.source;
  try {
    await rerunFailedOrchestration.start(client, { instanceId: rerunId, input });
  } catch (error) {
    await releaseRunLock(services().store, rerunId);
    throw error;
  }
  logEvent(context, "rerunStarted", { runId: rerunId, rerunOf: source.runId, by: caller.name });
  const location = `${new URL(request.url).origin}/api/runs/${rerunId}`;
  return json(
    202,
    { id: rerunId, rerunOf: source.runId, statusUrl: location },
    { Location: location },
  );
}

/** POST /api/runs/{id}/approve: let a run that waits for approval write its plan. */
export async function approveRun(
  found: FoundRun,
  _request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  const { id, status } = found;
  const phase = readRunStatus(status.customStatus).phase;
  if (!ACTIVE.includes(status.runtimeStatus) || phase !== "awaitingApproval") {
    return json(409, {
      error: `Run '${id}' is not waiting for approval (${status.runtimeStatus}, phase ${phase ?? "unknown"}).`,
    });
  }
  await client.raiseEvent(id, APPROVAL_EVENT, { by: caller.name });
  logEvent(context, "runApproved", {
    runId: id,
    by: caller.name,
    objectId: caller.objectId ?? null,
  });
  return json(202, { id, approved: true, by: caller.name });
}

/** POST /api/runs/{id}/cancel: stop a run in progress. */
export async function cancelRun(
  found: FoundRun,
  _request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
  caller: Caller,
): Promise<HttpResponseInit> {
  const { id, status } = found;
  if (!ACTIVE.includes(status.runtimeStatus)) {
    return json(409, {
      error: `Run '${id}' is ${status.runtimeStatus}; only a run in progress can be cancelled.`,
    });
  }
  // The flag first: from here on no chunk starts another batch, whatever is still running.
  await services().store.putJson(runKeys.stopFlag(id), {
    at: new Date().toISOString(),
    by: caller.name,
  });
  const reason = `Cancelled through the runs API by ${caller.name}.`;
  await client.terminate(id, reason);
  // Terminating a parent leaves its sub-orchestrations running: end the run's waves too.
  const active = await client.getStatusBy({ runtimeStatus: ACTIVE });
  for (const wave of active.filter((s) => s.instanceId.startsWith(`${id}:wave:`))) {
    await client.terminate(wave.instanceId, reason);
  }
  logEvent(context, "runCancelled", { runId: id, by: caller.name });
  return json(202, { id, cancelled: true, phase: "cancelling" });
}

/** A route's handler: the request, the Durable client, the invocation and the checked caller. */
export type RunsHandler = (
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
  caller: Caller,
) => Promise<HttpResponseInit>;

/** A handler of a route under `runs/{id}`: it gets the run, found. */
export type RunHandler = (
  found: FoundRun,
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
  caller: Caller,
) => Promise<HttpResponseInit>;

/** A route under `runs/{id}`: answers 400 for a malformed id and 404 for an unknown run first. */
export function forRun(handler: RunHandler): RunsHandler {
  return async (request, client, context, caller) => {
    const found = await findRun(request, client);
    return "response" in found ? found.response : handler(found, request, client, context, caller);
  };
}

/**
 * Wraps a handler with the caller check: in Azure, a request without a caller or without the
 * route's role is refused before the handler runs.
 */
function guarded(need: Need, handler: RunsHandler): HttpDurableClientHandler {
  return async (request, client, context) => {
    const inAzure = services().settings.websiteInstanceId !== undefined;
    const auth = authorize(request.headers, need, inAzure);
    if ("status" in auth) {
      return json(auth.status, { error: auth.error });
    }
    return handler(request, client, context, auth.caller);
  };
}

const ROUTES: [
  name: string,
  route: string,
  method: "GET" | "POST",
  need: Need,
  handler: RunsHandler,
][] = [
  ["runsStart", "runs", "POST", "operate", startRun],
  ["runsList", "runs", "GET", "read", listRuns],
  ["runsGet", "runs/{id}", "GET", "read", forRun(getRun)],
  ["runsReport", "runs/{id}/report", "GET", "read", forRun(getRunReport)],
  ["runsApprove", "runs/{id}/approve", "POST", "operate", forRun(approveRun)],
  ["runsRerun", "runs/{id}/rerun", "POST", "operate", forRun(rerunRun)],
  ["runsCancel", "runs/{id}/cancel", "POST", "operate", forRun(cancelRun)],
];
for (const [name, route, method, need, handler] of ROUTES) {
  df.app.client.http(name, {
    route,
    methods: [method],
    authLevel: "function",
    handler: guarded(need, handler),
  });
}
