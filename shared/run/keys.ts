/**
 * Where a run keeps its data in the run store, in one place. Every key is under `runs/{runId}/`.
 */

/** Lists of paged directory data a run keeps. */
export type PageList = "users" | "report" | "excluded" | "audit";

function pad(n: number): string {
  return String(n).padStart(6, "0");
}

/** Store keys of a run. */
export const runKeys = {
  page: (runId: string, list: PageList, pageNo: number): string =>
    `runs/${runId}/pages/${list}/${pad(pageNo)}.json`,
  reportIndex: (runId: string): string => `runs/${runId}/report-index.json`,
  /** The tenant's verified domains, lower case (read when the email method is on). */
  domains: (runId: string): string => `runs/${runId}/domains.json`,
  /** The pre-flight of the authentication methods policy: what it found, in numbers. */
  preflight: (runId: string): string => `runs/${runId}/preflight.json`,
  /** The readiness counts for the end of Microsoft SMS and voice, and their lists. */
  readiness: (runId: string): string => `runs/${runId}/readiness.json`,
  /** Every user of the readiness lists (ids, UPNs and method names, never a number). */
  readinessCsv: (runId: string): string => `runs/${runId}/readiness.csv`,
  /** The users holding a directory role (ids only). */
  roleHolders: (runId: string): string => `runs/${runId}/role-holders.json`,
  plan: (runId: string, planNo: number): string => `runs/${runId}/plan/${pad(planNo)}.json`,
  chunk: (runId: string, chunkNo: number): string => `runs/${runId}/chunks/${pad(chunkNo)}.json`,
  outcome: (runId: string, chunkNo: number): string =>
    `runs/${runId}/outcomes/${pad(chunkNo)}.json`,
  partialOutcome: (runId: string, chunkNo: number): string =>
    `runs/${runId}/outcomes/${pad(chunkNo)}.partial.json`,
  /**
   * Users of a chunk whose last write may have been applied when Graph became unavailable: the
   * chunk's next attempt reads them before writing.
   */
  uncertain: (runId: string, chunkNo: number): string =>
    `runs/${runId}/uncertain/${pad(chunkNo)}.json`,
  /** With REPLACE_EXISTING: the phone methods the census read for one user page. */
  existingMethods: (runId: string, pageNo: number): string =>
    `runs/${runId}/methods/${pad(pageNo)}.json`,
  reportJson: (runId: string): string => `runs/${runId}/report.json`,
  /** Written by a cancel before the run is terminated; chunks check it before every batch. */
  stopFlag: (runId: string): string => `runs/${runId}/stop.json`,
  /** A chunk activity writing right now (removed when it ends). */
  runningChunk: (runId: string, chunkNo: number): string =>
    `runs/${runId}/running/${pad(chunkNo)}.json`,
  runningChunks: (runId: string): string => `runs/${runId}/running/`,
  /**
   * A chunk activity's turn to send has passed: every write of it left once, or it ended. The
   * next chunk's activity, scheduled while this one still writes, waits for it before it sends
   * (`activities/provisionChunk.ts`). Named by a token the wave gives the pair, so that a rerun
   * never finds an earlier run's.
   */
  sendingDone: (runId: string, token: string): string => `runs/${runId}/sending/${token}.json`,
  /**
   * What the last writing chunk's limiter learned of the quota (rates and a round trip), for the
   * next chunk on whatever instance (`shared/graph/limiterHandover.ts`).
   */
  limiter: (runId: string): string => `runs/${runId}/limiter.json`,
  reportCsv: (runId: string): string => `runs/${runId}/report.csv`,
  /** The report page (self-contained HTML). */
  reportHtml: (runId: string): string => `runs/${runId}/report.html`,
};
