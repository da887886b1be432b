/**
 * The settings snapshot of a run: what `METHODS` becomes in it, and how runs started before the
 * setting existed replay; and what the tuning's bounds are measured against.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RUN_TUNING,
  graphWaitsSchema,
  runSettingsFrom,
  runSettingsSchema,
  runTuningSchema,
} from "../../../shared/run/index.js";
import { loadSettings } from "../../../shared/settings/index.js";

describe("the run settings snapshot", () => {
  it("takes the methods from METHODS", () => {
    const settings = runSettingsFrom(loadSettings({ METHODS: "office,mobile" }));
    expect(settings.methods).toEqual(["mobile", "office"]);
    expect(runSettingsSchema.parse(settings).methods).toEqual(["mobile", "office"]);
  });

  it("gives a snapshot written before METHODS existed the mobile phone only", () => {
    const { methods: _methods, ...older } = runSettingsFrom(loadSettings({}));
    expect(runSettingsSchema.parse(older).methods).toEqual(["mobile"]);
  });

  it("refuses a hand-made snapshot with no method, an unknown one or one twice", () => {
    const base = runSettingsFrom(loadSettings({}));
    for (const methods of [[], ["fax"], ["mobile", "mobile"]]) {
      expect(runSettingsSchema.safeParse({ ...base, methods }).success).toBe(false);
    }
  });
});

describe("the tuning's bounds", () => {
  /** The function timeout of `host.json`, in milliseconds: every activity call ends inside it. */
  const hostJson = path.join(path.dirname(fileURLToPath(import.meta.url)), "../../../host.json");
  const host = JSON.parse(readFileSync(hostJson, "utf8")) as { functionTimeout: string };
  const [hours, minutes, seconds] = host.functionTimeout.split(":").map(Number) as [
    number,
    number,
    number,
  ];
  const timeoutMs = ((hours * 60 + minutes) * 60 + seconds) * 1000;
  /** The slowest write quota seen for phone methods, writes a second (see DEFAULT_RUN_TUNING). */
  const SLOWEST_WRITES_PER_SECOND = 0.5;

  it("keeps the largest chunk's writes inside the function timeout at the slowest quota", () => {
    const most = runTuningSchema.shape.chunkSize.maxValue ?? Number.POSITIVE_INFINITY;
    // Writing alone may take at most two thirds: the chunk's read-backs and retries need room.
    expect((most / SLOWEST_WRITES_PER_SECOND) * 1000).toBeLessThanOrEqual((timeoutMs * 2) / 3);
    expect(DEFAULT_RUN_TUNING.chunkSize).toBeLessThanOrEqual(most);
  });

  it("lets a chunk find Graph down well before the function timeout", () => {
    const most = graphWaitsSchema.shape.graphDownMs.unwrap().maxValue ?? Number.POSITIVE_INFINITY;
    expect(most).toBeLessThanOrEqual(timeoutMs / 2);
  });

  it("ends a run that keeps finding Graph down within half a day", () => {
    const pause = runTuningSchema.shape.outagePauseMs.unwrap().maxValue ?? Number.POSITIVE_INFINITY;
    const pauses = runTuningSchema.shape.outagePauses.unwrap().maxValue ?? Number.POSITIVE_INFINITY;
    expect(pause * pauses).toBeLessThanOrEqual(12 * 3_600_000);
  });
});
