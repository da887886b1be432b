/**
 * Every KQL query the product ships (the files in infra/kql and every query in the workbook JSON)
 * is parsed and type-checked by Microsoft's Kusto language service against the documented
 * tables, in each place it runs (infra/scripts/kqlSchemas.ts). A new .kql file is picked up
 * without touching this test.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  analyzeKql,
  checkShippedQuery,
  formatProblem,
  shippedQueries,
} from "../../infra/scripts/kqlCheck.js";
import { APP_TRACES, AZURE_DIAGNOSTICS, DEPLOYMENTS } from "../../infra/scripts/kqlSchemas.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const kqlDir = path.join(repo, "infra/kql");
const workbookFile = path.join(repo, "infra/workbook/mfa-prepopulate.workbook.json");
const queries = shippedQueries(kqlDir, workbookFile).map((q) => ({
  ...q,
  source: path.relative(repo, q.source),
}));
const statusPerRun = readFileSync(path.join(kqlDir, "status-per-run.kql"), "utf8");

/** The 1-based line and column of the first `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const before = text.slice(0, text.indexOf(needle)).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

describe("the shipped KQL queries", () => {
  it("are every .kql file and every query in the workbook", () => {
    const files = readdirSync(kqlDir).filter((f) => f.endsWith(".kql"));
    const workbook = JSON.parse(readFileSync(workbookFile, "utf8")) as {
      items: { name: string; content: { query?: string } }[];
    };
    const embedded = workbook.items.flatMap((item, i) =>
      typeof item.content.query === "string"
        ? [`${path.relative(repo, workbookFile)} $.items[${i}](${item.name}).content.query`]
        : [],
    );
    expect(files.length).toBeGreaterThan(0);
    expect(embedded.length).toBeGreaterThan(0);
    expect(queries.map((q) => q.source)).toEqual([
      ...files.sort().map((f) => path.join("infra/kql", f)),
      ...embedded,
    ]);
  });

  it.each(queries.map((q) => [q.source, q.text]))(
    "%s parses and type-checks in every place it runs",
    (source, text) => {
      expect(checkShippedQuery(text).map((p) => formatProblem(source, p))).toEqual([]);
    },
  );
});

describe("the KQL checker", () => {
  it("reports an unknown column with its position", () => {
    const broken = statusPerRun.replace("Line = Message", "Line = Mesage");
    const problems = checkShippedQuery(broken);
    expect(problems).toContainEqual(
      expect.objectContaining({
        severity: "Error",
        code: "KS142",
        near: "Mesage",
        ...positionOf(broken, "Mesage"),
      }),
    );
    expect(formatProblem("q.kql", problems[0]!)).toMatch(
      /^q\.kql:\d+:\d+ \[.+\] Error KS142: The name 'Mesage' does not refer to any known column.*\(at 'Mesage'\)$/,
    );
  });

  it("reports a syntax error at the end of the text it could not finish", () => {
    const query = "AppTraces | where";
    expect(analyzeKql(query, [APP_TRACES])).toEqual([
      expect.objectContaining({
        severity: "Error",
        code: "KS006",
        start: query.length,
        line: 1,
        column: query.length + 1,
      }),
    ]);
  });

  it("type-checks with the schema's column types", () => {
    expect(analyzeKql("AppTraces | summarize avg(Message)", [APP_TRACES])).toEqual([
      expect.objectContaining({ severity: "Error", code: "KS127" }),
    ]);
    expect(analyzeKql("AppTraces | summarize avg(SeverityLevel)", [APP_TRACES])).toEqual([]);
  });

  it("reports an unknown table, a column of another table and an unknown function", () => {
    expect(analyzeKql("AppTrace | count", [APP_TRACES])).toEqual([
      expect.objectContaining({ severity: "Error", code: "KS204", near: "AppTrace" }),
    ]);
    expect(analyzeKql("AppTraces | project ResultDescription", [APP_TRACES])).toEqual([
      expect.objectContaining({ severity: "Error", code: "KS142", near: "ResultDescription" }),
    ]);
    expect(
      analyzeKql("AppTraces | extend n = nosuchfunction(Message)", [APP_TRACES, AZURE_DIAGNOSTICS]),
    ).toEqual([expect.objectContaining({ severity: "Error", code: "KS211" })]);
  });

  it("lets union isfuzzy=true skip a documented table that a deployment lacks", () => {
    const fuzzy =
      "union isfuzzy=true (AppTraces | project TimeGenerated), (traces | project TimeGenerated = timestamp)";
    expect(checkShippedQuery(fuzzy)).toEqual([]);
    const plain = checkShippedQuery("traces | project timestamp");
    expect(plain).toEqual([
      expect.objectContaining({ severity: "Error", code: "KS204", near: "traces" }),
    ]);
    expect(plain[0]?.context).toContain("Log Analytics workspace");
  });

  it("fails a misspelt table even inside union isfuzzy=true", () => {
    const misspelt = "union isfuzzy=true (AppTrace | project TimeGenerated)";
    expect(checkShippedQuery(misspelt)).toEqual([
      expect.objectContaining({
        severity: "Warning",
        code: "KS205",
        near: "AppTrace",
        context: expect.stringContaining("all documented tables"),
      }),
    ]);
  });

  it("fails a runbook column read without column_ifexists, where AzureDiagnostics lacks it", () => {
    const withoutRunbookColumns = DEPLOYMENTS.find(
      (d) => !d.tables.some((t) => t.name === "AzureDiagnostics" && "RunbookName_s" in t.columns),
    );
    expect(withoutRunbookColumns?.tables.map((t) => t.name)).toContain("AzureDiagnostics");
    const read = (column: string): string =>
      `union isfuzzy=true (AzureDiagnostics | where ${column} startswith "x" | project TimeGenerated)`;
    expect(checkShippedQuery(read("RunbookName_s"))).toEqual([
      expect.objectContaining({
        severity: "Error",
        code: "KS142",
        near: "RunbookName_s",
        context: withoutRunbookColumns?.name,
      }),
    ]);
    expect(checkShippedQuery(read('column_ifexists("RunbookName_s", "")'))).toEqual([]);
  });

  it("fails on the language service's best-practice warnings", () => {
    expect(checkShippedQuery("AppTraces | join (AppTraces) on OperationId")).toContainEqual(
      expect.objectContaining({ severity: "Warning", code: "KS508", near: "join" }),
    );
  });

  it("fails a blank line inside a query, which would split it in the Logs editor", () => {
    const appTraces = "union isfuzzy=true (AppTraces | project TimeGenerated)";
    expect(checkShippedQuery(`${appTraces}\n| take 1\n  \n| count`)).toEqual([
      expect.objectContaining({ severity: "Error", code: "blank-line", line: 3, column: 1 }),
    ]);
    expect(checkShippedQuery(`\n${appTraces}\n| take 1\n\n`)).toEqual([]);
  });
});
