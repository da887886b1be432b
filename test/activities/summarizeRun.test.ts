/**
 * summarizeRun's report files over a prepared run store: report.html beside report.csv and
 * report.json, with the numbers of the plan and outcomes it read.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { setServices } from "../../shared/services.js";
import { REPORT_USER_ROWS, type ReportModel } from "../../shared/report/model.js";
import type { DecisionCounts } from "../../shared/run/index.js";
import { FsRunStore } from "../../shared/store/index.js";
import {
  preparedUsers,
  summarizePrepared,
  writePreparedRun,
  type PreparedUser,
} from "../support/preparedRun.js";
import { testRunSettings } from "../support/runFixtures.js";

const RUN = "run-20261201T020000Z-ab12";

function tallyBy<T>(items: T[], key: (t: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    if (k !== undefined) {
      out[k] = (out[k] ?? 0) + 1;
    }
  }
  return out;
}

/** The cells of a column of the page's user table. */
const column = (html: string, re: RegExp): string[] =>
  [...html.matchAll(re)].map((m) => m[1] ?? "");

describe("summarizeRun's report", () => {
  let dir: string;
  let store: FsRunStore;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "mfa-summary-"));
    store = new FsRunStore(dir);
  });
  afterEach(async () => {
    setServices(undefined);
    await rm(dir, { recursive: true, force: true });
  });

  async function summarize(
    users: PreparedUser[],
    input: Partial<Parameters<typeof summarizePrepared>[1]> = {},
  ) {
    const sizes = await writePreparedRun(store, {
      runId: RUN,
      users,
      chunkSize: 25,
      usersPerPage: 999,
      startedAt: new Date("2026-12-01T02:01:00.000Z"),
      chunkMs: 30_000,
    });
    const result = await summarizePrepared(store, { runId: RUN, ...sizes, ...input });
    return {
      sizes,
      result,
      json: (await store.getJson<ReportModel>(result.reportKeys.json)) as ReportModel,
      csv: (await store.getText(result.reportKeys.csv)) as string,
      html: (await store.getText(result.reportKeys.html)) as string,
    };
  }

  it("writes report.html beside report.csv and report.json with the plan's and outcomes' numbers", async () => {
    // Arrange
    const users = preparedUsers(200);

    // Act
    const { sizes, result, json, html } = await summarize(users);

    // Assert
    expect(result.reportKeys).toEqual({
      json: `runs/${RUN}/report.json`,
      csv: `runs/${RUN}/report.csv`,
      html: `runs/${RUN}/report.html`,
    });
    expect(json.decisions).toEqual(tallyBy(users, (u) => u.decision) as DecisionCounts);
    expect(json.outcomes).toEqual(tallyBy(users, (u) => u.outcome?.result));
    const failed = users.flatMap((u) => (u.outcome?.result === "failed" ? [u.outcome] : []));
    expect(json.failuresByCode).toEqual(
      Object.entries(tallyBy(failed, (f) => `${f.status} ${f.code}`))
        .map(([key, count]) => {
          const f = failed.find((x) => `${x.status} ${x.code}` === key);
          return { code: f?.code, status: f?.status, count, transient: f?.transient ? count : 0 };
        })
        .sort((a, b) => b.count - a.count || String(a.code).localeCompare(String(b.code))),
    );
    expect(json.timeline.chunks).toBe(sizes.chunks);
    expect(json.settings).toEqual(
      testRunSettings({ dryRun: false, excludeGroups: ["Break Glass"] }),
    );
    expect(json.startedBy?.name).toBe("ops@contoso.example");
    expect(json.sharedNumbers).toEqual([
      {
        phoneNumber: "+45 ******10",
        holders: users.filter((u) => u.decision === "skip:sharedNumber").length,
      },
    ]);
    expect(json.numbersChanged).toHaveLength(
      users.filter((u) => u.decision === "skip:numberNotSettled").length,
    );
    // report.json holds the numbers; the rows are on the page and in report.csv.
    expect(json.users).toEqual({ total: 200 });
    expect(html.match(/<tr data-decision=/g)).toHaveLength(200);
  });

  it("shows each user's number on the page exactly as report.csv has it: masked, or full when LOG_PHONE_NUMBERS is full", async () => {
    for (const mode of ["masked", "full"] as const) {
      // Arrange
      const users = preparedUsers(48);

      // Act
      const { csv, html } = await summarize(users, {
        logPhoneNumbers: mode,
        settings: testRunSettings({ dryRun: false, logPhoneNumbers: mode }),
      });

      // Assert
      const [header, ...lines] = csv.trim().split("\r\n");
      // Counted from the end: the detail column before it may hold commas.
      const columns = (header ?? "").split(",");
      const fromEnd = columns.length - columns.indexOf("phoneNumber");
      const csvNumbers = lines.map((line) => line.split(",").at(-fromEnd));
      const pageNumbers = column(html, /<td class="phone">([^<]*)<\/td>/g);
      expect(pageNumbers).toEqual(csvNumbers);
      const written = users.find((u) => u.outcome?.result === "created") as PreparedUser;
      expect(pageNumbers.includes(written.phoneNumber ?? "")).toBe(mode === "full");
      await rm(path.join(dir, "runs"), { recursive: true, force: true });
    }
  });

  it("lists at most 5,000 users on the page of a larger run; report.csv has them all", async () => {
    // Arrange
    const users = preparedUsers(REPORT_USER_ROWS + 1_000);

    // Act
    const { csv, html, json } = await summarize(users);

    // Assert
    expect(html.match(/<tr data-decision=/g)).toHaveLength(REPORT_USER_ROWS);
    expect(csv.trim().split("\r\n")).toHaveLength(users.length + 1);
    expect(json.users.total).toBe(users.length);
    expect(html).toContain(
      `The first 5,000 of ${users.length.toLocaleString("en-US")} users, in plan order, are listed here`,
    );
  });

  it("reports a dry run's planned writes as dryRun, with no write rate", async () => {
    // Arrange
    const users = preparedUsers(64);

    // Act
    const { json, html } = await summarize(users, { dryRun: true });

    // Assert
    const writes = users.filter((u) => u.decision === "create" || u.decision === "replace").length;
    expect(json.outcomes).toEqual({ dryRun: writes });
    expect(json.timeline.points).toEqual([]);
    expect(html).toContain('<desc id="chart-outcomes-d">dryRun: ' + String(writes) + "</desc>");
  });

  it("says in the preview of a plan that waits for approval what it waits for", async () => {
    // Arrange
    const users = preparedUsers(32);

    // Act
    const { json, html } = await summarize(users, {
      dryRun: true,
      unwrittenOutcome: "awaitingApproval",
      approval: { status: "awaiting", threshold: 10, planned: 15 },
    });

    // Assert
    expect(json.approval).toEqual({ status: "awaiting", threshold: 10, planned: 15 });
    expect(Object.keys(json.outcomes)).toEqual(["awaitingApproval"]);
    expect(html).toContain("Awaiting approval: 15 planned writes, above APPROVAL_THRESHOLD (10).");
  });
});
