/**
 * The app's settings: the spec (one row per setting), reading and validating them, and the
 * environment entry point.
 */
export {
  loadSettings,
  type GraphAuth,
  type RawSettings,
  type Settings,
  type SettingValues,
  type Method,
  type Target,
} from "./load.js";
export {
  APP_SETTINGS,
  GRAPH_AUTHS,
  METHODS,
  SETTINGS,
  TARGETS,
  type AppSetting,
  type AppSettingRow,
  type AzureRule,
  type HostSetting,
  type SettingFlag,
  type SettingGroup,
  type SettingRow,
} from "./spec.js";
export { environmentSettings, settingsFromEnvironment } from "./environment.js";
