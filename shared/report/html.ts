/**
 * The run report page: a pure function from the report model to one self-contained HTML file.
 * Nothing on the page loads anything (no scripts, fonts, styles or images from anywhere; a
 * Content-Security-Policy says so to the browser too), so it works opened from a file, served by
 * the runs API, or mailed to a colleague. Every value from the run (UPNs, names from the audit
 * log, group names) is directory data anyone with a user administrator role can set, so every
 * value is escaped, and the script reads the table's text, never data it would parse.
 *
 * Accessible by construction: one `h1`, `h2` per section, tables with captions and `th scope`,
 * every chart an `svg role="img"` with a title, a description holding all its numbers and a
 * table beside it, bars told apart by pattern and label rather than colour, and a search a
 * keyboard reaches and a screen reader hears (a live status line).
 */
import type { RunCounts } from "../run/counts.js";
import { DECISION_LABELS, type DecisionLabel } from "../run/decisions.js";
import {
  REPORT_USER_ROWS,
  type OutcomeColumn,
  type ReportModel,
  type ReportUserRow,
  type Timeline,
} from "./model.js";

/** The page's policy: nothing from the network, inline style and script only, data: images. */
export const REPORT_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/** Content type of report.html. */
export const HTML_CONTENT_TYPE = "text/html; charset=utf-8";

/** User rows per piece when the page is written as a stream. */
const ROWS_PER_PIECE = 500;

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @param value - any value; `undefined` and `null` become empty.
 */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string,
  );
}

const num = (n: number): string => n.toLocaleString("en-US");

/** An ISO time as `2026-12-01 02:00:00 UTC`, or a dash. */
function when(iso: string | undefined): string {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isFinite(t)
    ? `${new Date(t).toISOString().slice(0, 19).replace("T", " ")} UTC`
    : "–";
}

function duration(fromIso: string, toIso: string): string {
  const ms = Date.parse(toIso) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) {
    return "–";
  }
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

/** How a bar is drawn: a fill pattern per kind, so the chart reads without colour. */
type BarKind = "write" | "present" | "skip" | "fail" | "wait";

/** The patterns' legend, in the order shown. */
const KIND_TEXT: Record<BarKind, string> = {
  write: "solid: written or to write",
  present: "dots: nothing to do",
  skip: "diagonal lines: left alone",
  fail: "cross-hatch: failed",
  wait: "horizontal lines: not written yet",
};

/** What each decision means, for the decisions table. */
const DECISION_TEXT: Partial<Record<DecisionLabel, string>> = {
  create: "a new method is written (the mobile or office phone, or the email method)",
  replace: "the existing mobile number is replaced",
  alreadyPresent: "the user already has this number",
  "skip:guest": "a guest account",
  "skip:disabled": "a disabled account",
  "skip:incompleteRecord": "Graph's record is too incomplete to decide",
  "skip:excludedGroup": "a member of an exclusion group",
  "skip:outsideStagingGroup": "outside the staging group",
  "skip:admin": "holds a directory role (admins are never written)",
  "skip:alreadyMfaRegistered": "already registered for MFA",
  "skip:alreadySsprRegistered": "already registered for self-service password reset",
  "skip:hasMobileMethod": "already has a mobile phone method",
  "skip:hasOfficeMethod": "already has an office phone method",
  "skip:hasEmailMethod": "already has an email method (never changed)",
  "skip:noNumber": "no number in the directory",
  "skip:noAddress": "no alternate email address in the directory",
  "skip:invalidNumber": "the number cannot be used",
  "skip:invalidAddress": "the alternate email address is not well formed",
  "skip:internalDomain": "the address is in one of the tenant's own domains",
  "skip:sharedNumber": "several users hold the same number",
  "skip:sharedAddress": "several users hold the same address",
  "skip:numberNotSettled": "the number changed too recently",
  "skip:addressNotSettled": "the address changed too recently",
  "skip:deferred": "past MAX_WRITES_PER_RUN, left for the next run",
};

function decisionKind(label: string): BarKind {
  return label === "create" || label === "replace"
    ? "write"
    : label === "alreadyPresent"
      ? "present"
      : label === "skip:deferred"
        ? "wait"
        : "skip";
}

