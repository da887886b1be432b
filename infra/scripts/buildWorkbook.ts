/**
 * Builds `infra/workbook/mfa-prepopulate.workbook.json` from the queries in `infra/kql/`, so the
 * queries have one source: edit a `.kql` file, then run
 *
 *   npx tsx infra/scripts/buildWorkbook.ts
 *
 * A test fails when the committed workbook and this output differ.
 */
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The workbook's query items, in display order: file name (without `.kql`) and look. */
export const WORKBOOK_QUERIES: readonly {
  name: string;
  title: string;
  visualization: "table" | "timechart";
  noDataMessage?: string;
}[] = [
  {
    name: "status-per-run",
    title: "Status per run",
    visualization: "table",
    noDataMessage: "No runs in this time range.",
  },
  { name: "users-without-mfa", title: "Users without MFA over time", visualization: "timechart" },
  {
    name: "failures-by-graph-code",
    title: "Failures by Graph error code",
    visualization: "table",
    noDataMessage: "No failed writes in this time range.",
  },
  {
    name: "throughput-per-run",
    title: "Throughput per run (writes per minute)",
    visualization: "table",
  },
  {
    name: "numbers-changed",
    title: "Numbers changed since the last run (not written until settled)",
    visualization: "table",
    noDataMessage: "No number changed in this time range.",
  },
  {
    name: "shared-numbers",
    title: "Numbers several users share (written for none of them)",
    visualization: "table",
    noDataMessage: "No shared number in this time range.",
  },
  {
    name: "readiness",
    title: "Readiness for the end of Microsoft SMS and voice (users per run)",
    visualization: "timechart",
  },
];

const DAY_MS = 86_400_000;
const WORKSPACE = "microsoft.operationalinsights/workspaces";

/**
 * The workbook (Notebook/1.0 JSON) with the queries read from `kqlDir`.
 *
 * @param kqlDir - folder holding one `.kql` file per entry of {@link WORKBOOK_QUERIES}
 * @returns the workbook object, ready for `JSON.stringify`
 * @throws Error naming a query file that is missing or not listed.
 */
export function buildWorkbook(kqlDir: string): Record<string, unknown> {
  const files = readdirSync(kqlDir).filter((f) => f.endsWith(".kql"));
  const listed = WORKBOOK_QUERIES.map((q) => `${q.name}.kql`);
  const unlisted = files.filter((f) => !listed.includes(f));
  if (unlisted.length > 0) {
    throw new Error(
      `BuildWorkbook: '${unlisted.join("', '")}' is not listed in WORKBOOK_QUERIES; add it there.`,
    );
  }
  const items = WORKBOOK_QUERIES.map((q) => {
    const file = path.join(kqlDir, `${q.name}.kql`);
    if (!files.includes(`${q.name}.kql`)) {
      throw new Error(`BuildWorkbook: the query file '${file}' is missing.`);
    }
    return {
      type: 3,
      name: q.name,
      content: {
        version: "KqlItem/1.0",
        query: readFileSync(file, "utf8").trimEnd(),
        size: 0,
        title: q.title,
        timeContextFromParameter: "TimeRange",
        queryType: 0,
        resourceType: WORKSPACE,
        visualization: q.visualization,
        ...(q.noDataMessage ? { noDataMessage: q.noDataMessage } : {}),
      },
    };
  });
  return {
    version: "Notebook/1.0",
    items: [
      {
        type: 1,
        name: "header",
        content: {
          json:
            "## MFA phone-method prepopulation\n" +
            "Runs of the mfa-prepopulate Function app (and of the original Automation runbook, if its job output reaches this workspace). " +
            "Each query is a file in `infra/kql/` in the repository; open one in **Logs** to change it.",
        },
      },
      {
        type: 9,
        name: "parameters",
        content: {
          version: "KqlParameterItem/1.0",
          parameters: [
            {
              id: "8f0c1d52-6a43-4c38-9a37-5d2f3b8f6a11",
              version: "KqlParameterItem/1.0",
              name: "TimeRange",
              label: "Time range",
              type: 4,
              isRequired: true,
              // 14 days, the original workbook's default.
              value: { durationMs: 14 * DAY_MS },
              typeSettings: {
                selectableValues: [1, 3, 7, 14, 30, 60, 90].map((d) => ({
                  durationMs: d * DAY_MS,
                })),
                allowCustom: true,
              },
            },
          ],
          style: "pills",
          queryType: 0,
          resourceType: WORKSPACE,
        },
      },
      ...items,
    ],
    isLocked: false,
    fallbackResourceIds: [],
    $schema:
      "https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json",
  };
}

const here = path.dirname(fileURLToPath(import.meta.url));
const invokedAs = process.argv[1] ? path.resolve(process.argv[1]) : "";
if (invokedAs === fileURLToPath(import.meta.url)) {
  const out = path.join(here, "../workbook/mfa-prepopulate.workbook.json");
  writeFileSync(out, `${JSON.stringify(buildWorkbook(path.join(here, "../kql")), null, 2)}\n`);
  process.stderr.write(`Wrote '${path.relative(process.cwd(), out)}'.\n`);
}
