/**
 * nightlyRun's own logic, stepped without a host: the order of its steps, what it hands each
 * activity, how it fails, and the progress and ETA it publishes.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { nightlyRunOrchestration } from "../../orchestrators/nightlyRun.js";
import {
  countOutcomes,
  DEFAULT_RUN_TUNING,
  emptyCounts,
  graphWaitsSchema,
  prepareRerun,
  QUICK_CHUNK_MS,
  resolveTuning,
  runTuningSchema,
  type Outcome,
  type RunInput,
  type RunOutput,
  type RunStatus,
} from "../../shared/run/index.js";
import { driveOrchestration, type ScheduledCall } from "../support/orchestrationDriver.js";
import { testRunSettings } from "../support/runFixtures.js";

const input: RunInput = {
  runId: "run-1",
  trigger: "timer",
  settings: testRunSettings({ excludeGroups: ["Break Glass"] }),
  tuning: resolveTuning({ pagesPerPlan: 2, chunksPerWave: 2, wavesInFlight: 1 }),
};

/** A tenant of 3 user pages, 2 report pages, 1 exclusion page; each plan call plans 2 chunks of writes. */
function tenantAnswers(overrides: Partial<Record<string, (call: ScheduledCall) => unknown>> = {}) {
  const created = (chunkNos: number[]) =>
    countOutcomes(
      chunkNos.flatMap((c) =>
        Array.from({ length: 5 }, (_, i): Outcome => ({ userId: `u${c}-${i}`, result: "created" })),
      ),
    );
  const answers: Record<string, (call: ScheduledCall) => unknown> = {
    resolveScope: () => ({ ok: true, excluded: [{ id: "g-bg", displayName: "Break Glass" }] }),
    readRoleHolders: () => ({ ok: true, holders: 4 }),
    fetchAuditPage: () => ({ ok: true, pages: 1, items: 7 }),
    fileCensus: () => ({ users: 1000, withValue: 900 }),
    settleCensus: (c) =>
      (c.input as { shard: number }).shard === 0
        ? { unsettled: 2, changed: 3, sharedNumbers: 1, sharedHolders: 30 }
        : { unsettled: 0, changed: 0, sharedNumbers: 0, sharedHolders: 0 },
    fetchReportPage: (c) =>
      (c.input as { cursor?: string }).cursor
        ? { ok: true, pages: 1, items: 999 }
        : { ok: true, pages: 1, items: 999, nextCursor: "report-2" },
    fetchUsersPage: (c) =>
      (c.input as { list: string }).list === "excluded"
        ? { ok: true, pages: 1, items: 2 }
        : { ok: true, pages: 3, items: 2500 },
    planChunks: (c) => {
      const { firstChunkNo } = c.input as { firstChunkNo: number };
      return {
        decisions: { create: 10, "skip:guest": 5 },
        byMethod: { mobile: { create: 10, "skip:guest": 5 } },
        users: 15,
        withoutMfa: 12,
        writes: 10,
        chunks: 2,
        nextChunkNo: firstChunkNo + 2,
      };
    },
    provisionWave: (c) => {
      const { chunkNos } = c.input as { chunkNos: number[] };
      return {
        results: chunkNos.map((chunkNo) => ({
          chunkNo,
          ok: true,
          counts: created([chunkNo]),
          throttled: 1,
        })),
      };
    },
    refreshHolders: () => ({ ok: true, excluded: 3, roleHolders: 4 }),
    countReadiness: () => ({
      counted: 1998,
      smsOrVoiceOnly: 40,
      noMethod: 900,
      phishingResistant: 12,
    }),
    checkMethodsPolicy: () => ({
      ok: true,
      methods: [{ method: "mobile", configurations: [], planned: 20, covered: 20, notCovered: 0 }],
      notes: [],
    }),
    releaseRunLock: () => null,
    recheckChunks: (c) => ({ changed: (c.input as { chunkNos: number[] }).chunkNos.length }),
    summarizeRun: () => ({
      counts: { ...emptyCounts(), candidates: 30, planned: 20, created: 20, skipped: 10 },
      retryableChunks: [],
      reportKeys: { json: "runs/run-1/report.json", csv: "runs/run-1/report.csv" },
    }),
    ...overrides,
  };
  return (call: ScheduledCall): unknown => {
    const answer = answers[call.name];
    if (!answer) {
      throw new Error(`unexpected call to '${call.name}'`);
    }
    return answer(call);
  };
}