const OUTCOME_KIND: Record<OutcomeColumn, BarKind> = {
  created: "write",
  replaced: "write",
  alreadyPresent: "present",
  existingDiffers: "skip",
  changedSincePlan: "skip",
  failed: "fail",
  notAttempted: "fail",
  dryRun: "wait",
  awaitingApproval: "wait",
  notApproved: "wait",
};

const OUTCOME_ORDER = Object.keys(OUTCOME_KIND) as OutcomeColumn[];

interface Bar {
  label: string;
  value: number;
  kind: BarKind;
}

/** The fill patterns every chart uses, defined once. */
function patternDefs(): string {
  const p = (id: string, body: string): string =>
    `<pattern id="pat-${id}" width="6" height="6" patternUnits="userSpaceOnUse">${body}</pattern>`;
  return (
    `<svg class="defs" width="0" height="0" aria-hidden="true" focusable="false"><defs>` +
    p("write", `<rect width="6" height="6" fill="#1f4e79"/>`) +
    p(
      "present",
      `<rect width="6" height="6" fill="#e8eef5"/><circle cx="3" cy="3" r="1.4" fill="#1f4e79"/>`,
    ) +
    p(
      "skip",
      `<rect width="6" height="6" fill="#f3f0e8"/><path d="M-1 1l2-2M0 6l6-6M5 7l2-2" stroke="#6b5a2e" stroke-width="1.2"/>`,
    ) +
    p(
      "fail",
      `<rect width="6" height="6" fill="#f8e6e6"/><path d="M0 0l6 6M6 0l-6 6" stroke="#8b1a1a" stroke-width="1.2"/>`,
    ) +
    p(
      "wait",
      `<rect width="6" height="6" fill="#eeeeee"/><path d="M0 3h6" stroke="#444" stroke-width="1.4"/>`,
    ) +
    `</defs></svg>`
  );
}

function legend(kinds: BarKind[]): string {
  const items = [...new Set(kinds)].map(
    (k) =>
      `<li><svg width="14" height="14" aria-hidden="true" focusable="false"><rect width="14" height="14" fill="url(#pat-${k})" stroke="#333"/></svg> ${escapeHtml(KIND_TEXT[k])}</li>`,
  );
  return `<ul class="legend" aria-label="Bar patterns">${items.join("")}</ul>`;
}

/**
 * A horizontal bar chart: each bar labelled with its name and number (in the SVG's text, its
 * title and its accessible description), drawn with its kind's pattern.
 */
function barChart(id: string, title: string, bars: Bar[]): string {
  const rowH = 24;
  const labelW = 230;
  const barW = 330;
  const height = bars.length * rowH + 8;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const desc = bars.map((b) => `${b.label}: ${num(b.value)}`).join("; ");
  const rows = bars.map((b, i) => {
    const y = 4 + i * rowH;
    const w = b.value > 0 ? Math.max(2, Math.round((b.value / max) * barW)) : 0;
    const text = `${b.label}: ${num(b.value)}`;
    return (
      `<g class="bar">` +
      `<title>${escapeHtml(text)}</title>` +
      `<text class="label" x="${labelW - 8}" y="${y + 16}" text-anchor="end">${escapeHtml(b.label)}</text>` +
      `<rect x="${labelW}" y="${y + 3}" width="${w}" height="${rowH - 6}" fill="url(#pat-${b.kind})" stroke="#333" stroke-width="${w > 0 ? 0.8 : 0}"/>` +
      `<text class="value" x="${labelW + w + 6}" y="${y + 16}">${num(b.value)}</text></g>`
    );
  });
  return (
    `<figure class="chart"><svg id="${id}" role="img" aria-labelledby="${id}-t ${id}-d" viewBox="0 0 ${labelW + barW + 90} ${height}" width="100%" preserveAspectRatio="xMinYMin meet">` +
    `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(desc)}</desc>` +
    `${rows.join("")}</svg>${legend(bars.map((b) => b.kind))}</figure>`
  );
}

/**
 * A table with a caption, column headers and a row header per row; cells are HTML already
 * escaped by the caller. The last `numeric` columns are right-aligned.
 */
