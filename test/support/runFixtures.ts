/**
 * Run inputs and outputs for unit tests that do not go through a starter: the defaults of the
 * settings spec, with the overrides a test needs.
 */
import {
  emptyCounts,
  resolveTuning,
  runSettingsFrom,
  type RunOutput,
  type RunSettings,
} from "../../shared/run/index.js";
import { loadSettings } from "../../shared/settings/index.js";

/**
 * A run's settings snapshot from the spec's defaults.
 *
 * @param overrides - fields to change.
 */
export function testRunSettings(overrides: Partial<RunSettings> = {}): RunSettings {
  return { ...runSettingsFrom(loadSettings({})), ...overrides };
}

/**
 * The output of a finished run that wrote.
 *
 * @param overrides - fields to change.
 */
export function testRunOutput(overrides: Partial<RunOutput> = {}): RunOutput {
  return {
    runId: "run-1",
    dryRun: false,
    settings: testRunSettings(),
    tuning: resolveTuning(),
    excludedGroupIds: [],
    counts: emptyCounts(),
    plan: { create: 3 },
    failedChunks: [],
    retryableChunks: [],
    chunks: 1,
    userPages: 1,
    withoutMfa: 3,
    throttled: 0,
    startedAt: "2026-12-01T02:00:00.000Z",
    finishedAt: "2026-12-01T02:10:00.000Z",
    reportKeys: { json: "runs/run-1/report.json", csv: "runs/run-1/report.csv" },
    ...overrides,
  };
}