const phases = (statuses: Record<string, unknown>[]): string[] =>
  statuses.map((s) => s.phase as string).filter((p, i, all) => p !== all[i - 1]);

describe("nightlyRun", () => {
  it("runs discover, census, plan, provision and summarize in order, the report before the users", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers(),
    });
    expect(run.error).toBeUndefined();
    expect(run.calls.map((c) => c.name)).toEqual([
      "resolveScope",
      "fetchReportPage",
      "fetchReportPage",
      "countReadiness",
      "readRoleHolders",
      "fetchAuditPage",
      "fetchUsersPage",
      "fetchUsersPage",
      "fileCensus",
      "fileCensus",
      ...Array.from({ length: 16 }, () => "settleCensus"),
      "planChunks",
      "planChunks",
      "checkMethodsPolicy",
      "provisionWave",
      "provisionWave",
      "summarizeRun",
      "releaseRunLock",
    ]);
    expect(phases(run.statuses)).toEqual([
      "resolvingScope",
      "discovering",
      "checkingNumbers",
      "planning",
      "checkingPolicy",
      "provisioning",
      "summarizing",
      "completed",
    ]);
  });

  it("pages on from the cursor and numbers pages across calls and groups", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers(),
    });
    const fetches = run.calls.filter((c) => c.name.startsWith("fetch")).map((c) => c.input);
    expect(fetches).toEqual([
      { runId: "run-1", maxPages: 10, firstPageNo: 0 },
      { runId: "run-1", maxPages: 10, firstPageNo: 1, cursor: "report-2" },
      // The audit log over the settle period, from the run's start (orchestration time).
      { runId: "run-1", since: "2026-11-28T02:00:00.000Z", maxPages: 10, firstPageNo: 0 },
      {
        runId: "run-1",
        list: "excluded",
        source: { kind: "groupMembers", groupId: "g-bg" },
        maxPages: 10,
        firstPageNo: 0,
      },
      {
        runId: "run-1",
        list: "users",
        source: { kind: "allUsers" },
        maxPages: 10,
        methods: ["mobile"],
        firstPageNo: 0,
      },
    ]);
    const census = run.calls.filter((c) => c.name.endsWith("Census")).map((c) => c.input);
    expect(census.slice(0, 3)).toMatchObject([
      { fromPage: 0, toPage: 2, range: 0 },
      { fromPage: 2, toPage: 3, range: 1 },
      { shard: 0, ranges: 2, now: "2026-12-01T02:00:00.000Z", settleDays: 3, auditPages: 1 },
    ]);
    const plans = run.calls.filter((c) => c.name === "planChunks").map((c) => c.input);
    expect(plans).toMatchObject([
      { fromPage: 0, toPage: 2, reportPages: 2, excludedPages: 1, firstChunkNo: 0, writesSoFar: 0 },
      { fromPage: 2, toPage: 3, firstChunkNo: 2, writesSoFar: 10 },
    ]);
  });

  it("provisions every planned chunk in waves with the run's own log mode and tuning", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers(),
      instanceId: "run-1",
    });
    const waves = run.calls.filter((c) => c.name === "provisionWave");
    expect(waves.map((w) => [w.instanceId, w.input])).toEqual([
      [
        "run-1:wave:0",
        {
          runId: "run-1",
          chunkNos: [0, 1],
          chunksInFlight: 1,
          retryFailed: false,
          logPhoneNumbers: "masked",
          retryIntervalMs: 5_000,
          graphWaits: input.tuning.graphWaits,
          takeTurns: true,
          // A run's first wave takes turns from its start (a slow first chunk costs only the
          // second's wait).
          quickStart: true,
        },
      ],
      [
        "run-1:wave:1",
        {
          runId: "run-1",
          chunkNos: [2, 3],
          chunksInFlight: 1,
          retryFailed: false,
          logPhoneNumbers: "masked",
          retryIntervalMs: 5_000,
          graphWaits: input.tuning.graphWaits,
          takeTurns: true,
          // The first wave's chunks took a second each: quick.
          quickStart: true,
        },
      ],
    ]);
  });

  it("starts the next wave's chunks one after the other when the wave before had slow chunks", () => {
    // Act: each wave (two chunks, answered as one task) takes longer than two quick chunks (a
    // quota of a few writes a second).
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers(),
      instanceId: "run-1",
      stepMs: 2 * QUICK_CHUNK_MS + 2_000,
    });

    // Assert
    const waves = run.calls.filter((c) => c.name === "provisionWave");
    expect(waves.map((w) => (w.input as { quickStart?: boolean }).quickStart)).toEqual([
      true,
      false,
    ]);
  });

  it("writes with one wave and one chunk at a time, whatever the run's fan-out tuning", () => {
    // One writing chunk per run is the write budget across instances, not a tuning.
    const wide = { ...input, tuning: { ...input.tuning, wavesInFlight: 3, chunksInFlight: 4 } };
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input: wide,
      answer: tenantAnswers(),
      instanceId: "run-1",
    });
    const waveYields = run.yields
      .map((y) => y.filter((c) => c.name === "provisionWave"))
      .filter((y) => y.length > 0);
    expect(waveYields.map((y) => y.map((c) => c.instanceId))).toEqual([
      ["run-1:wave:0"],
      ["run-1:wave:1"],
    ]);
    expect(
      waveYields.flat().map((c) => (c.input as { chunksInFlight: number }).chunksInFlight),
    ).toEqual([1, 1]);
  });

  it("publishes pages, plan counts, chunks, rate and an ETA from the measured pace", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers(),
      stepMs: 60_000,
    });
    const statuses = run.statuses as unknown as RunStatus[];
    const planned = statuses.filter((s) => s.phase === "planning").at(-1);
    expect(planned?.pages).toEqual({ users: 3, report: 2, excluded: 1 });
    expect(planned?.numbers).toEqual({
      unsettled: 2,
      changed: 3,
      sharedNumbers: 1,
      sharedHolders: 30,
      auditRead: true,
    });
    expect(planned?.plan).toEqual({ create: 20, "skip:guest": 10 });
    expect(planned?.counts.candidates).toBe(30);
    expect(planned?.counts.planned).toBe(20);
    expect(planned?.chunks.total).toBe(4);

    const provisioning = statuses.filter((s) => s.phase === "provisioning");
    // Waves start one minute apart; the first is answered one minute after provisioning began.
    const afterFirst = provisioning.find((s) => s.chunks.done > 0) as RunStatus;
    // While the first wave runs, the status names it, for readers to add its finished chunks.
    expect(provisioning[1]?.wavesRunning).toEqual(["run-1:wave:0"]);
    expect(afterFirst.wavesRunning).toBeUndefined();
    expect(afterFirst.chunks).toEqual({ total: 4, done: 2, failed: 0 });
    expect(afterFirst.counts.created).toBe(10);
    expect(afterFirst.throttled).toBe(2);
    expect(afterFirst.usersPerHour).toBe(600);
    // 10 of 20 users in one minute: the other 10 take one more minute.
    expect(Date.parse(afterFirst.etaAt as string) - Date.parse(afterFirst.updatedAt)).toBe(60_000);
  });

  it("returns the run's settings, tuning, counts, plan and report keys", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers(),
    });
    const output = run.output as RunOutput;
    expect(output).toMatchObject({
      runId: "run-1",
      dryRun: false,
      settings: input.settings,
      tuning: input.tuning,
      plan: { create: 20, "skip:guest": 10 },
      failedChunks: [],
      chunks: 4,
      userPages: 3,
      withoutMfa: 24,
      throttled: 4,
      reportKeys: { json: "runs/run-1/report.json", csv: "runs/run-1/report.csv" },
    });
    expect(output.counts.created).toBe(20);
  });

  it("writes nothing in a dry run: no wave is scheduled and the summary knows", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input: { ...input, settings: { ...input.settings, dryRun: true } },
      answer: tenantAnswers(),
    });
    expect(run.error).toBeUndefined();
    expect(run.calls.some((c) => c.name === "provisionWave")).toBe(false);
    const summary = run.calls.find((c) => c.name === "summarizeRun");
    expect(summary?.input).toMatchObject({ dryRun: true, chunks: 4 });
  });

  it("fails with the scope's message, before paging anything, when a group cannot be resolved", () => {
    const message = "EXCLUDE_GROUPS: no group is named 'Break Glass'.";
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers({ resolveScope: () => ({ ok: false, error: message }) }),
    });
    expect(run.error?.message).toBe(message);
    // Nothing is paged; the one-run lock is given back.
    expect(run.calls.map((c) => c.name)).toEqual(["resolveScope", "releaseRunLock"]);
    expect(run.statuses.at(-1)).toMatchObject({ phase: "failed", message });
  });

  it("stops when admin status cannot be determined, before any user is paged", () => {
    const message = "Admin status cannot be determined, so nothing is written: GraphClient: ...";
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers({ readRoleHolders: () => ({ ok: false, error: message }) }),
    });
    expect(run.error?.message).toBe(message);
    expect(run.calls.filter((c) => c.name === "fetchUsersPage")).toEqual([]);
  });

  it("reads neither role holders nor the audit log when admins are included and the settle guard is off", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input: { ...input, settings: { ...input.settings, skipAdmins: false, numberSettleDays: 0 } },
      answer: tenantAnswers(),
    });
    expect(run.error).toBeUndefined();
    const names = run.calls.map((c) => c.name);
    expect(names).not.toContain("readRoleHolders");
    expect(names).not.toContain("fetchAuditPage");
    expect(run.calls.find((c) => c.name === "planChunks")?.input).toMatchObject({
      roleHoldersRead: false,
    });
  });

  it("stops at the report when the tenant has no licence, before any user is paged", () => {
    const message =
      "Graph: the tenant needs Microsoft Entra ID P1 or P2 for the registration report.";
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers({ fetchReportPage: () => ({ ok: false, error: message }) }),
    });
    expect(run.error?.message).toBe(message);
    expect(run.calls.filter((c) => c.name === "fetchUsersPage")).toEqual([]);
    expect(run.statuses.at(-1)).toMatchObject({ phase: "failed", message });
  });

  it("stops provisioning and fails with the permission message when a wave reports a fatal error", () => {
    const message = "Graph: the app lacks 'UserAuthenticationMethod.ReadWrite.All'.";
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: tenantAnswers({ provisionWave: () => ({ results: [], fatal: message }) }),
    });
    expect(run.error?.message).toBe(message);
    expect(run.calls.filter((c) => c.name === "provisionWave")).toHaveLength(1);
    expect(run.calls.some((c) => c.name === "summarizeRun")).toBe(false);
    expect(run.statuses.at(-1)).toMatchObject({ phase: "failed", message });
  });

  it("lists the chunks of a wave whose orchestration failed, and still summarizes", () => {
    const answer = tenantAnswers();
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input,
      answer: (call) => {
        if (call.name === "provisionWave" && call.instanceId === "run-1:wave:1") {
          throw new Error("the wave's host died");
        }
        return answer(call);
      },
    });
    expect(run.error).toBeUndefined();
    expect((run.output as RunOutput).failedChunks).toEqual([2, 3]);
  });

  /** Chunk 0 done, then Graph unavailable: chunk 1 unfinished and wave 1 (chunks 2, 3) not begun. */
  const outageAnswers = (probes: boolean[]) => {
    const answer = tenantAnswers();
    const down = "Graph unavailable: 5 batches in a row got only 5xx answers or none in 60 s.";
    let probe = 0;
    return (call: ScheduledCall): unknown => {
      if (call.name === "provisionWave" && call.instanceId === "run-1:wave:0") {
        return {
          results: [{ chunkNo: 0, ok: true, counts: emptyCounts(), throttled: 0 }],
          unavailable: down,
          unfinished: [1],
        };
      }
      if (call.name === "probeGraph") {
        return probes[probe++] ? { up: true } : { up: false, why: "503 'serviceNotAvailable'" };
      }
      return answer(call);
    };
  };
  const outageInput = {
    ...input,
    tuning: { ...input.tuning, outagePauseMs: 300_000, outagePauses: 3 },
  };

  it("pauses on a durable timer when Graph is unavailable, probes, and resumes with the unfinished chunks only", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input: outageInput,
      answer: outageAnswers([false, true]),
    });
    expect(run.error).toBeUndefined();
    const waves = run.calls.filter((c) => c.name === "provisionWave" || c.name === "probeGraph");
    expect(waves.map((c) => c.instanceId ?? c.name)).toEqual([
      "run-1:wave:0",
      "probeGraph",
      "probeGraph",
      "run-1:wave:0:r1",
      "run-1:wave:1:r1",
    ]);
    // Wave 1 never started before the outage; the resume takes chunk 1 with it.
    expect(waves.slice(3).map((c) => (c.input as { chunkNos: number[] }).chunkNos)).toEqual([
      [1, 2],
      [3],
    ]);
    // Two pauses of 5 minutes each, one before each probe.
    expect(run.timers).toHaveLength(2);
    const probes = waves.filter((c) => c.name === "probeGraph");
    probes.forEach((p, i) => {
      expect(p.at.getTime()).toBeGreaterThanOrEqual((run.timers[i] as Date).getTime());
    });
    expect(
      run.statuses.some(
        (s) => String(s.message).startsWith("Paused until") && s.phase === "provisioning",
      ),
    ).toBe(true);
    const output = run.output as RunOutput;
    expect(output.failedChunks).toEqual([]);
    expect(output.failure).toBeUndefined();
    expect(run.statuses.at(-1)).toMatchObject({ phase: "completed" });
  });

  it("gives up after the tuning's pauses: report and output complete, phase failed with 'Graph unavailable', unfinished chunks listed for a rerun", () => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input: outageInput,
      answer: outageAnswers([false, false, false, true]),
    });
    expect(run.error).toBeUndefined();
    expect(run.calls.filter((c) => c.name === "probeGraph")).toHaveLength(3);
    expect(run.calls.filter((c) => c.name === "provisionWave")).toHaveLength(1);
    expect(run.calls.some((c) => c.name === "summarizeRun")).toBe(true);
    const output = run.output as RunOutput;
    expect(output.failedChunks).toEqual([1, 2, 3]);
    expect(output.failure).toMatch(
      /^Graph unavailable: no answer through 3 pauses; 3 chunks unfinished/,
    );
    expect(run.statuses.at(-1)).toMatchObject({ phase: "failed", message: output.failure });
    const rerun = prepareRerun(
      { instanceId: "run-1", runtimeStatus: "Completed", output },
      { maxAgeHours: 24, now: new Date(Date.parse(output.finishedAt) + 60_000) },
    );
    expect(rerun).not.toHaveProperty("error");
  });

  it.each([
    [
      "a missing safety setting",
      { ...input, settings: { ...input.settings, skipAdmins: undefined } },
      "'settings.skipAdmins'",
    ],
    [
      "no write cap",
      { ...input, settings: { ...input.settings, maxWritesPerRun: undefined } },
      "'settings.maxWritesPerRun'",
    ],
    [
      "an unknown key",
      { ...input, settings: { ...input.settings, skipAdminsOverride: false } },
      "unknown keys 'skipAdminsOverride'",
    ],
    [
      "a wrong type",
      { ...input, settings: { ...input.settings, dryRun: "false" } },
      "'settings.dryRun'",
    ],
    ["no tuning", { ...input, tuning: undefined }, "'tuning'"],
  ])("refuses an input with %s before calling anything", (_, bad, named) => {
    const run = driveOrchestration(nightlyRunOrchestration.handler, {
      input: bad,
      answer: tenantAnswers(),
    });
    expect(run.error?.message).toMatch(/^nightlyRun: the input is refused: /);
    expect(run.error?.message).toContain(named);
    expect(run.calls).toEqual([]);
  });

  describe("bounds of the tuning, against an input made by hand", () => {
    /** The number schema of a tuning field (`graphWaits.x` for a wait), optional or not. */
    const numberSchema = (field: string): z.ZodNumber => {
      const [first, second] = field.split(".") as [string, string?];
      const shape: Record<string, z.ZodType> =
        second === undefined ? runTuningSchema.shape : graphWaitsSchema.shape;
      const schema = shape[second ?? first];
      return (schema instanceof z.ZodOptional ? schema.unwrap() : schema) as z.ZodNumber;
    };
    /** The run's input with one tuning field (`graphWaits.x` for a wait) set to a value. */
    const withTuning = (field: string, value: number): RunInput => {
      const [first, second] = field.split(".") as [keyof RunInput["tuning"], string?];
      const tuning =
        second === undefined
          ? { ...DEFAULT_RUN_TUNING, [first]: value }
          : {
              ...DEFAULT_RUN_TUNING,
              graphWaits: { ...DEFAULT_RUN_TUNING.graphWaits, [second]: value },
            };
      return { ...input, tuning };
    };
    const refusal = (bad: RunInput) => {
      const run = driveOrchestration(nightlyRunOrchestration.handler, {
        input: bad,
        answer: tenantAnswers(),
      });
      return { message: run.error?.message ?? "", calls: run.calls };
    };

    it.each([
      "pagesPerCall",
      "pagesPerPlan",
      "chunkSize",
      "chunksPerWave",
      "chunksInFlight",
      "wavesInFlight",
      "retryIntervalMs",
      "outagePauseMs",
      "outagePauses",
      "graphWaits.readAfterWriteMs",
      "graphWaits.retryBaseMs",
      "graphWaits.graphDownMs",
    ])("refuses %s above its bound, naming it, before calling anything", (field) => {
      // Arrange
      const max = numberSchema(field).maxValue;
      expect(max).not.toBeNull();
      const atMax = refusal(withTuning(field, max as number));

      // Act
      const above = refusal(withTuning(field, (max as number) + 1));

      // Assert
      expect(atMax.message).not.toMatch(/the input is refused/);
      expect(above.message).toMatch(/^nightlyRun: the input is refused: /);
      expect(above.message).toContain(`'tuning.${field}'`);
      expect(above.calls).toEqual([]);
    });

    it.each([
      ["graphWaits.readAfterWriteMs", 0],
      ["outagePauseMs", 0],
    ])("refuses %s of %i (a read back at once, a pause that is none)", (field, value) => {
      const { message, calls } = refusal(withTuning(field, value));
      expect(message).toContain(`'tuning.${field}'`);
      expect(calls).toEqual([]);
    });

    it("takes the default tuning", () => {
      const { message, calls } = refusal({ ...input, tuning: resolveTuning() });
      expect(message).not.toMatch(/the input is refused/);
      expect(calls.length).toBeGreaterThan(0);
    });
  });

  describe("a plan above APPROVAL_THRESHOLD", () => {
    const braked: RunInput = {
      ...input,
      settings: { ...input.settings, approvalThreshold: 10, approvalTimeoutHours: 20 },
    };

    it("writes the plan's report, waits for approval, re-checks groups and roles, then writes", () => {
      const run = driveOrchestration(nightlyRunOrchestration.handler, {
        input: braked,
        answer: tenantAnswers(),
        events: { approve: { by: "ops@contoso.example" } },
      });
      expect(run.error).toBeUndefined();
      const names = run.calls.map((c) => c.name);
      // The policy pre-flight runs right after planning, before the plan's report.
      const planned = names.lastIndexOf("checkMethodsPolicy");
      expect(names[planned - 1]).toBe("planChunks");
      expect(names.slice(planned + 1, planned + 6)).toEqual([
        "summarizeRun",
        "refreshHolders",
        "recheckChunks",
        "recheckChunks",
        "provisionWave",
      ]);
      // Every planned chunk is re-checked for group and role changes (not re-read user by user).
      const rechecks = run.calls.filter((c) => c.name === "recheckChunks");
      expect(rechecks.flatMap((c) => (c.input as { chunkNos: number[] }).chunkNos)).toEqual([
        0, 1, 2, 3,
      ]);
      expect(
        rechecks.every((c) => (c.input as { rereadUsers: boolean }).rereadUsers === false),
      ).toBe(true);
      expect(run.calls[planned + 1]?.input).toMatchObject({
        dryRun: true,
        unwrittenOutcome: "awaitingApproval",
      });
      const waiting = (run.statuses as unknown as RunStatus[]).find(
        (s) => s.phase === "awaitingApproval",
      );
      expect(waiting?.approval).toMatchObject({
        threshold: 10,
        planned: 20,
        reportKeys: { csv: "runs/run-1/report.csv" },
      });
      expect(
        Date.parse(waiting?.approval?.expiresAt ?? "") - Date.parse(waiting?.updatedAt ?? ""),
      ).toBe(20 * 3_600_000);
      expect((run.output as RunOutput).approval).toMatchObject({
        status: "approved",
        by: "ops@contoso.example",
        threshold: 10,
        planned: 20,
      });
    });

    it("ends as notApproved with nothing written when no approval comes before the timeout", () => {
      const run = driveOrchestration(nightlyRunOrchestration.handler, {
        input: braked,
        answer: tenantAnswers(),
      });
      expect(run.error).toBeUndefined();
      const names = run.calls.map((c) => c.name);
      expect(names).not.toContain("provisionWave");
      expect(names).not.toContain("refreshHolders");
      const summaries = run.calls.filter((c) => c.name === "summarizeRun");
      expect(summaries.at(-1)?.input).toMatchObject({
        dryRun: true,
        unwrittenOutcome: "notApproved",
      });
      expect(run.statuses.at(-1)).toMatchObject({ phase: "notApproved" });
      expect((run.output as RunOutput).approval).toEqual({
        status: "notApproved",
        threshold: 10,
        planned: 20,
      });
    });

    it("does not ask when the threshold is 0, nor for a dry run", () => {
      for (const settings of [
        { ...input.settings, approvalThreshold: 0 },
        { ...input.settings, approvalThreshold: 10, dryRun: true },
      ]) {
        const run = driveOrchestration(nightlyRunOrchestration.handler, {
          input: { ...input, settings },
          answer: tenantAnswers(),
        });
        expect(run.statuses.some((s) => s.phase === "awaitingApproval")).toBe(false);
        expect((run.output as RunOutput).approval).toBeUndefined();
      }
    });
  });
});