function table(caption: string, headers: string[], rows: string[][], numeric = 0): string {
  const n = (i: number): string => (i >= headers.length - numeric && i > 0 ? ` class="n"` : "");
  const head = headers.map((h, i) => `<th scope="col"${n(i)}>${escapeHtml(h)}</th>`).join("");
  const body = rows
    .map(
      ([first, ...rest]) =>
        `<tr><th scope="row">${first ?? ""}</th>${rest.map((c, i) => `<td${n(i + 1)}>${c}</td>`).join("")}</tr>`,
    )
    .join("");
  return `<table><caption>${escapeHtml(caption)}</caption><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** One sentence on what the run did. */
function lead(m: ReportModel): string {
  const c = m.counts;
  const planned = `${num(c.planned)} planned write${c.planned === 1 ? "" : "s"}`;
  if (m.approval?.status === "awaiting") {
    return `This plan waits for an operator's approval: ${planned} among ${num(c.candidates)} users, nothing written yet.`;
  }
  if (m.approval?.status === "notApproved") {
    return `The plan was not approved in time: ${planned} among ${num(c.candidates)} users, nothing written.`;
  }
  if (m.dryRun) {
    return `A dry run: ${planned} among ${num(c.candidates)} users, nothing written.`;
  }
  return `${num(c.created + c.replaced)} of ${planned} written among ${num(c.candidates)} users; ${num(c.failed)} failed.`;
}

function startedByText(m: ReportModel): string {
  if (m.startedBy) {
    return m.startedBy.objectId
      ? `${m.startedBy.name} (object id ${m.startedBy.objectId})`
      : m.startedBy.name;
  }
  return m.trigger === "timer"
    ? "the nightly timer"
    : m.trigger === "cli"
      ? "the command line"
      : m.trigger === "http"
        ? "the runs API"
        : "not recorded";
}

function approvalText(m: ReportModel): string {
  const a = m.approval;
  const threshold = m.settings?.approvalThreshold;
  if (!a) {
    return threshold === 0
      ? "Not asked: APPROVAL_THRESHOLD is 0."
      : `Not needed: the plan stayed within APPROVAL_THRESHOLD${threshold !== undefined ? ` (${num(threshold)})` : ""}, or wrote nothing.`;
  }
  const over = `${num(a.planned)} planned writes, above APPROVAL_THRESHOLD (${num(a.threshold)})`;
  switch (a.status) {
    case "awaiting":
      return `Awaiting approval: ${over}. It waits up to ${m.settings?.approvalTimeoutHours ?? "?"} hours.`;
    case "approved":
      return `Approved by ${a.by ?? "unknown"} at ${when(a.at)}: ${over}.`;
    case "notApproved":
      return `Not approved before the timeout: ${over}; nothing was written.`;
  }
}

function runSection(m: ReportModel): string {
  const items: [string, string][] = [
    ["Run id", `<code>${escapeHtml(m.runId)}</code>`],
    ["Started", escapeHtml(when(m.startedAt))],
    ["Finished", escapeHtml(when(m.finishedAt))],
    ["Duration", escapeHtml(duration(m.startedAt, m.finishedAt))],
    ["Started by", escapeHtml(startedByText(m))],
    ["Approval", escapeHtml(approvalText(m))],
    ["Writes", m.dryRun ? "none (nothing was written)" : "written to Microsoft Graph"],
  ];
  return section(
    "run",
    "The run",
    `<dl class="facts">${items.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`,
  );
}

/** `numberSettleDays` as its setting's name, `NUMBER_SETTLE_DAYS`. */
function settingName(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

function settingValue(value: unknown): string {
  if (Array.isArray(value)) {
    return value.length > 0 ? value.map((v) => String(v)).join(", ") : "(none)";
  }
  return value === undefined || value === "" ? "(not set)" : String(value);
}

function settingsSection(m: ReportModel): string {
  if (!m.settings) {
    return section("settings", "Settings", "<p>This run's report has no settings snapshot.</p>");
  }
  const rows = Object.entries(m.settings)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => [`<code>${escapeHtml(settingName(k))}</code>`, escapeHtml(settingValue(v))]);
  return section(
    "settings",
    "Settings",
    `<p>The snapshot the run took when it started (it holds no secrets).</p>${table("Settings of this run", ["Setting", "Value"], rows)}`,
  );
}

