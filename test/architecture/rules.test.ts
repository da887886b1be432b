/**
 * The rules of the house that the compiler does not check, read from the source: no function
 * over about 80 lines in production code without a reason written above it, no activity
 * imported by another activity, orchestrators call activities only through their definitions,
 * and the local host and emulator import nothing of the product.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const PRODUCTION = ["orchestrators", "activities", "shared", "local", "infra/scripts"];
const MAX_LINES = 80;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(repo, dir))) {
    const rel = path.join(dir, name);
    if (statSync(path.join(repo, rel)).isDirectory()) {
      out.push(...sources(rel));
    } else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) {
      out.push(rel);
    }
  }
  return out;
}

const files = PRODUCTION.flatMap(sources);

/** Functions longer than the limit with no comment line right above them that gives a reason. */
function longFunctions(file: string): string[] {
  const text = readFileSync(path.join(repo, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = end - start + 1;
      const leading = text.slice(node.getFullStart(), node.getStart());
      if (lines > MAX_LINES && !/\bLong because\b/i.test(leading)) {
        const name = ts.getNameOfDeclaration(node as ts.Declaration)?.getText() ?? "(anonymous)";
        found.push(`${file}:${start + 1} ${name} (${lines} lines)`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function imports(file: string): string[] {
  const text = readFileSync(path.join(repo, file), "utf8");
  return [...text.matchAll(/^import[^;]*?from "([^"]+)";/gms)].map((m) => m[1] ?? "");
}

describe("rules of the house", () => {
  it(`has no production function over ${MAX_LINES} lines without a reason written above it ("Long because ...")`, () => {
    expect(files.flatMap(longFunctions)).toEqual([]);
  });

  it("has no activity that imports another activity", () => {
    const offenders = files
      .filter((f) => f.startsWith("activities/"))
      .flatMap((f) =>
        imports(f)
          .filter((i) => i.startsWith("./"))
          .map((i) => `${f} -> ${i}`),
      );
    expect(offenders).toEqual([]);
  });

  it("calls activities and sub-orchestrations only through their definitions", () => {
    const offenders = files
      .filter((f) => f.startsWith("orchestrators/") || f.startsWith("activities/"))
      .filter((f) =>
        /\.(callActivity|callActivityWithRetry|callSubOrchestrator|callSubOrchestratorWithRetry)\(/.test(
          readFileSync(path.join(repo, f), "utf8"),
        ),
      );
    expect(offenders).toEqual([]);
  });

  it("keeps the local host and the emulator free of the product", () => {
    const offenders = files
      .filter((f) => f.startsWith("local/host/") || f.startsWith("local/graph-emulator/"))
      .flatMap((f) =>
        imports(f)
          .filter((i) => /(^|\/)(shared|activities|orchestrators)\//.test(i))
          .map((i) => `${f} -> ${i}`),
      );
    expect(offenders).toEqual([]);
  });

  it("keeps production code free of local/", () => {
    const offenders = files
      .filter((f) => /^(shared|activities|orchestrators)\//.test(f))
      .flatMap((f) =>
        imports(f)
          .filter((i) => i.includes("/local/"))
          .map((i) => `${f} -> ${i}`),
      );
    expect(offenders).toEqual([]);
  });
});
