/**
 * The settings spec is well formed: one row per name, one property per row, flags that do not
 * collide, and defaults the app accepts.
 */
import { describe, expect, it } from "vitest";
import { APP_SETTINGS, SETTINGS, loadSettings } from "../../../shared/settings/index.js";

describe("the settings spec", () => {
  it("declares each name and each property once", () => {
    const names = SETTINGS.map((row) => row.name);
    expect(new Set(names).size).toBe(names.length);
    const keys = APP_SETTINGS.map((row) => row.key);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("names settings in UPPER_SNAKE, except the Functions host's own storage settings", () => {
    for (const { name } of SETTINGS) {
      if (!name.startsWith("AzureWebJobsStorage")) {
        expect(name).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/);
      }
    }
  });

  it("gives each flag to one setting", () => {
    const flags = SETTINGS.flatMap((row) =>
      row.key === undefined || row.flag === undefined
        ? []
        : [row.flag.flag, row.flag.negation].filter((f) => f !== undefined),
    );
    expect(flags.length).toBeGreaterThan(10);
    expect(new Set(flags).size).toBe(flags.length);
  });

  it("applies every default when nothing is set, and each default parses as itself", () => {
    const settings = loadSettings({});
    for (const row of APP_SETTINGS) {
      if (row.default !== undefined) {
        expect(loadSettings({ [row.name]: row.default })[row.key], row.name).toEqual(
          settings[row.key],
        );
      }
    }
  });

  it("says why the template must not set a setting, when it must not", () => {
    for (const row of SETTINGS) {
      if (row.azure !== "template") {
        expect(row.azure.notSet.length, row.name).toBeGreaterThan(10);
      }
    }
  });
});