function decisionsSection(m: ReportModel): string {
  const labels = DECISION_LABELS.filter((l) => (m.decisions[l] ?? 0) > 0);
  const extra = (Object.keys(m.decisions) as DecisionLabel[]).filter((l) => !labels.includes(l));
  const all = [...labels, ...extra];
  if (all.length === 0) {
    return section("decisions", "Decisions", "<p>The run decided for no user.</p>");
  }
  const bars = all.map((l) => ({ label: l, value: m.decisions[l] ?? 0, kind: decisionKind(l) }));
  const rows = all.map((l) => [
    `<code>${escapeHtml(l)}</code>`,
    escapeHtml(DECISION_TEXT[l] ?? ""),
    num(m.decisions[l] ?? 0),
  ]);
  rows.push(["Total", "every user the run decided for", num(m.counts.candidates)]);
  return section(
    "decisions",
    "Decisions",
    barChart("chart-decisions", "Users by decision", bars) +
      table("Users by decision", ["Decision", "Meaning", "Users"], rows, 1) +
      methodsTable(m),
  );
}

/** The counts per method, when the run registered more than the mobile phone. */
function methodsTable(m: ReportModel): string {
  const methods = Object.entries(m.methods ?? {}) as [string, RunCounts][];
  if (methods.length === 0 || (methods.length === 1 && methods[0]?.[0] === "mobile")) {
    return "";
  }
  return (
    `<p>Each user is decided once per method, so the totals above count a user once per method.</p>` +
    table(
      "Users by method",
      ["Method", "Decided", "Planned writes", "Written", "Already present", "Skipped", "Failed"],
      methods.map(([method, c]) => [
        `<code>${escapeHtml(method)}</code>`,
        num(c.candidates),
        num(c.planned),
        num(c.created + c.replaced),
        num(c.alreadyPresent),
        num(c.skipped + c.invalidNumber + c.deferred),
        num(c.failed),
      ]),
      6,
    )
  );
}

/** The policy pre-flight: per method, whether the policy lets the planned users use it. */
function preflightSection(m: ReportModel): string {
  const p = m.preflight;
  if (!p) {
    return "";
  }
  const rows = p.methods.map((x) => [
    `<code>${escapeHtml(x.method)}</code>`,
    escapeHtml(
      x.configurations
        .map(
          (c) =>
            `${c.id}: ${c.state}${c.officePhonesAllowed === false ? " (office phones not allowed)" : ""}`,
        )
        .join(", "),
    ),
    num(x.planned),
    num(x.covered),
    num(x.notCovered),
  ]);
  const notes = [...(p.stop ? [p.stop] : []), ...p.notes]
    .map((n) => `<p>${escapeHtml(n)}</p>`)
    .join("");
  return section(
    "policy",
    "Authentication methods policy",
    table(
      "Planned writes by whether the policy lets the user use the method",
      ["Method", "Policy", "Planned", "Covered", "Not covered"],
      rows,
      3,
    ) + notes,
  );
}

function outcomesSection(m: ReportModel): string {
  const present = OUTCOME_ORDER.filter((o) => (m.outcomes[o] ?? 0) > 0);
  const parts: string[] = [];
  if (present.length === 0) {
    parts.push("<p>The plan held no write.</p>");
  } else {
    const bars = present.map((o) => ({
      label: o,
      value: m.outcomes[o] ?? 0,
      kind: OUTCOME_KIND[o],
    }));
    parts.push(barChart("chart-outcomes", "Planned writes by outcome", bars));
    parts.push(
      table(
        "Planned writes by outcome",
        ["Outcome", "Users"],
        present.map((o) => [`<code>${escapeHtml(o)}</code>`, num(m.outcomes[o] ?? 0)]),
        1,
      ),
    );
  }
  parts.push(`<h3 id="h-codes">Failures by Graph code</h3>`);
  if (m.failuresByCode.length === 0) {
    parts.push("<p>No write failed.</p>");
  } else {
    parts.push(
      table(
        "Failures by Graph error code and HTTP status",
        ["Code", "HTTP status", "Users", "Of them, a rerun may fix"],
        m.failuresByCode.map((f) => [
          `<code>${escapeHtml(f.code)}</code>`,
          String(f.status),
          num(f.count),
          num(f.transient),
        ]),
        3,
      ),
    );
    parts.push(failureList(m));
  }
  return section("outcomes", "Outcomes", parts.join(""));
}

