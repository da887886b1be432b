/**
 * What the steps of a run share: its id, its settings snapshot and tuning (fixed in its input),
 * the retry options of its activities, and its progress; and what discovery found, for the steps
 * after it.
 */
import type { RetryOptions } from "durable-functions";
import type { RunSettings, RunTuning } from "../../shared/run/index.js";
import type { Discovery } from "./discover.js";
import type { RunProgress } from "./progress.js";

/** A run as every step sees it. */
export interface StepRun {
  runId: string;
  settings: RunSettings;
  tuning: RunTuning;
  retry: RetryOptions;
  progress: RunProgress;
}

/** A run after discovery. */
export interface DiscoveredRun extends StepRun {
  discovery: Discovery;
}
