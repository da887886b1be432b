/**
 * summarizeRun: joins the plan and the chunk outcomes into the run's report (JSON summary and a
 * per-user CSV, numbers masked unless `LOG_PHONE_NUMBERS=full`), logs the runbook's Stats lines,
 * and returns the counts.
 */
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import {
  NO_ELIGIBLE_USERS_LINE,
  processedLine,
  targetedUsersLine,
  usersWithoutMfaLine,
} from "../shared/log/seedLines.js";
import { logEvent } from "../shared/log/events.js";
import { formatForLog } from "../shared/phone/index.js";
import type { ChunkItem, PlanEntry } from "../shared/planning.js";
import { emptyCounts, runKeys, type RunCounts } from "../shared/runTypes.js";
import { CSV_CONTENT_TYPE, CSV_LINE_END, formatCsvCell } from "../shared/store/csv.js";
import { services } from "../shared/services.js";
import {
  addOutcome,
  countOutcomes,
  type ChunkOutcomeFile,
  type StoredOutcome,
} from "./provisionChunk.js";

/** Registered name. */
export const summarizeRunName = "summarizeRun";

/** Input of the summary. */
export interface SummarizeRunInput {
  runId: string;
  dryRun: boolean;
  userPages: number;
  chunks: number;
  withoutMfa: number;
  logPhoneNumbers: "masked" | "full";
  startedAt: string;
  finishedAt: string;
}

/** Result: counts and the chunks a rerun should retry. */
export interface SummarizeRunResult {
  counts: RunCounts;
  /** Chunks with users whose write failed transiently or was never attempted. */
  retryableChunks: number[];
  reportKeys: { json: string; csv: string };
}

/** Columns of the per-user CSV report. */
const CSV_HEADER = [
  "userPrincipalName",
  "userId",
  "decision",
  "outcome",
  "code",
  "detail",
  "phoneNumber",
];

/**
 * Builds the report of a run.
 *
 * @param input - run, sizes, and timing.
 * @param context - invocation context: gets the Stats lines.
 */
export async function summarizeRun(
  input: SummarizeRunInput,
  context: InvocationContext,
): Promise<SummarizeRunResult> {
  const { store } = services();
  const counts = emptyCounts();
  /** Outcomes of the writes, folded into `counts` once the report is written. */
  const written = countOutcomes([]);
  const retryable = new Set<number>();
  const failures: { userId: string; userPrincipalName: string; code: string; status: number }[] =
    [];

  let chunkNo = 0;
  let remaining = 0;
  let outcomes = new Map<string, StoredOutcome>();
  const nextChunk = async (): Promise<void> => {
    const items = (await store.getJson<ChunkItem[]>(runKeys.chunk(input.runId, chunkNo))) ?? [];
    const file = await store.getJson<ChunkOutcomeFile>(runKeys.outcome(input.runId, chunkNo));
    outcomes = new Map((file?.outcomes ?? []).map((o) => [o.userId, o]));
    if (!input.dryRun && (!file || outcomes.size < items.length)) {
      retryable.add(chunkNo);
    }
    remaining = items.length;
    chunkNo++;
  };

  async function* rows(): AsyncGenerator<string> {
    yield `${CSV_HEADER.map((h) => formatCsvCell(h)).join(",")}${CSV_LINE_END}`;
    for (let page = 0; page < input.userPages; page++) {
      const plan = (await store.getJson<PlanEntry[]>(runKeys.plan(input.runId, page))) ?? [];
      let lines = "";
      for (const entry of plan) {
        counts.candidates++;
        let outcome = "";
        let code = "";
        if (entry.decision === "create" || entry.decision === "replace") {
          counts.planned++;
          if (remaining === 0 && chunkNo < input.chunks) {
            await nextChunk();
          }
          remaining--;
          const o = input.dryRun ? undefined : outcomes.get(entry.userId);
          outcome = input.dryRun ? "dryRun" : (o?.result ?? "notAttempted");
          if (o) {
            addOutcome(written, o);
            if (o.result === "failed") {
              code = o.code;
              if (o.transient) {
                retryable.add(chunkNo - 1);
              }
              if (failures.length < 1000) {
                failures.push({
                  userId: o.userId,
                  userPrincipalName: o.userPrincipalName,
                  code: o.code,
                  status: o.status,
                });
              }
            }
            if (o.result === "created" && o.note) {
              code = o.note;
            }
          } else if (!input.dryRun) {
            counts.failed++;
            code = "notAttempted";
          }
        } else if (entry.decision === "alreadyPresent") {
          counts.alreadyPresent++;
        } else if (entry.decision === "skip:invalidNumber") {
          counts.invalidNumber++;
        } else if (entry.decision === "skip:deferred") {
          counts.deferred++;
        } else {
          counts.skipped++;
        }
        const phone = entry.phoneNumber
          ? formatForLog(entry.phoneNumber, input.logPhoneNumbers)
          : "";
        lines +=
          [
            formatCsvCell(entry.userPrincipalName),
            formatCsvCell(entry.userId),
            formatCsvCell(entry.decision),
            formatCsvCell(outcome),
            formatCsvCell(code),
            formatCsvCell(entry.detail),
            formatCsvCell(phone, true),
          ].join(",") + CSV_LINE_END;
      }
      yield lines;
    }
  }

  const keys = { json: runKeys.reportJson(input.runId), csv: runKeys.reportCsv(input.runId) };
  await store.putStream(keys.csv, rows(), CSV_CONTENT_TYPE);
  counts.created += written.created;
  counts.replaced += written.replaced;
  counts.alreadyPresent += written.alreadyPresent;
  counts.existingDiffers += written.existingDiffers;
  // A different existing number left alone is a skip, as far as the run's totals go.
  counts.skipped += written.existingDiffers;
  counts.failed += written.failed;
  counts.smsSignInNotUnique += written.smsSignInNotUnique;
  await store.putJson(keys.json, {
    runId: input.runId,
    dryRun: input.dryRun,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    counts,
    retryableChunks: [...retryable].sort((a, b) => a - b),
    failures,
    failuresTruncated: counts.failed > failures.length,
  });

  context.info(usersWithoutMfaLine(input.withoutMfa));
  context.info(targetedUsersLine(counts.planned));
  if (counts.planned === 0) {
    context.info(NO_ELIGIBLE_USERS_LINE);
  } else if (!input.dryRun) {
    context.info(processedLine(counts.created + counts.replaced));
  }
  logEvent(context, "runSummarized", {
    runId: input.runId,
    dryRun: input.dryRun,
    ...counts,
    retryableChunks: retryable.size,
  });
  return { counts, retryableChunks: [...retryable].sort((a, b) => a - b), reportKeys: keys };
}

df.app.activity(summarizeRunName, { handler: summarizeRun });
