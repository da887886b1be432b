/**
 * The workbook and its KQL: the JSON is valid, embeds each query file verbatim, and the queries'
 * patterns match the lines the product writes (shared/log/seedLines.ts) and the seed's wordings.
 * KQL cannot run offline, so the patterns are lifted out of the files and run in JavaScript.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { logEvent, type RunEventName } from "../../shared/log/events.js";
import {
  numberFormatErrorLine,
  provisionedLine,
  provisioningFailedLine,
  runstateLine,
  targetedUsersLine,
  usersWithoutMfaLine,
} from "../../shared/log/seedLines.js";
import { buildWorkbook } from "../../infra/scripts/buildWorkbook.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (rel: string): string => readFileSync(path.join(repo, rel), "utf8");

const kqlFiles = readdirSync(path.join(repo, "infra/kql"))
  .filter((f) => f.endsWith(".kql"))
  .sort();
const kql = (name: string): string => read(`infra/kql/${name}`);

interface WorkbookItem {
  type: number;
  name: string;
  content: {
    query?: string;
    timeContextFromParameter?: string;
    resourceType?: string;
    parameters?: { name: string }[];
  };
}

const workbook = JSON.parse(read("infra/workbook/mfa-prepopulate.workbook.json")) as {
  version: string;
  items: WorkbookItem[];
};

/** The regex of `extract(@"...", ...)` calls in a query, in order. */
function extracts(query: string): RegExp[] {
  return [...query.matchAll(/extract\(@"((?:[^"]|"")*)"/g)].map(
    (m) => new RegExp((m[1] ?? "").replace(/""/g, '"')),
  );
}

/** The `startswith "..."` literals of a query. */
function prefixes(query: string): string[] {
  return [...query.matchAll(/startswith "([^"]*)"/g)].map((m) => m[1] ?? "");
}

/** What `trim(@'"', Line)` does to a runbook job-stream line. */
const trimQuotes = (line: string): string => line.replace(/^"+|"+$/g, "");

describe("the workbook", () => {
  it("is Notebook JSON with a time-range parameter", () => {
    expect(workbook.version).toBe("Notebook/1.0");
    const parameters = workbook.items.find((i) => i.type === 9);
    expect(parameters?.content.parameters?.map((p) => p.name)).toContain("TimeRange");
  });

  it("embeds each KQL file verbatim, once, and no other query", () => {
    const queries = workbook.items.filter((i) => i.type === 3);
    expect(kqlFiles).toEqual([
      "failures-by-graph-code.kql",
      "numbers-changed.kql",
      "readiness.kql",
      "shared-numbers.kql",
      "status-per-run.kql",
      "throughput-per-run.kql",
      "users-without-mfa.kql",
    ]);
    expect(queries.map((q) => `${q.name}.kql`).sort()).toEqual(kqlFiles);
    for (const q of queries) {
      expect(q.content.query, q.name).toBe(kql(`${q.name}.kql`).trimEnd());
      expect(q.content.timeContextFromParameter).toBe("TimeRange");
      expect(q.content.resourceType).toBe("microsoft.operationalinsights/workspaces");
    }
  });

  it("is exactly what buildWorkbook.ts makes of infra/kql", () => {
    expect(workbook).toEqual(buildWorkbook(path.join(repo, "infra/kql")));
  });

  it("refuses to build with a query file that is missing or not listed", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "kql-"));
    try {
      for (const f of kqlFiles) {
        writeFileSync(path.join(dir, f), "x");
      }
      writeFileSync(path.join(dir, "extra.kql"), "x");
      expect(() => buildWorkbook(dir)).toThrow(/'extra\.kql' is not listed/);
      rmSync(path.join(dir, "extra.kql"));
      rmSync(path.join(dir, "status-per-run.kql"));
      expect(() => buildWorkbook(dir)).toThrow(/status-per-run\.kql' is missing/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is the file the Bicep workbook module loads", () => {
    expect(read("infra/app/workbook.bicep")).toContain(
      "loadTextContent('../workbook/mfa-prepopulate.workbook.json')",
    );
  });
});

/** Views the runbook never had (guards, readiness): they read the product's structured events only. */
const GUARD_VIEWS: Record<string, string> = {
  "numbers-changed.kql": "numberChanged",
  "shared-numbers.kql": "sharedNumber",
  "readiness.kql": "readinessCounted",
};

