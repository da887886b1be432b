/**
 * The CLI's setting flags, generated from the settings spec: a flag overrides the setting of the
 * same meaning, which otherwise comes from the environment.
 */
import { Option, type Command } from "commander";
import type { RawSettings, Settings } from "../../shared/settings/load.js";
import { APP_SETTINGS } from "../../shared/settings/spec.js";

/**
 * Adds a flag for every setting the spec gives one.
 *
 * @param command - the command that takes settings (`run`, `plan`).
 */
export function addSettingFlags(command: Command): Command {
  for (const { name, description, flag } of APP_SETTINGS) {
    if (flag === undefined) {
      continue;
    }
    const help = `${description.replace(/`/g, "")} (${name})`;
    const option = new Option(flag.value ? `${flag.flag} ${flag.value}` : flag.flag, help);
    if (flag.choices) {
      option.choices(flag.choices);
    }
    command.addOption(option);
    if (flag.negation) {
      command.addOption(new Option(flag.negation, `the opposite of ${flag.flag} (${name}=false)`));
    }
  }
  return command;
}

/**
 * The settings the user gave as flags on the command line, by setting name.
 *
 * @param command - the parsed command.
 */
export function givenSettingFlags(command: Command): RawSettings {
  const values = command.opts<Record<string, unknown>>();
  const raw: RawSettings = {};
  for (const { name, flag } of APP_SETTINGS) {
    const attribute = flag && new Option(flag.flag).attributeName();
    if (attribute && command.getOptionValueSource(attribute) === "cli") {
      raw[name] = String(values[attribute]);
    }
  }
  return raw;
}

/**
 * The settings of a command: the environment, the flags the user gave over it, and the
 * command's own overrides over both; all validated at once.
 *
 * @param command - the parsed command.
 * @param overrides - settings the command fixes (`plan` fixes `DRY_RUN`).
 * @throws ConfigurationError naming every invalid setting.
 */
export async function settingsFromCommandLine(
  command: Command,
  overrides: RawSettings = {},
): Promise<Settings> {
  // Loaded when a command runs: reading settings pulls in the storage SDK (to check a connection
  // string), which `normalize` and `--help` do not need.
  const { settingsFrom } = await import("./settingsFrom.js");
  return settingsFrom({ ...givenSettingFlags(command), ...overrides });
}
