import { describe, expect, it } from "vitest";
import { emptyCounts } from "../../../shared/run/index.js";
import {
  escapeHtml,
  renderReportHtml,
  reportHtml,
  REPORT_CSP,
} from "../../../shared/report/html.js";
import {
  REPORT_USER_ROWS,
  type ReportModel,
  type ReportUserRow,
} from "../../../shared/report/model.js";
import { testRunSettings } from "../../support/runFixtures.js";

/** Directory values an attacker with a user administrator role can set. */
const EVIL = {
  upn: `<img src="https://attacker.example/x" onerror="alert(1)">@contoso.example`,
  closer: `</script><script>alert(2)</script>@contoso.example`,
  quote: `" onfocus="alert(3)" x="@contoso.example`,
  name: `<b>Mallory</b> & co`,
  group: `Break <Glass>`,
};

function rows(n: number): ReportUserRow[] {
  return Array.from({ length: n }, (_, i) => ({
    userPrincipalName: `user${i}@contoso.example`,
    decision: i % 2 === 0 ? "create" : "skip:guest",
    outcome: i % 2 === 0 ? "created" : "",
    code: "",
    phoneNumber: i % 2 === 0 ? "+45 ******12" : "",
  }));
}

function model(overrides: Partial<ReportModel> = {}): ReportModel {
  return {
    runId: "run-20261201T020000Z-ab12",
    dryRun: false,
    startedAt: "2026-12-01T02:00:00.000Z",
    finishedAt: "2026-12-01T02:12:30.000Z",
    trigger: "http",
    startedBy: { name: EVIL.name, objectId: "aaaaaaaa-0000-4000-8000-000000000001" },
    settings: testRunSettings({ excludeGroups: [EVIL.group], stagingGroup: EVIL.group }),
    counts: { ...emptyCounts(), candidates: 9, planned: 5, created: 3, failed: 2, skipped: 4 },
    decisions: { create: 5, "skip:guest": 3, "skip:sharedNumber": 1 },
    outcomes: { created: 3, failed: 2 },
    failuresByCode: [{ code: "Authorization_RequestDenied", status: 403, count: 2, transient: 0 }],
    failures: [
      {
        userId: "u1",
        userPrincipalName: EVIL.upn,
        code: "Authorization_RequestDenied",
        status: 403,
      },
      {
        userId: "u2",
        userPrincipalName: EVIL.closer,
        code: "Authorization_RequestDenied",
        status: 403,
      },
    ],
    failuresTruncated: false,
    retryableChunks: [],
    timeline: {
      intervalSeconds: 10,
      chunks: 2,
      points: [
        {
          at: "2026-12-01T02:01:00.000Z",
          usersPerHour: 720,
          writesPerHour: 360,
          throttled: 1,
          chunksWriting: 2,
          window: 8,
        },
        {
          at: "2026-12-01T02:01:10.000Z",
          usersPerHour: 360,
          writesPerHour: 360,
          throttled: 0,
          chunksWriting: 1,
        },
      ],
    },
    numberSettleDays: 3,
    sharedNumbers: [{ phoneNumber: "+45 ******10", holders: 30 }],
    numbersChanged: [
      {
        userId: "u3",
        userPrincipalName: EVIL.quote,
        phoneNumber: "+45 ******33",
        at: "2026-11-30T10:00:00.000Z",
        by: EVIL.name,
      },
    ],
    users: {
      total: 3,
      rows: [
        {
          userPrincipalName: EVIL.upn,
          decision: "create",
          outcome: "failed",
          code: "Authorization_RequestDenied",
          phoneNumber: "+45 ******51",
        },
        {
          userPrincipalName: EVIL.closer,
          decision: "create",
          outcome: "failed",
          code: "x",
          phoneNumber: "+45 ******52",
        },
        {
          userPrincipalName: EVIL.quote,
          decision: "skip:guest",
          outcome: "",
          code: "",
          phoneNumber: "",
        },
      ],
    },
    files: { csv: "report.csv", json: "report.json" },
    ...overrides,
  };
}

/** Every match of a pattern's first group. */
const all = (html: string, re: RegExp): string[] => [...html.matchAll(re)].map((m) => m[1] ?? "");

