/**
 * The settings entry point: the one module that reads `process.env`. In Azure the app settings
 * arrive as environment variables and are read here once, when the first function needs them;
 * the CLI reads them here too and lays its flags over them. Only declared names are read.
 */
import { loadSettings, type RawSettings, type Settings } from "./load.js";
import { SETTINGS } from "./spec.js";

/** The declared settings as the environment has them. */
export function environmentSettings(): RawSettings {
  const raw: RawSettings = {};
  for (const { name } of SETTINGS) {
    raw[name] = process.env[name];
  }
  return raw;
}

/**
 * The validated settings of the environment.
 *
 * @throws ConfigurationError naming every invalid setting at once.
 */
export function settingsFromEnvironment(): Settings {
  return loadSettings(environmentSettings());
}

/**
 * Hands the App Service managed-identity endpoint to MSAL. The one write into the environment:
 * `@azure/msal-node`'s ManagedIdentityApplication reads `IDENTITY_ENDPOINT` and `IDENTITY_HEADER`
 * from `process.env` and takes no option for them, so settings that name an endpoint (the
 * emulator's, in the CLI) reach it only this way. In Azure the values are already there. MSAL
 * picks its managed-identity source once per process, on the first token request.
 *
 * @param endpoint - the `IDENTITY_ENDPOINT` setting.
 * @param header - the `IDENTITY_HEADER` setting.
 */
export function exposeManagedIdentityEndpoint(endpoint: string, header: string): void {
  process.env.IDENTITY_ENDPOINT = endpoint;
  process.env.IDENTITY_HEADER = header;
}
