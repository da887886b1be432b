/**
 * The CLI's settings: the environment's, with what the command line says laid over them.
 */
import { environmentSettings } from "../../shared/settings/environment.js";
import { loadSettings, type RawSettings, type Settings } from "../../shared/settings/load.js";

/**
 * The validated settings of the environment with `overrides` over them.
 *
 * @param overrides - settings by name from flags or the command itself.
 * @throws ConfigurationError naming every invalid setting at once.
 */
export function settingsFrom(overrides: RawSettings = {}): Settings {
  return loadSettings({ ...environmentSettings(), ...overrides });
}
