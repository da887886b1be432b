/**
 * GET /api/runs/{id} while provisioning: the run's status plus the chunks its waves in flight
 * finished since it last published, so progress moves with every group of chunks.
 */
import { HttpRequest, InvocationContext, type HttpResponseInit } from "@azure/functions";
import type * as df from "durable-functions";
import { describe, expect, it } from "vitest";
import { forRun, getRun } from "../../orchestrators/runsApi.js";
import { emptyCounts, type RunStatus, type WaveStatus } from "../../shared/run/index.js";

const RUN = "run-20261201T020000Z-ab12";

/** A Durable client that knows the given instances. */
function client(
  instances: Record<string, Partial<df.DurableOrchestrationStatus>>,
): df.DurableClient {
  return {
    getStatus: async (id: string) =>
      instances[id] ? { instanceId: id, ...instances[id] } : undefined,
  } as unknown as df.DurableClient;
}

const get = (runs: df.DurableClient): Promise<HttpResponseInit> =>
  forRun(getRun)(
    new HttpRequest({
      method: "GET",
      url: `https://app.example/api/runs/${RUN}`,
      params: { id: RUN },
    }),
    runs,
    new InvocationContext(),
    { name: "reader", roles: [] },
  );

const status: Partial<RunStatus> = {
  runId: RUN,
  phase: "provisioning",
  chunks: { total: 10, done: 2, failed: 0 },
  counts: { ...emptyCounts(), created: 500 },
  throttled: 1,
  wavesRunning: [`${RUN}:wave:1`, `${RUN}:wave:2`],
};

const wave = (chunksDone: number, created: number): Partial<df.DurableOrchestrationStatus> => ({
  name: "provisionWave",
  runtimeStatus: "Running" as df.OrchestrationRuntimeStatus,
  customStatus: {
    chunksDone,
    chunksFailed: 0,
    counts: { ...emptyCounts(), created },
    throttled: 0,
  } satisfies WaveStatus,
});

describe("GET /api/runs/{id} while provisioning", () => {
  it("adds the chunks the run's waves in flight finished since it published", async () => {
    const response = await get(
      client({
        [RUN]: {
          name: "nightlyRun",
          runtimeStatus: "Running" as df.OrchestrationRuntimeStatus,
          customStatus: status,
        },
        [`${RUN}:wave:1`]: wave(1, 250),
        // The second wave has finished no group of chunks yet.
        [`${RUN}:wave:2`]: {
          name: "provisionWave",
          runtimeStatus: "Running" as df.OrchestrationRuntimeStatus,
        },
      }),
    );
    expect(response.status).toBe(200);
    const body = response.jsonBody as Record<string, unknown>;
    expect(body.chunks).toEqual({ total: 10, done: 3, failed: 0 });
    expect((body.counts as { created: number }).created).toBe(750);
    expect(body.progressPercent).toBe(30);
  });
});
