/**
 * Writes the documentation the settings spec (`shared/settings/spec.ts`) generates: the settings
 * table in README.md (between the `settings:begin` and `settings:end` markers) and
 * `local.settings.json.sample`. After changing the spec, run
 *
 *   npm run docs:settings
 *
 * A test fails when the committed files and this output differ.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";
import { SETTINGS, type SettingRow } from "../shared/settings/spec.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The markers around the generated table in README.md. */
export const README_MARKERS = {
  begin:
    "<!-- settings:begin (generated from shared/settings/spec.ts by npm run docs:settings) -->",
  end: "<!-- settings:end -->",
} as const;

function flagCell(row: SettingRow): string {
  if (row.key === undefined || row.flag === undefined) {
    return "–";
  }
  const flags = [row.flag.flag, row.flag.negation].filter((f) => f !== undefined);
  return flags.map((f) => `\`${f}\``).join(" / ");
}

function defaultCell(row: SettingRow): string {
  if (row.shownDefault !== undefined) {
    return row.shownDefault;
  }
  return row.default !== undefined ? `\`${row.default}\`` : "–";
}

/** The settings table, one row per setting, the group named on its first row; Prettier's layout. */
export async function settingsTable(): Promise<string> {
  const lines = [
    "| Group | Setting | CLI flag | Default | Meaning |",
    "| --- | --- | --- | --- | --- |",
  ];
  let group = "";
  for (const row of SETTINGS) {
    const groupCell = row.group === group ? "" : row.group;
    group = row.group;
    lines.push(
      `| ${groupCell} | \`${row.name}\` | ${flagCell(row)} | ${defaultCell(row)} | ${row.description} |`,
    );
  }
  const options = (await prettier.resolveConfig(path.join(repo, "README.md"))) ?? {};
  return prettier.format(lines.join("\n"), { ...options, parser: "markdown" });
}

/**
 * README.md with the generated table between its markers.
 *
 * @param readme - the README's text.
 */
export async function readmeWithSettingsTable(readme: string): Promise<string> {
  const begin = readme.indexOf(README_MARKERS.begin);
  const end = readme.indexOf(README_MARKERS.end);
  if (begin < 0 || end < begin) {
    throw new Error("README.md lacks the settings:begin and settings:end markers.");
  }
  const head = readme.slice(0, begin + README_MARKERS.begin.length);
  return `${head}\n\n${await settingsTable()}\n${readme.slice(end)}`;
}

/** `local.settings.json.sample`: the settings the spec gives a sample value, in spec order. */
export function localSettingsSample(): string {
  const values: Record<string, string> = {};
  for (const row of SETTINGS) {
    if (row.sample !== undefined) {
      values[row.name] = row.sample === true ? (row.default ?? "") : row.sample;
    }
  }
  return `${JSON.stringify({ IsEncrypted: false, Values: values }, null, 2)}\n`;
}

const invokedAs = process.argv[1] ? path.resolve(process.argv[1]) : "";
if (invokedAs === fileURLToPath(import.meta.url)) {
  const readmePath = path.join(repo, "README.md");
  writeFileSync(readmePath, await readmeWithSettingsTable(readFileSync(readmePath, "utf8")));
  writeFileSync(path.join(repo, "local.settings.json.sample"), localSettingsSample());
  process.stderr.write("Wrote the settings table in README.md and local.settings.json.sample.\n");
}