describe("report page", () => {
  it("escapes every value from the directory, so no tag or attribute of theirs reaches the page", () => {
    const html = renderReportHtml(model());
    for (const value of Object.values(EVIL)) {
      expect(html).toContain(escapeHtml(value));
    }
    // Only the page's own tags: one script, no image, no bold, no handler attribute.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/<img|<b>|<[^>]*\son(error|focus)=/);
    expect(escapeHtml(`<a href='x'>&"`)).toBe("&lt;a href=&#39;x&#39;&gt;&amp;&quot;");
  });

  it("forbids the network and loads nothing: the policy, no URL, no source attribute", () => {
    const html = renderReportHtml(model());
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">`);
    expect(REPORT_CSP).toBe(
      "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:",
    );
    expect(html).not.toMatch(/<[^>]*\s(src|srcset|action|poster)=/);
    expect(html).not.toMatch(/@import|url\((?!#)/);
    expect(all(html, /\shref="([^"]*)"/g).every((h) => h.startsWith("#"))).toBe(true);
  });

  it("draws the decisions and outcomes as charts whose text and description carry the numbers", () => {
    const m = model();
    const html = renderReportHtml(m);
    const chart = html.slice(
      html.indexOf('<svg id="chart-decisions"'),
      html.indexOf("</svg>", html.indexOf('<svg id="chart-decisions"')),
    );
    expect(all(chart, /<text class="label"[^>]*>([^<]*)</g)).toEqual(Object.keys(m.decisions));
    expect(all(chart, /<text class="value"[^>]*>([^<]*)</g)).toEqual(
      Object.values(m.decisions).map(String),
    );
    expect(chart).toContain(
      '<desc id="chart-decisions-d">create: 5; skip:guest: 3; skip:sharedNumber: 1</desc>',
    );
    expect(html).toContain('<desc id="chart-outcomes-d">created: 3; failed: 2</desc>');
    expect(html).toContain('<svg id="chart-timeline"');
  });

  it("tells bars apart by pattern and label, not by colour alone", () => {
    const html = renderReportHtml(model());
    expect(html).toMatch(/<rect[^>]*fill="url\(#pat-write\)"/);
    expect(html).toMatch(/<rect[^>]*fill="url\(#pat-skip\)"/);
    expect(html).toMatch(/<rect[^>]*fill="url\(#pat-fail\)"/);
    expect(html).toContain("diagonal lines: left alone");
    expect(html).toContain("cross-hatch: failed");
  });

  it("has one h1, captions on every table, scoped headers, and charts named by their title and description", () => {
    const html = renderReportHtml(model());
    expect(html.match(/<h1/g)).toHaveLength(1);
    const tables = html.match(/<table[^>]*>/g) ?? [];
    expect(tables.length).toBeGreaterThan(5);
    expect(html.match(/<table[^>]*><caption>/g)).toHaveLength(tables.length);
    expect(html).not.toMatch(/<th(?=[\s>])(?![^>]*scope="(col|row)")[^>]*>/);
    for (const [, id, labelledBy] of html.matchAll(
      /<svg id="([^"]+)" role="img" aria-labelledby="([^"]+)"/g,
    )) {
      expect(labelledBy).toBe(`${id}-t ${id}-d`);
      expect(html).toContain(`<title id="${id}-t">`);
      expect(html).toContain(`<desc id="${id}-d">`);
    }
    expect(html).toContain('<label for="user-search">');
    expect(html).toContain('role="status" aria-live="polite"');
  });

  it("lists at most the first rows of a large run and points to report.csv for the rest", () => {
    const m = model({ users: { total: 1_000_000, rows: rows(REPORT_USER_ROWS) } });
    const pieces = [...reportHtml(m)];
    const html = pieces.join("");
    expect(html).toBe(renderReportHtml(m));
    expect(html.match(/<tr data-decision=/g)).toHaveLength(REPORT_USER_ROWS);
    expect(html).toContain(
      "The first 5,000 of 1,000,000 users, in plan order, are listed here (at most 5,000); report.csv beside this page lists every user.",
    );
    // Written as a stream: the rows come a few hundred at a time, between the head and the end.
    expect(pieces.length).toBe(2 + REPORT_USER_ROWS / 500);
    expect(Math.max(...pieces.slice(1, -1).map((p) => p.length))).toBeLessThan(100_000);
  });

  it("shows the guards' lists, and warns when the settled-numbers guard was off", () => {
    const on = renderReportHtml(model());
    expect(on).toContain("<caption>Numbers changed since the last run (1 listed)</caption>");
    expect(on).toContain("<caption>Numbers held by several users (1 listed)</caption>");
    expect(on).toMatch(/<th scope="row">\+45 \*\*\*\*\*\*10<\/th><td class="n">30<\/td>/);
    expect(on).not.toContain("the settled-numbers guard was off");
    const off = renderReportHtml(model({ numberSettleDays: 0 }));
    expect(off).toContain("the settled-numbers guard was off (NUMBER_SETTLE_DAYS is 0)");
  });

  it("says who approved a plan, or that it waits for approval", () => {
    const approved = renderReportHtml(
      model({
        approval: {
          status: "approved",
          threshold: 1000,
          planned: 5000,
          by: EVIL.name,
          at: "2026-12-01T03:00:00.000Z",
        },
      }),
    );
    expect(approved).toContain(
      `Approved by ${escapeHtml(EVIL.name)} at 2026-12-01 03:00:00 UTC: 5,000 planned writes, above APPROVAL_THRESHOLD (1,000).`,
    );
    const waiting = renderReportHtml(
      model({ dryRun: true, approval: { status: "awaiting", threshold: 1000, planned: 5000 } }),
    );
    expect(waiting).toContain("This plan waits for an operator&#39;s approval");
    expect(waiting).toContain("It waits up to 20 hours.");
  });

  it("shows readiness counts only when the run counted them", () => {
    expect(renderReportHtml(model())).not.toContain('id="h-readiness"');
    const html = renderReportHtml(
      model({
        readiness: { counted: 100, smsOrVoiceOnly: 40, noMethod: 25, phishingResistant: 10 },
      }),
    );
    expect(html).toContain('id="h-readiness"');
    expect(html).toContain(
      '<desc id="chart-readiness-d">only SMS or voice: 40; no method at all: 25; a phishing-resistant method: 10</desc>',
    );
  });

  it("says there is no write rate for a run that wrote nothing", () => {
    const html = renderReportHtml(
      model({ dryRun: true, timeline: { intervalSeconds: 0, points: [], chunks: 0 } }),
    );
    expect(html).toContain("Nothing was written in this run, so there is no write rate to show.");
    expect(html).not.toContain('<svg id="chart-timeline"');
    expect(html).toContain("A dry run: 5 planned writes among 9 users, nothing written.");
  });
});
