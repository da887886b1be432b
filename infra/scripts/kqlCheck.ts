/**
 * Parses and type-checks KQL with Microsoft's Kusto language service
 * (`@kusto/language-service-next`, its Kusto.Language library compiled to JavaScript) against the
 * documented tables in `kqlSchemas.ts`. Used by `test/infra/kql.test.ts`; also runs alone:
 *
 *   npx tsx infra/scripts/kqlCheck.ts
 *
 * which checks every shipped query (each `infra/kql/*.kql` and each query in the workbook JSON)
 * and exits 1 on a problem.
 *
 * The package is a Bridge.NET build of the C# library: loading it defines the globals `Bridge`
 * and `Kusto`, so it is loaded lazily, once, and only here.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEPLOYMENTS, DOCUMENTED } from "./kqlSchemas.js";

/** The column types the schemas use (KQL scalar type names). */
export type KqlType =
  | "string"
  | "int"
  | "long"
  | "real"
  | "decimal"
  | "bool"
  | "datetime"
  | "timespan"
  | "guid"
  | "dynamic";

/** A table: its name and its columns by name. */
export interface KqlTable {
  name: string;
  columns: Readonly<Record<string, KqlType>>;
}

/** One finding of the language service, with its place in the query text. */
export interface KqlDiagnostic {
  /** The service's code, e.g. `KS142` (unknown name) or `KS205` (fuzzy table not found). */
  code: string;
  severity: "Error" | "Warning" | "Suggestion" | "Information" | "Hidden";
  message: string;
  /** 0-based offset and length in the query text; line and column are 1-based. */
  start: number;
  length: number;
  line: number;
  column: number;
  /** The text the finding points at (empty for a missing token). */
  near: string;
}

// The few members of the Bridge.NET API used here; the package's own typings declare the whole
// C# library as global namespaces, far more than this file needs.
interface BridgeList<T> {
  Count: number;
  getItem(index: number): T;
}
interface ServiceDiagnostic {
  Code: string | null;
  Severity: string | null;
  Message: string | null;
  HasLocation: boolean;
  Start: number;
  Length: number;
}
interface GlobalState {
  WithDatabase(database: unknown): GlobalState;
}
interface ParsedCode {
  GetDiagnostics(): BridgeList<ServiceDiagnostic>;
}
type ScalarName = (typeof SCALAR)[KqlType];
interface KustoLanguage {
  GlobalState: { Default: GlobalState };
  KustoCode: { ParseAndAnalyze(text: string, globals: GlobalState): ParsedCode };
  Editor: {
    KustoCodeService: new (code: ParsedCode) => {
      GetAnalyzerDiagnostics(): BridgeList<ServiceDiagnostic>;
    };
  };
  Symbols: {
    ScalarTypes: Record<ScalarName, unknown>;
    ColumnSymbol: new (
      name: string,
      type: unknown,
      description: null,
      originalColumns: null,
      source: null,
      examples: null,
    ) => unknown;
    TableSymbol: { $ctor4: new (name: string, columns: unknown[]) => unknown };
    DatabaseSymbol: { ctor: new (name: string, members: unknown[]) => unknown };
  };
}

let language: KustoLanguage | undefined;

/** The `Kusto.Language` namespace, loaded on first use (about a second). */
function kusto(): KustoLanguage {
  if (!language) {
    const require = createRequire(import.meta.url);
    require("@kusto/language-service-next/bridge.min.js");
    require("@kusto/language-service-next/Kusto.Language.Bridge.min.js");
    const loaded = (globalThis as { Kusto?: { Language?: KustoLanguage } }).Kusto?.Language;
    if (!loaded) {
      throw new Error(
        "KqlCheck: '@kusto/language-service-next' loaded without defining Kusto.Language; reinstall it with 'npm ci'.",
      );
    }
    language = loaded;
  }
  return language;
}

/** The `Kusto.Language.Symbols.ScalarTypes` member of each type. */
const SCALAR = {
  string: "String",
  int: "Int",
  long: "Long",
  real: "Real",
  decimal: "Decimal",
  bool: "Bool",
  datetime: "DateTime",
  timespan: "TimeSpan",
  guid: "Guid",
  dynamic: "Dynamic",
} as const satisfies Record<KqlType, string>;

