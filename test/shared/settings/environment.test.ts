/**
 * The settings entry point: the only reader of `process.env` in the app, and it reads only
 * declared settings.
 */
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { environmentSettings, settingsFromEnvironment } from "../../../shared/settings/index.js";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(repo, dir)).flatMap((entry) => {
    const rel = `${dir}/${entry}`;
    if (statSync(path.join(repo, rel)).isDirectory()) {
      return sourceFiles(rel);
    }
    return rel.endsWith(".ts") ? [rel] : [];
  });
}

describe("the settings entry point", () => {
  const saved = { TARGET: process.env.TARGET, UNDECLARED: process.env.MFA_UNDECLARED_SETTING };
  afterEach(() => {
    for (const [name, value] of [
      ["TARGET", saved.TARGET],
      ["MFA_UNDECLARED_SETTING", saved.UNDECLARED],
    ] as const) {
      if (value === undefined) {
        delete process.env[name];
      } else {
        process.env[name] = value;
      }
    }
  });

  it("reads declared settings from the environment and nothing else", () => {
    process.env.TARGET = "noMobileMethod";
    process.env.MFA_UNDECLARED_SETTING = "x";
    const raw = environmentSettings();
    expect(raw.TARGET).toBe("noMobileMethod");
    expect(Object.keys(raw)).not.toContain("MFA_UNDECLARED_SETTING");
    expect(settingsFromEnvironment().target).toBe("noMobileMethod");
  });

  it("is the only module of the app that reads process.env", () => {
    const readers = ["shared", "orchestrators", "activities"]
      .flatMap(sourceFiles)
      .filter((file) => readFileSync(path.join(repo, file), "utf8").includes("process.env"));
    expect(readers).toEqual(["shared/settings/environment.ts"]);
  });
});
