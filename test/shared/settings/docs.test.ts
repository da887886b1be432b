/**
 * The documentation the settings spec generates is what is committed: the README's settings
 * table and `local.settings.json.sample` (regenerate with `npm run docs:settings`).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  README_MARKERS,
  localSettingsSample,
  readmeWithSettingsTable,
} from "../../../scripts/settingsDocs.js";
import { SETTINGS, loadSettings } from "../../../shared/settings/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const read = (rel: string): string => readFileSync(path.join(repo, rel), "utf8");

describe("generated settings documentation", () => {
  it("README.md's settings table is the one the spec generates", async () => {
    const readme = read("README.md");
    expect(readme).toContain(README_MARKERS.begin);
    expect(readme).toContain(README_MARKERS.end);
    expect(readme, "run npm run docs:settings").toBe(await readmeWithSettingsTable(readme));
  });

  it("lists every setting of the spec in README.md, each once", () => {
    const readme = read("README.md");
    const table = readme.slice(
      readme.indexOf(README_MARKERS.begin),
      readme.indexOf(README_MARKERS.end),
    );
    const names = [...table.matchAll(/^\|[^|]*\| `([^`]+)` +\|/gm)].map((m) => m[1]);
    expect(names).toEqual(SETTINGS.map((row) => row.name));
  });

  it("local.settings.json.sample is the one the spec generates", () => {
    expect(read("local.settings.json.sample"), "run npm run docs:settings").toBe(
      localSettingsSample(),
    );
  });

  it("the sample holds only declared settings, with values the app accepts", () => {
    const sample = JSON.parse(localSettingsSample()) as { Values: Record<string, string> };
    const names = new Set<string>(SETTINGS.map((row) => row.name));
    for (const name of Object.keys(sample.Values)) {
      expect(names.has(name), name).toBe(true);
    }
    expect(() => loadSettings(sample.Values)).not.toThrow();
  });
});