const globalsFor = new WeakMap<readonly KqlTable[], GlobalState>();

/** The service's global state with one closed database holding `tables` (unknown names fail). */
function globals(tables: readonly KqlTable[]): GlobalState {
  let state = globalsFor.get(tables);
  if (!state) {
    const { Symbols, GlobalState } = kusto();
    const symbols = tables.map(
      (t) =>
        new Symbols.TableSymbol.$ctor4(
          t.name,
          Object.entries(t.columns).map(
            ([name, type]) =>
              new Symbols.ColumnSymbol(
                name,
                Symbols.ScalarTypes[SCALAR[type]],
                null,
                null,
                null,
                null,
              ),
          ),
        ),
    );
    state = GlobalState.Default.WithDatabase(new Symbols.DatabaseSymbol.ctor("workspace", symbols));
    globalsFor.set(tables, state);
  }
  return state;
}

function toDiagnostic(query: string, d: ServiceDiagnostic): KqlDiagnostic {
  const start = d.HasLocation ? d.Start : 0;
  const before = query.slice(0, start).split("\n");
  return {
    code: d.Code ?? "",
    severity: (d.Severity ?? "Error") as KqlDiagnostic["severity"],
    message: d.Message ?? "",
    start,
    length: d.HasLocation ? d.Length : 0,
    line: before.length,
    column: (before.at(-1)?.length ?? 0) + 1,
    near: d.HasLocation ? query.slice(d.Start, d.Start + d.Length) : "",
  };
}

/**
 * Parses and analyses `query` against `tables`: syntax and binding diagnostics (unknown tables,
 * columns and functions, wrong arguments), plus with `analyzers` the service's best-practice
 * checks (e.g. a join without a kind).
 */
export function analyzeKql(
  query: string,
  tables: readonly KqlTable[],
  { analyzers = false }: { analyzers?: boolean } = {},
): KqlDiagnostic[] {
  const { KustoCode, Editor } = kusto();
  const code = KustoCode.ParseAndAnalyze(query, globals(tables));
  const found: ServiceDiagnostic[] = [];
  const add = (list: BridgeList<ServiceDiagnostic>): void => {
    for (let i = 0; i < list.Count; i++) {
      found.push(list.getItem(i));
    }
  };
  add(code.GetDiagnostics());
  if (analyzers) {
    add(new Editor.KustoCodeService(code).GetAnalyzerDiagnostics());
  }
  return found.map((d) => toDiagnostic(query, d));
}

/** A diagnostic that makes a shipped query unfit, and the place it was found for. */
export interface KqlProblem extends KqlDiagnostic {
  context: string;
}

/** KS205: a table named in `union isfuzzy=true` is not in this place; the union skips it. */
const FUZZY_TABLE_NOT_FOUND = "KS205";

const documentedNames = new Set(DOCUMENTED.tables.map((t) => t.name));

/**
 * What fails a query:
 * - any Error or Warning against all documented tables, analyzers included (Suggestion,
 *   Information and Hidden are hints about style, not defects, and pass);
 * - any Error or Warning in each real deployment, except a documented table that deployment
 *   lacks being skipped by `union isfuzzy=true` (KS205), which is what isfuzzy is for;
 * - a blank line inside the query: the Logs editor takes it as the end of the query and would
 *   run only the part under the cursor.
 */
export function checkShippedQuery(query: string): KqlProblem[] {
  // Trailing white space moves no position; without it, a .kql file and its workbook copy
  // (trimmed by buildWorkbook) are the same text and are analysed once.
  const text = query.trimEnd();
  let problems = checked.get(text);
  if (!problems) {
    problems = mergeContexts(findProblems(text));
    checked.set(text, problems);
  }
  return problems;
}

const checked = new Map<string, KqlProblem[]>();

