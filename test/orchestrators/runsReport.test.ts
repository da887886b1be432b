/**
 * GET /api/runs/{id}/report: the stored report page with its policy headers, for the callers who
 * may read a run's status, and 404 before the run has written one.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { HttpRequest, InvocationContext, type HttpResponseInit } from "@azure/functions";
import type * as df from "durable-functions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appModules } from "../../local/cli/localRun.js";
import { startLocalHost, type LocalHost } from "../../local/host/index.js";
import { forRun, getRunReport } from "../../orchestrators/runsApi.js";

/** The report route as the app serves it: the run found (400/404) before the handler. */
const reportRoute = (req: HttpRequest, client: df.DurableClient): Promise<HttpResponseInit> =>
  forRun(getRunReport)(req, client, new InvocationContext(), { name: "reader", roles: [] });
import { REPORT_CSP } from "../../shared/report/html.js";
import { setServices, type Services } from "../../shared/services.js";
import { loadSettings } from "../../shared/settings/index.js";
import { FsRunStore } from "../../shared/store/index.js";
import { testRunOutput } from "../support/runFixtures.js";

const RUN = "run-20261201T020000Z-ab12";
const PAGE = "<!doctype html><title>report of run-20261201T020000Z-ab12</title>";

/** A Durable client that knows the given instances. */
function client(
  instances: Record<string, Partial<df.DurableOrchestrationStatus>>,
): df.DurableClient {
  return {
    getStatus: async (id: string) =>
      instances[id] ? { instanceId: id, ...instances[id] } : undefined,
  } as unknown as df.DurableClient;
}

const request = (id: string): HttpRequest =>
  new HttpRequest({
    method: "GET",
    url: `https://app.example/api/runs/${encodeURIComponent(id)}/report`,
    params: { id },
  });

describe("GET /api/runs/{id}/report", () => {
  let dir: string;
  let inAzure = false;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-report-api-"));
    await mkdir(path.join(dir, "runs", RUN), { recursive: true });
    await writeFile(path.join(dir, "runs", RUN, "report.html"), PAGE);
    const settings = loadSettings({});
    setServices({
      get settings() {
        return { ...settings, websiteInstanceId: inAzure ? "instance-1" : undefined };
      },
      store: new FsRunStore(dir),
    } as unknown as Services);
  });
  afterAll(async () => {
    setServices(undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it("serves the stored page as HTML with a policy that forbids the network and framing", async () => {
    const runs = client({
      [RUN]: {
        name: "nightlyRun",
        runtimeStatus: "Completed" as df.OrchestrationRuntimeStatus,
        output: testRunOutput({ runId: RUN }),
      },
    });
    const response = await reportRoute(request(RUN), runs);
    expect(response.status).toBe(200);
    expect(response.body).toBe(PAGE);
    expect(response.headers).toEqual({
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": `${REPORT_CSP}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
    });
  });

  it("serves a rerun's page: the report of the run it repaired", async () => {
    const rerun = `${RUN}-rerun-20261201T030000Z-cd34`;
    const runs = client({
      [rerun]: {
        name: "rerunFailed",
        runtimeStatus: "Completed" as df.OrchestrationRuntimeStatus,
        output: testRunOutput({ runId: RUN }),
      },
    });
    const response = await reportRoute(request(rerun), runs);
    expect(response.status).toBe(200);
    expect(response.body).toBe(PAGE);
  });

  it("answers 404 with a JSON error while a run has no report, and for unknown runs", async () => {
    const running = "run-20261202T020000Z-ef56";
    const runs = client({
      [running]: { name: "nightlyRun", runtimeStatus: "Running" as df.OrchestrationRuntimeStatus },
    });
    const response = await reportRoute(request(running), runs);
    expect(response.status).toBe(404);
    expect(response.jsonBody).toEqual({
      error: `Run '${running}' has no report yet: it is written when the run ends or waits for approval.`,
    });
    expect((await reportRoute(request("run-none"), runs)).status).toBe(404);
    expect((await reportRoute(request("not valid!"), runs)).status).toBe(400);
  });

  describe("through the app's HTTP routes", () => {
    let host: LocalHost;
    const principal = (roles: string[]): string =>
      Buffer.from(JSON.stringify({ claims: roles.map((val) => ({ typ: "roles", val })) })).toString(
        "base64",
      );
    const get = (headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${host.baseUrl}/api/runs/run-none/report`, { headers });

    beforeAll(async () => {
      host = await startLocalHost({
        stateDir: path.join(dir, "host"),
        modules: appModules(),
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
      });
    });
    afterAll(async () => {
      inAzure = false;
      await host?.stop();
    });

    it("asks in Azure for the same role as a run's status: Runs.Read or Runs.Operate", async () => {
      inAzure = true;
      expect((await get()).status).toBe(401);
      expect((await get({ "x-ms-client-principal": principal([]) })).status).toBe(403);
      for (const role of ["Runs.Read", "Runs.Operate"]) {
        // Allowed through to the handler: the run is unknown.
        const allowed = await get({ "x-ms-client-principal": principal([role]) });
        expect(allowed.status).toBe(404);
        expect(await allowed.json()).toEqual({ error: "No run has the id 'run-none'." });
      }
      const status = await fetch(`${host.baseUrl}/api/runs/run-none`, {
        headers: { "x-ms-client-principal": principal(["Runs.Read"]) },
      });
      expect(status.status).toBe(404);
    });
  });
});
