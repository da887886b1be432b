/**
 * The process's services are built from a settings value: installed by value, never read from
 * the environment once configured, and a bad CA file is named as a setting.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigurationError } from "../../shared/errors.js";
import { buildServices, configureServices, services, setServices } from "../../shared/services.js";
import { loadSettings } from "../../shared/settings/index.js";
import { FsRunStore } from "../../shared/store/index.js";

describe("services", () => {
  afterEach(() => setServices(undefined));

  it("are the ones configured from a settings value, with the store in the default folder", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "mfa-services-"));
    try {
      const settings = loadSettings({ GRAPH_AUTH: "azureCli", TARGET: "noMobileMethod" });
      const configured = configureServices(settings, { store: { defaultDirectory: dir } });
      expect(services()).toBe(configured);
      expect(services().settings.target).toBe("noMobileMethod");
      expect((services().store as FsRunStore).root).toBe(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("name GRAPH_CA_FILE when it cannot be read", () => {
    const settings = loadSettings({
      GRAPH_AUTH: "azureCli",
      GRAPH_BASE_URL: "https://127.0.0.1:8443",
      GRAPH_ALLOW_LOOPBACK: "true",
      GRAPH_CA_FILE: "/nonexistent/ca.pem",
    });
    expect(() => buildServices(settings)).toThrow(ConfigurationError);
    expect(() => buildServices(settings)).toThrow(/'GRAPH_CA_FILE' names no readable file/);
  });
});
