import { describe, expect, it } from "vitest";
import { loadSettings, redactSettings } from "../../shared/config.js";
import { ConfigurationError } from "../../shared/errors.js";

describe("loadSettings", () => {
  it("applies the documented defaults when nothing is set", () => {
    const settings = loadSettings({});
    expect(settings).toMatchObject({
      graphBaseUrl: "https://graph.microsoft.com",
      graphAuth: "managedIdentity",
      excludeGroups: [],
      target: "mfaUnregistered",
      skipAdmins: true,
      allowLandline: false,
      replaceExisting: false,
      maxWritesPerRun: 0,
      dryRun: false,
      nightlySchedule: "0 0 2 * * *",
      logPhoneNumbers: "masked",
    });
    expect(settings.stagingGroup).toBeUndefined();
    expect(settings.defaultRegion).toBeUndefined();
  });

  it("parses lists, booleans, regions and strips a trailing /v1.0 from the base URL", () => {
    const settings = loadSettings({
      GRAPH_BASE_URL: "https://graph.microsoft.us/v1.0/",
      EXCLUDE_GROUPS: " Break glass , 0f1e2d3c-0000-4000-8000-000000000001 ,",
      DEFAULT_REGION: "dk",
      SKIP_ADMINS: "false",
      DRY_RUN: "TRUE",
      TARGET: "nomobilemethod",
      MAX_WRITES_PER_RUN: "500",
    });
    expect(settings.graphBaseUrl).toBe("https://graph.microsoft.us");
    expect(settings.excludeGroups).toEqual(["Break glass", "0f1e2d3c-0000-4000-8000-000000000001"]);
    expect(settings.defaultRegion).toBe("DK");
    expect(settings.skipAdmins).toBe(false);
    expect(settings.dryRun).toBe(true);
    expect(settings.target).toBe("noMobileMethod");
    expect(settings.maxWritesPerRun).toBe(500);
  });

  it("names every bad setting in one error and never prints a secret", () => {
    const secret = "s3cr3t-value-never-printed";
    let error: unknown;
    try {
      loadSettings({
        GRAPH_AUTH: "clientSecret",
        AZURE_CLIENT_SECRET: secret,
        GRAPH_BASE_URL: "http://graph.example",
        TARGET: "everyone",
        SKIP_ADMINS: "maybe",
        MAX_WRITES_PER_RUN: "-3",
        DEFAULT_REGION: "Denmark",
        NIGHTLY_SCHEDULE: "0 2 * * *",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    const message = (error as Error).message;
    for (const name of [
      "AZURE_TENANT_ID",
      "AZURE_CLIENT_ID",
      "GRAPH_BASE_URL",
      "TARGET",
      "SKIP_ADMINS",
      "MAX_WRITES_PER_RUN",
      "DEFAULT_REGION",
      "NIGHTLY_SCHEDULE",
    ]) {
      expect(message).toContain(`'${name}'`);
    }
    expect(message).not.toContain(secret);
    expect((error as ConfigurationError).problems).toHaveLength(8);
  });

  it("redacts the client secret from a settings snapshot", () => {
    const settings = loadSettings({
      GRAPH_AUTH: "clientSecret",
      AZURE_TENANT_ID: "t",
      AZURE_CLIENT_ID: "c",
      AZURE_CLIENT_SECRET: "hidden",
    });
    expect(JSON.stringify(redactSettings(settings))).not.toContain("hidden");
  });
});