function findProblems(query: string): KqlProblem[] {
  const fails = (d: KqlDiagnostic): boolean => d.severity === "Error" || d.severity === "Warning";
  const problems: KqlProblem[] = analyzeKql(query, DOCUMENTED.tables, { analyzers: true })
    .filter(fails)
    .map((d) => ({ ...d, context: DOCUMENTED.name }));
  for (const place of DEPLOYMENTS) {
    const lacks = (table: string): boolean =>
      documentedNames.has(table) && !place.tables.some((t) => t.name === table);
    const skipped = (d: KqlDiagnostic): boolean =>
      d.code === FUZZY_TABLE_NOT_FOUND && lacks(d.near);
    problems.push(
      ...analyzeKql(query, place.tables)
        .filter((d) => fails(d) && !skipped(d))
        .map((d) => ({ ...d, context: place.name })),
    );
  }
  const blank = blankLineInside(query);
  if (blank) {
    problems.push({
      code: "blank-line",
      severity: "Error",
      message: "A blank line ends the query in the Logs editor; remove it or put a comment there.",
      ...blank,
      length: 0,
      column: 1,
      near: "",
      context: "Logs editor",
    });
  }
  return problems;
}

/** One entry per finding, naming every place it was found in. */
function mergeContexts(problems: KqlProblem[]): KqlProblem[] {
  const merged = new Map<string, KqlProblem>();
  for (const p of problems) {
    const key = `${p.start}/${p.length}/${p.code}/${p.message}`;
    const seen = merged.get(key);
    merged.set(key, seen ? { ...seen, context: `${seen.context}; ${p.context}` } : p);
  }
  return [...merged.values()];
}

/** The first blank line between two non-blank lines of `query`, if any. */
function blankLineInside(query: string): { line: number; start: number } | undefined {
  const lines = query.split("\n");
  const first = lines.findIndex((l) => l.trim() !== "");
  const last = lines.findLastIndex((l) => l.trim() !== "");
  for (let i = first + 1; i < last; i++) {
    if (lines[i]?.trim() === "") {
      return { line: i + 1, start: lines.slice(0, i).join("\n").length + 1 };
    }
  }
  return undefined;
}

/** One problem as `source:line:column [context] Severity CODE: message (at 'text')`. */
export function formatProblem(source: string, p: KqlProblem): string {
  const near = p.near ? ` (at '${p.near}')` : "";
  return `${source}:${p.line}:${p.column} [${p.context}] ${p.severity} ${p.code}: ${p.message}${near}`;
}

/**
 * A query the product ships: where it is, for messages (a `.kql` file, or the workbook file and
 * the JSON path of the query in it, where line and column count within the query string), and
 * its text.
 */
export interface ShippedQuery {
  source: string;
  text: string;
}

/**
 * Every query the product ships: each `.kql` file in `kqlDir`, and every `query` string anywhere
 * in the workbook JSON (query items, also inside groups, and query-driven parameters).
 */
export function shippedQueries(kqlDir: string, workbookFile: string): ShippedQuery[] {
  const files = readdirSync(kqlDir)
    .filter((f) => f.endsWith(".kql"))
    .sort()
    .map((f) => ({
      source: path.join(kqlDir, f),
      text: readFileSync(path.join(kqlDir, f), "utf8"),
    }));
  const embedded: ShippedQuery[] = [];
  const visit = (node: unknown, where: string): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => visit(child, `${where}[${i}]`));
    } else if (node !== null && typeof node === "object") {
      const named = "name" in node && typeof node.name === "string" ? `(${node.name})` : "";
      for (const [key, value] of Object.entries(node)) {
        if (key === "query" && typeof value === "string") {
          embedded.push({ source: `${workbookFile} ${where}${named}.query`, text: value });
        } else {
          visit(value, `${where}${named}.${key}`);
        }
      }
    }
  };
  visit(JSON.parse(readFileSync(workbookFile, "utf8")), "$");
  return [...files, ...embedded];
}

const here = path.dirname(fileURLToPath(import.meta.url));
const invokedAs = process.argv[1] ? path.resolve(process.argv[1]) : "";
if (invokedAs === fileURLToPath(import.meta.url)) {
  const queries = shippedQueries(
    path.relative(process.cwd(), path.join(here, "../kql")),
    path.relative(process.cwd(), path.join(here, "../workbook/mfa-prepopulate.workbook.json")),
  );
  let failed = 0;
  for (const q of queries) {
    for (const p of checkShippedQuery(q.text)) {
      failed++;
      process.stderr.write(`${formatProblem(q.source, p)}\n`);
    }
  }
  process.stderr.write(`Checked ${queries.length} queries: ${failed} problem(s).\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}