function failureList(m: ReportModel): string {
  const more = m.failuresTruncated
    ? ` The first ${num(m.failures.length)} of ${num(m.counts.failed)} are listed; report.csv has them all.`
    : "";
  const rows = m.failures.map((f) => [
    escapeHtml(f.userPrincipalName),
    `<code>${escapeHtml(f.code)}</code>`,
    String(f.status),
  ]);
  const rerun =
    m.retryableChunks.length > 0
      ? `<p>A rerun retries ${num(m.retryableChunks.length)} chunk${m.retryableChunks.length === 1 ? "" : "s"}: <code>mfa-prepopulate rerun ${escapeHtml(m.runId)}</code>.</p>`
      : "";
  return `${rerun}<details><summary>Users whose write failed</summary><p>${more}</p>${table("Users whose write failed", ["User", "Code", "HTTP status"], rows)}</details>`;
}

/** The timeline's two series as one chart: bars of users per hour, a line of chunks writing. */
function timelineChart(t: Timeline): string {
  const w = 640;
  const h = 200;
  const left = 70;
  const right = 90;
  const plotW = w - left - right;
  const plotH = h - 40;
  const maxRate = Math.max(1, ...t.points.map((p) => p.usersPerHour));
  const maxChunks = Math.max(1, ...t.points.map((p) => p.chunksWriting));
  const step = plotW / t.points.length;
  const bars = t.points.map((p, i) => {
    const bh = Math.round((p.usersPerHour / maxRate) * plotH);
    return `<rect x="${(left + i * step + 0.5).toFixed(1)}" y="${10 + plotH - bh}" width="${Math.max(1, step - 1).toFixed(1)}" height="${bh}" fill="url(#pat-write)"><title>${escapeHtml(`${when(p.at)}: ${num(p.usersPerHour)} users per hour, ${p.chunksWriting} chunks writing`)}</title></rect>`;
  });
  const line = t.points
    .map((p, i) => {
      const x = left + (i + 0.5) * step;
      const y = 10 + plotH - (p.chunksWriting / maxChunks) * plotH;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
  const peak = t.points.reduce((a, b) => (b.usersPerHour > a.usersPerHour ? b : a));
  const desc =
    `${t.points.length} intervals of ${t.intervalSeconds} s from ${when(t.points[0]?.at)}. ` +
    `Peak ${num(peak.usersPerHour)} users per hour at ${when(peak.at)}; ` +
    `at most ${num(maxChunks)} chunks writing at once. The table below has every interval.`;
  return (
    `<figure class="chart"><svg id="chart-timeline" role="img" aria-labelledby="chart-timeline-t chart-timeline-d" viewBox="0 0 ${w} ${h}" width="100%" preserveAspectRatio="xMinYMin meet">` +
    `<title id="chart-timeline-t">Users per hour (bars) and chunks writing at once (line) over time</title><desc id="chart-timeline-d">${escapeHtml(desc)}</desc>` +
    `<line x1="${left}" y1="${10 + plotH}" x2="${left + plotW}" y2="${10 + plotH}" stroke="#333"/>` +
    `<text class="axis" x="${left - 6}" y="16" text-anchor="end">${num(maxRate)}/h</text>` +
    `<text class="axis" x="${left - 6}" y="${10 + plotH}" text-anchor="end">0</text>` +
    `<text class="axis" x="${left + plotW + 6}" y="16">${num(maxChunks)} chunks</text>` +
    bars.join("") +
    `<polyline points="${line}" fill="none" stroke="#000" stroke-width="2" stroke-dasharray="6 3"/>` +
    `<text class="axis" x="${left}" y="${h - 8}">${escapeHtml(when(t.points[0]?.at))}</text>` +
    `<text class="axis" x="${left + plotW}" y="${h - 8}" text-anchor="end">${escapeHtml(when(t.points.at(-1)?.at))}</text>` +
    `</svg><ul class="legend" aria-label="Series"><li>solid bars: users per hour</li><li>dashed line: chunks writing at once</li></ul></figure>`
  );
}

function timelineSection(m: ReportModel): string {
  const t = m.timeline;
  if (t.points.length === 0) {
    return section(
      "timeline",
      "Write rate and concurrency over time",
      "<p>Nothing was written in this run, so there is no write rate to show.</p>",
    );
  }
  const rows = t.points.map((p) => [
    escapeHtml(when(p.at)),
    num(p.usersPerHour),
    num(p.writesPerHour),
    num(p.throttled),
    String(p.chunksWriting),
    p.window !== undefined ? num(p.window) : "–",
  ]);
  return section(
    "timeline",
    "Write rate and concurrency over time",
    `<p>From the timings of ${num(t.chunks)} chunks, in real time, in intervals of ${t.intervalSeconds} s.</p>` +
      timelineChart(t) +
      `<details><summary>Every interval as a table</summary>${table(
        "Write rate and concurrency per interval",
        [
          "Interval start",
          "Users per hour",
          "Written per hour",
          "429 answers",
          "Chunks writing",
          "Limiter window",
        ],
        rows,
        5,
      )}</details>`,
  );
}

function guardsSection(m: ReportModel): string {
  const d = (l: DecisionLabel): string => num(m.decisions[l] ?? 0);
  const settle =
    m.numberSettleDays === 0
      ? `<p class="warn"><strong>Warning:</strong> the settled-numbers guard was off (NUMBER_SETTLE_DAYS is 0): a number changed today could be written today.</p>`
      : `<p>A number is written only after its user has held it ${num(m.numberSettleDays)} days (NUMBER_SETTLE_DAYS). Held back as not settled: ${d("skip:numberNotSettled")}.</p>`;
  const changed =
    m.numbersChanged.length === 0
      ? "<p>No number changed since the last run.</p>"
      : table(
          `Numbers changed since the last run (${num(m.numbersChanged.length)} listed)`,
          ["User", "Number", "Changed at", "Changed by"],
          m.numbersChanged.map((c) => [
            escapeHtml(c.userPrincipalName),
            escapeHtml(c.phoneNumber),
            escapeHtml(when(c.at)),
            escapeHtml(c.by ?? "not in the audit log"),
          ]),
        );
  const shared =
    m.sharedNumbers.length === 0
      ? "<p>No number is held by more than one user.</p>"
      : table(
          `Numbers held by several users (${num(m.sharedNumbers.length)} listed)`,
          ["Number", "Users holding it"],
          m.sharedNumbers.map((s) => [escapeHtml(s.phoneNumber), num(s.holders)]),
          1,
        );
  const admins =
    m.settings?.skipAdmins === false
      ? "<p>SKIP_ADMINS is off: directory role holders were not left alone.</p>"
      : `<p>Directory role holders left alone (SKIP_ADMINS): ${d("skip:admin")}.</p>`;
  return section(
    "guards",
    "Guards",
    `<h3>Settled numbers</h3>${settle}<h3>Numbers changed</h3>${changed}` +
      `<h3>Shared numbers</h3><p>Users held back because their number is shared: ${d("skip:sharedNumber")}.</p>${shared}` +
      `<h3>Administrators</h3>${admins}<h3>Approval</h3><p>${escapeHtml(approvalText(m))}</p>`,
  );
}

/** The readiness groups in the order of the section's rows. */
const READINESS_ORDER = ["smsOrVoiceOnly", "noMethod", "phishingResistant"] as const;

function readinessSection(m: ReportModel): string {
  const r = m.readiness;
  if (!r) {
    return "";
  }
  const rows: [string, number, BarKind][] = [
    ["only SMS or voice", r.smsOrVoiceOnly, "wait"],
    ["no method at all", r.noMethod, "fail"],
    ["a phishing-resistant method", r.phishingResistant, "write"],
  ];
  const lists = r.users
    ? rows
        .map(([label], i) => {
          const group = READINESS_ORDER[i] as (typeof READINESS_ORDER)[number];
          const users = r.users?.[group] ?? [];
          const total = r[group];
          if (users.length === 0) {
            return "";
          }
          return (
            `<details><summary>Users with ${escapeHtml(label)} (${num(users.length)} of ${num(total)} listed; readiness.csv has all)</summary>` +
            table(
              `Users with ${label}`,
              ["User", "Id", "Registered methods"],
              users.map((u) => [
                escapeHtml(u.userPrincipalName),
                `<code>${escapeHtml(u.userId)}</code>`,
                escapeHtml(u.methods.join(", ")),
              ]),
            ) +
            `</details>`
          );
        })
        .join("")
    : "";
  return section(
    "readiness",
    "Readiness for the end of Microsoft SMS and voice",
    `<p>Microsoft-provided SMS and voice end on 1 February 2027 (1 July 2027 for Global Administrators and external users); users whose only methods are SMS or voice then get a blocking passkey registration. These lists are the next step: bring them to passkeys.</p>` +
      `<p>Of ${num(r.counted)} users in the registration report:</p>` +
      barChart(
        "chart-readiness",
        "Users by registered methods",
        rows.map(([label, value, kind]) => ({ label, value, kind })),
      ) +
      table(
        "Users by registered methods",
        ["Registered methods", "Users"],
        rows.map(([label, value]) => [escapeHtml(label), num(value)]),
        1,
      ) +
      lists,
  );
}

function section(id: string, title: string, body: string): string {
  return `<section aria-labelledby="h-${id}"><h2 id="h-${id}">${escapeHtml(title)}</h2>${body}</section>\n`;
}

function userRow(r: ReportUserRow): string {
  return (
    `<tr data-decision="${escapeHtml(r.decision)}"><th scope="row">${escapeHtml(r.userPrincipalName)}</th>` +
    `<td>${escapeHtml(r.decision)}</td><td>${escapeHtml(r.outcome)}</td><td>${escapeHtml(r.code)}</td>` +
    `<td class="phone">${escapeHtml(r.phoneNumber)}</td></tr>`
  );
}

function usersHead(m: ReportModel): string {
  const shown = m.users.rows.length;
  const note =
    shown < m.users.total
      ? `<p>The first ${num(shown)} of ${num(m.users.total)} users, in plan order, are listed here (at most ${num(REPORT_USER_ROWS)}); report.csv beside this page lists every user.</p>`
      : `<p>All ${num(m.users.total)} users of the plan. report.csv beside this page has the same rows.</p>`;
  const decisions = [...new Set(m.users.rows.map((r) => r.decision))].sort();
  const options = decisions
    .map((d) => `<option value="${escapeHtml(d)}">${escapeHtml(d)}</option>`)
    .join("");
  return (
    `<section aria-labelledby="h-users"><h2 id="h-users">Users</h2>${note}` +
    `<div class="filters" role="search" aria-label="Filter the users">` +
    `<label for="user-search">Search</label> <input id="user-search" type="search" autocomplete="off" spellcheck="false" aria-controls="users" aria-describedby="user-search-help">` +
    `<label for="user-decision">Decision</label> <select id="user-decision" aria-controls="users"><option value="">all</option>${options}</select>` +
    `<span id="user-search-help" class="help">Matches any part of the UPN, decision, outcome, code or number.</span></div>` +
    `<p id="user-count" role="status" aria-live="polite">Showing ${num(shown)} of ${num(shown)} users listed here.</p>` +
    `<table id="users" class="users"><caption>Users, their decision, outcome and number${m.settings?.logPhoneNumbers === "full" ? "" : " (masked)"}</caption>` +
    `<thead><tr><th scope="col">User principal name</th><th scope="col">Decision</th><th scope="col">Outcome</th><th scope="col">Code</th><th scope="col">Number</th></tr></thead><tbody>\n`
  );
}

const STYLE = `
:root{color-scheme:light;--fg:#1a1a1a;--muted:#555;--line:#c8c8c8;--accent:#1f4e79;--warn:#8b1a1a}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;background:#fff}
header,main,footer{max-width:1100px;margin:0 auto;padding:0 20px}
header{padding-top:18px;border-bottom:3px solid var(--accent)}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.3em;margin:1.6em 0 .5em;border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1.05em;margin:1.2em 0 .4em}
.lead{font-size:1.1em}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3em 1.2em}
a{color:var(--accent)}a:focus,input:focus,select:focus,summary:focus{outline:3px solid #f0a500;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px 8px}
code{font-family:ui-monospace,Consolas,monospace;font-size:.92em}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25em 1.2em}dl.facts dt{font-weight:600}dl.facts dd{margin:0}
table{border-collapse:collapse;margin:.6em 0 1em;min-width:40%}
caption{text-align:left;font-weight:600;padding:.3em 0}
th,td{border:1px solid var(--line);padding:.25em .6em;text-align:left;vertical-align:top}
thead th{background:#f2f4f7}
tbody th{font-weight:normal}
th.n,td.n{text-align:right;font-variant-numeric:tabular-nums}
td.phone{font-family:ui-monospace,Consolas,monospace;white-space:nowrap}
.chart{margin:.5em 0;max-width:760px}.chart svg{display:block}
.chart text{font-size:13px;fill:var(--fg)}.chart text.axis{font-size:11px;fill:var(--muted)}
.legend{list-style:none;padding:0;margin:.3em 0;display:flex;flex-wrap:wrap;gap:.2em 1.2em;font-size:.88em;color:var(--muted)}
.legend li{display:flex;align-items:center;gap:.4em}
.defs{position:absolute}
.warn{border-left:4px solid var(--warn);padding:.3em .7em;background:#fbf0f0}
.filters{display:flex;flex-wrap:wrap;gap:.4em .8em;align-items:center;margin:.6em 0}
.filters input{font:inherit;padding:.3em .5em;min-width:22em}.filters select{font:inherit;padding:.25em}
.help{color:var(--muted);font-size:.88em;flex-basis:100%}
table.users{width:100%}table.users th,table.users td{overflow-wrap:anywhere}
tr[hidden]{display:none}
footer{color:var(--muted);font-size:.88em;margin-top:2em;padding-bottom:2em;border-top:1px solid var(--line)}
@media print{nav,.filters,#user-count{display:none}details{display:block}}
`;

/** Filters the user rows: a substring of any cell, and the decision; the count is announced. */
const SCRIPT = `
(function () {
  var search = document.getElementById("user-search");
  var decision = document.getElementById("user-decision");
  var status = document.getElementById("user-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#users tbody tr"));
  var texts = rows.map(function (r) {
    return Array.prototype.map.call(r.cells, function (c) { return c.textContent; }).join("\\n").toLowerCase();
  });
  var pending;
  function apply() {
    var q = search.value.trim().toLowerCase();
    var d = decision.value;
    var shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var ok = (!q || texts[i].indexOf(q) >= 0) && (!d || rows[i].getAttribute("data-decision") === d);
      rows[i].hidden = !ok;
      if (ok) { shown++; }
    }
    status.textContent = "Showing " + shown.toLocaleString("en-US") + " of " + rows.length.toLocaleString("en-US") + " users listed here.";
  }
  search.addEventListener("input", function () { clearTimeout(pending); pending = setTimeout(apply, 100); });
  decision.addEventListener("change", apply);
})();
`;

/** Everything before the user rows. */
function pageHead(m: ReportModel): string {
  const nav = [
    ["run", "The run"],
    ["settings", "Settings"],
    ["decisions", "Decisions"],
    ["outcomes", "Outcomes"],
    ["timeline", "Write rate"],
    ["guards", "Guards"],
    ...(m.preflight ? [["policy", "Policy"]] : []),
    ...(m.readiness ? [["readiness", "Readiness"]] : []),
    ["users", "Users"],
  ]
    .map(([id, text]) => `<li><a href="#h-${id}">${text}</a></li>`)
    .join("");
  return (
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="${REPORT_CSP}">` +
    `<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>Run report ${escapeHtml(m.runId)}</title><style>${STYLE}</style></head>\n<body>` +
    `<a class="skip" href="#h-users">Skip to the users</a>${patternDefs()}` +
    `<header><h1>Run report <code>${escapeHtml(m.runId)}</code></h1><p class="lead">${escapeHtml(lead(m))}</p>` +
    `<nav aria-label="Sections"><ul>${nav}</ul></nav></header>\n<main>` +
    runSection(m) +
    settingsSection(m) +
    decisionsSection(m) +
    outcomesSection(m) +
    timelineSection(m) +
    guardsSection(m) +
    preflightSection(m) +
    readinessSection(m) +
    usersHead(m)
  );
}

function pageTail(m: ReportModel): string {
  return (
    `</tbody></table></section></main>\n<footer><p>mfa-prepopulate run report. Beside this page: ` +
    `<code>${escapeHtml(m.files.csv)}</code> (every user) and <code>${escapeHtml(m.files.json)}</code> (these numbers as JSON). ` +
    `Numbers are masked unless LOG_PHONE_NUMBERS is full. This page loads nothing from the network.</p></footer>` +
    `<script>${SCRIPT}</script></body></html>\n`
  );
}

/**
 * The page in pieces, for writing as a stream: the sections, then the user rows a few hundred at
 * a time, then the end of the page.
 *
 * @param m - the report model.
 */
export function* reportHtml(m: ReportModel): Generator<string> {
  yield pageHead(m);
  const rows = m.users.rows;
  for (let i = 0; i < rows.length; i += ROWS_PER_PIECE) {
    yield (
      rows
        .slice(i, i + ROWS_PER_PIECE)
        .map(userRow)
        .join("\n") + "\n"
    );
  }
  yield pageTail(m);
}

/**
 * The page as one string (tests, and reports small enough to hold).
 *
 * @param m - the report model.
 */
export function renderReportHtml(m: ReportModel): string {
  return [...reportHtml(m)].join("");
}