describe("the KQL queries", () => {
  it.each(kqlFiles.filter((f) => !(f in GUARD_VIEWS)))(
    "%s reads the product's traces and the seed's runbook output",
    (file) => {
      const query = kql(file);
      expect(query).toMatch(/union isfuzzy=true/);
      expect(query).toMatch(/\(AppTraces \| project TimeGenerated, Line = Message\)/);
      expect(query).toMatch(/\(traces \| project TimeGenerated = timestamp, Line = message\)/);
      expect(query).toMatch(
        /column_ifexists\("RunbookName_s", ""\) startswith "AzAutomationScript4MFAPrePopulate"/,
      );
      expect(query).toMatch(/\| extend Line = trim\(@'"', Line\)/);
    },
  );

  it.each(Object.entries(GUARD_VIEWS))(
    "%s reads the product's %s events from its traces",
    (file, event) => {
      const query = kql(file);
      expect(query).toMatch(/\(AppTraces \| project TimeGenerated, Line = Message\)/);
      expect(query).toMatch(/\(traces \| project TimeGenerated = timestamp, Line = message\)/);
      expect(query).toContain(`where Line startswith '{"event":"${event}"'`);
      expect(query).toMatch(/parse_json\(Line\)/);
      // The product writes the event exactly so.
      const lines: string[] = [];
      logEvent({ info: (line: string) => lines.push(line) }, event as RunEventName, { runId: "r" });
      expect(lines[0]?.startsWith(`{"event":"${event}"`)).toBe(true);
    },
  );

  it("reads the users-without-MFA count from the product's line and both seed wordings", () => {
    const [pattern] = extracts(kql("users-without-mfa.kql"));
    const lines = [
      usersWithoutMfaLine(1234),
      trimQuotes('"Stats: Number of users without MFA is: 1234"'),
      trimQuotes('"Stats: Numbers of users without MFA is: 1234"'),
    ];
    for (const line of lines) {
      expect(prefixes(kql("users-without-mfa.kql")).some((p) => line.startsWith(p))).toBe(true);
      expect(pattern?.exec(line)?.[1], line).toBe("1234");
    }
    expect(pattern?.exec(targetedUsersLine(5))).toBeNull();
  });

  it("counts each kind of Status line, and the targeted count, per run", () => {
    const query = kql("status-per-run.kql");
    const [withoutMfa, targeted] = extracts(query);
    expect(withoutMfa?.exec(usersWithoutMfaLine(40))?.[1]).toBe("40");
    expect(targeted?.exec(targetedUsersLine(7))?.[1]).toBe("7");
    expect(
      targeted?.exec(
        "Stats: Numbers of targeted users without MFA and a mobile number in AAD is: 7",
      )?.[1],
    ).toBe("7");
    const counted = (line: string): string[] => prefixes(query).filter((p) => line.startsWith(p));
    expect(counted(provisionedLine("a@x.example", "+45 20123456", "masked"))).toContain(
      "Status: MFA Phonemethod provisioned successfully",
    );
    expect(counted(numberFormatErrorLine("a@x.example", "12", "masked"))).toContain(
      "Status: Number Format error",
    );
    expect(counted(provisioningFailedLine("a@x.example", "accessDenied", "Denied"))).toContain(
      "Status: MFA Phonemethod provisioning failed",
    );
    expect(counted(runstateLine("Pilot"))).toContain("Runstate ");
    expect(counted(runstateLine(undefined))).toContain("Runstate ");
  });

  it("groups failures by the Graph code, also when the message itself holds colons", () => {
    const [message, code] = extracts(kql("failures-by-graph-code.kql"));
    const cases: [string, string][] = [
      [
        provisioningFailedLine("a@x.example", "accessDenied", "Request Authorization failed"),
        "accessDenied",
      ],
      [
        provisioningFailedLine("o'brien@x.example", "invalidPhoneNumber", "Bad: '+45 ...'"),
        "invalidPhoneNumber",
      ],
      [
        trimQuotes(
          '"Status: MFA Phonemethod provisioning failed; User: b@x.example; Message: Request_BadRequest: Invalid value."',
        ),
        "Request_BadRequest",
      ],
    ];
    for (const [line, expected] of cases) {
      const m = message?.exec(line)?.[1] ?? "";
      expect(code?.exec(m)?.[1], line).toBe(expected);
    }
    expect(code?.exec("HTTP 500 without a code")).toBeNull();
  });

  it("measures throughput from the written and attempted Status lines", () => {
    const query = kql("throughput-per-run.kql");
    const written = provisionedLine("a@x.example", "+45 20123456", "masked");
    const failed = provisioningFailedLine("a@x.example", "serviceUnavailable", "Try later");
    expect(query).toContain(
      `countif(Line startswith "Status: MFA Phonemethod provisioned successfully")`,
    );
    expect(written.startsWith("Status: MFA Phonemethod provisioned successfully")).toBe(true);
    expect(written.startsWith("Status: MFA Phonemethod provision")).toBe(true);
    expect(failed.startsWith("Status: MFA Phonemethod provision")).toBe(true);
    expect(failed.startsWith("Status: MFA Phonemethod provisioned successfully")).toBe(false);
  });
});
