/**
 * The CLI's setting flags come from the settings spec: exactly the contract's flags, each setting
 * the flag stands for, and flags over the environment.
 */
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import {
  addSettingFlags,
  givenSettingFlags,
  settingsFromCommandLine,
} from "../../../local/cli/settingFlags.js";

/** A parsed `run`-like command with the setting flags. */
function parsed(args: string[]): Command {
  const command = addSettingFlags(new Command("run"))
    .exitOverride()
    .configureOutput({ writeErr: () => undefined })
    .action(() => undefined);
  command.parse(args, { from: "user" });
  return command;
}

describe("setting flags", () => {
  const savedTarget = process.env.TARGET;
  afterEach(() => {
    if (savedTarget === undefined) {
      delete process.env.TARGET;
    } else {
      process.env.TARGET = savedTarget;
    }
  });

  it("are exactly the contract's flags", () => {
    const flags = addSettingFlags(new Command("run")).options.map((o) => o.long);
    expect(flags).toEqual([
      "--graph-base-url",
      "--auth",
      "--tenant-id",
      "--client-id",
      "--graph-ca-file",
      "--staging-group",
      "--exclude-groups",
      "--default-region",
      "--target",
      "--methods",
      "--skip-admins",
      "--no-skip-admins",
      "--allow-landline",
      "--replace-existing",
      "--max-writes",
      "--number-settle-days",
      "--dry-run",
      "--run-store",
    ]);
  });

  it("stand for the setting of the same meaning, and only when given", () => {
    expect(givenSettingFlags(parsed([]))).toEqual({});
    expect(
      givenSettingFlags(
        parsed([
          "--graph-base-url",
          "https://graph.microsoft.us",
          "--auth",
          "azureCli",
          "--exclude-groups",
          "A,B",
          "--no-skip-admins",
          "--allow-landline",
          "--max-writes",
          "5",
          "--run-store",
          "blob",
        ]),
      ),
    ).toEqual({
      GRAPH_BASE_URL: "https://graph.microsoft.us",
      GRAPH_AUTH: "azureCli",
      EXCLUDE_GROUPS: "A,B",
      SKIP_ADMINS: "false",
      ALLOW_LANDLINE: "true",
      MAX_WRITES_PER_RUN: "5",
      RUN_STORE: "blob",
    });
    expect(givenSettingFlags(parsed(["--skip-admins"]))).toEqual({ SKIP_ADMINS: "true" });
  });

  it("refuse a value outside a setting's choices", () => {
    expect(() => parsed(["--target", "everyone"])).toThrow(/Allowed choices are/);
  });

  it("override the environment, and the command's own settings override both", async () => {
    process.env.TARGET = "noMobileMethod";
    expect((await settingsFromCommandLine(parsed([]))).target).toBe("noMobileMethod");
    expect((await settingsFromCommandLine(parsed(["--target", "mfaUnregistered"]))).target).toBe(
      "mfaUnregistered",
    );
    const plan = await settingsFromCommandLine(parsed(["--max-writes", "7"]), { DRY_RUN: "true" });
    expect(plan).toMatchObject({ dryRun: true, maxWritesPerRun: 7 });
  });

  it("are validated with the other settings, naming the setting", async () => {
    await expect(settingsFromCommandLine(parsed(["--max-writes", "-1"]))).rejects.toThrow(
      /'MAX_WRITES_PER_RUN' must be a whole number/,
    );
  });
});
