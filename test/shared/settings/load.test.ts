import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../../shared/errors.js";
import { loadSettings } from "../../../shared/settings/index.js";

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

  it("registers the mobile phone only unless METHODS names more, in one order however written", () => {
    expect(loadSettings({}).methods).toEqual(["mobile"]);
    expect(loadSettings({ METHODS: " Office, mobile,EMAIL,office " }).methods).toEqual([
      "mobile",
      "email",
      "office",
    ]);
    expect(loadSettings({ TARGET: "ssprunregistered" }).target).toBe("ssprUnregistered");
  });

  it("refuses a METHODS list that names an unknown method or none, naming the setting", () => {
    for (const value of ["mobile,fax", " , "]) {
      let error: unknown;
      try {
        loadSettings({ METHODS: value });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).problems.map((p) => p.setting)).toEqual(["METHODS"]);
      expect((error as Error).message).toContain("mobile, email, office");
    }
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

  it("requires what each credential needs, naming only the missing settings", () => {
    const problems = (raw: Record<string, string>): string[] => {
      try {
        loadSettings(raw);
        return [];
      } catch (error) {
        return (error as ConfigurationError).problems.map((p) => p.setting);
      }
    };
    expect(problems({ GRAPH_AUTH: "clientCertificate", AZURE_TENANT_ID: "t" })).toEqual([
      "AZURE_CLIENT_ID",
      "AZURE_CLIENT_CERTIFICATE_PATH",
    ]);
    expect(
      problems({
        GRAPH_AUTH: "clientCertificate",
        AZURE_TENANT_ID: "t",
        AZURE_CLIENT_ID: "c",
        AZURE_CLIENT_CERTIFICATE_PATH: "/etc/app.pem",
      }),
    ).toEqual([]);
    // A bad mode is one problem; what the mode would need is not guessed.
    expect(problems({ GRAPH_AUTH: "password" })).toEqual(["GRAPH_AUTH"]);
  });

  it("reports run-store problems in the same error as the others", () => {
    let error: unknown;
    try {
      loadSettings({ TARGET: "everyone", RUN_STORE: "blob", RUN_STORE_CONTAINER: "Bad_Name" });
    } catch (e) {
      error = e;
    }
    expect((error as ConfigurationError).problems.map((p) => p.setting)).toEqual([
      "TARGET",
      "RUN_STORE_CONTAINER",
      "AzureWebJobsStorage",
    ]);
  });

  it("keeps a folder run store outside Azure and a blob one in Azure", () => {
    expect(loadSettings({}).runStoreLocation).toEqual({ kind: "directory" });
    expect(
      loadSettings({ WEBSITE_INSTANCE_ID: "i1", AzureWebJobsStorage__accountName: "acct" })
        .runStoreLocation,
    ).toEqual({
      kind: "blob",
      container: "mfa-prepopulate-runs",
      connection: {
        serviceUri: "https://acct.blob.core.windows.net",
        managedIdentity: true,
        clientId: undefined,
      },
    });
  });
});
