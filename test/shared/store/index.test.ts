import path from "node:path";
import { pathToFileURL } from "node:url";
import { DefaultAzureCredential, ManagedIdentityCredential } from "@azure/identity";
import type { AccessToken, TokenCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../../shared/errors.js";
import { loadSettings, type RawSettings } from "../../../shared/settings/index.js";
import {
  BlobRunStore,
  DEFAULT_RUN_STORE_DIRECTORY,
  FsRunStore,
  createRunStore,
  type CreateRunStoreOptions,
  type RunStore,
} from "../../../shared/store/index.js";

const cwd = path.resolve("/srv/app");
const IN_AZURE = { WEBSITE_INSTANCE_ID: "abc123" };
const SECRET = "c2VjcmV0LWFjY291bnQta2V5";

/** The ConfigurationError a call throws, or a failure when it throws nothing. */
function configurationError(call: () => unknown): ConfigurationError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error("expected a ConfigurationError");
}

/** The store the settings name, as the app builds it: validated settings, then the store. */
function storeFrom(raw: RawSettings, options?: CreateRunStoreOptions): RunStore {
  return createRunStore(loadSettings(raw).runStoreLocation, options);
}

function credentialOf(store: unknown): unknown {
  expect(store).toBeInstanceOf(BlobRunStore);
  return (store as BlobRunStore).container.credential;
}

describe("createRunStore", () => {
  it("uses a folder under the current directory when nothing is set outside Azure", () => {
    const store = storeFrom({}, { cwd });
    expect(store).toBeInstanceOf(FsRunStore);
    expect((store as FsRunStore).root).toBe(path.join(cwd, DEFAULT_RUN_STORE_DIRECTORY));
    const custom = storeFrom({ RUN_STORE: "  " }, { cwd, defaultDirectory: "state/runs" });
    expect((custom as FsRunStore).root).toBe(path.join(cwd, "state", "runs"));
  });

  it("uses a file URL or a directory path from RUN_STORE", () => {
    const absolute = path.resolve("/var/lib/mfa/runs");
    const fromUrl = storeFrom({ RUN_STORE: pathToFileURL(absolute).href }, { cwd });
    expect((fromUrl as FsRunStore).root).toBe(absolute);
    expect(fromUrl.describe()).toBe(pathToFileURL(absolute).href);
    const fromPath = storeFrom({ RUN_STORE: "data/runs" }, { cwd });
    expect((fromPath as FsRunStore).root).toBe(path.join(cwd, "data", "runs"));
    // An explicit folder wins even in Azure.
    expect(storeFrom({ ...IN_AZURE, RUN_STORE: absolute }, { cwd })).toBeInstanceOf(FsRunStore);
  });

  it("rejects RUN_STORE values that are neither blob, a file URL nor a path, naming the setting", () => {
    for (const value of [
      "https://acct.blob.core.windows.net/runs",
      "s3://bucket",
      "file://host/share",
    ]) {
      const error = configurationError(() => storeFrom({ RUN_STORE: value }, { cwd }));
      expect(error.problems.map((p) => p.setting)).toEqual(["RUN_STORE"]);
      expect(error.message).toMatch(
        /^Configuration: 1 setting is invalid: 'RUN_STORE' must be blob/,
      );
    }
  });

  it("uses blob storage from the AzureWebJobsStorage connection string, in the default container", () => {
    const store = storeFrom({
      RUN_STORE: "Blob",
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
    });
    expect(store).toBeInstanceOf(BlobRunStore);
    expect(store.describe()).toBe("http://127.0.0.1:10000/devstoreaccount1/mfa-prepopulate-runs");
  });

  it("defaults to blob storage in Azure, in the container RUN_STORE_CONTAINER names", () => {
    const store = storeFrom({
      ...IN_AZURE,
      RUN_STORE_CONTAINER: "nightly-runs",
      AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${SECRET};EndpointSuffix=core.windows.net`,
    });
    expect(store.describe()).toBe("https://acct.blob.core.windows.net/nightly-runs");
    expect(store.describe()).not.toContain(SECRET);
  });

  it("keeps a SAS signature of the connection string out of describe()", () => {
    const store = storeFrom({
      RUN_STORE: "blob",
      AzureWebJobsStorage:
        "BlobEndpoint=https://acct.blob.core.windows.net;SharedAccessSignature=sv=2024-01-01&sig=abc",
    });
    expect(store.describe()).toBe("https://acct.blob.core.windows.net/mfa-prepopulate-runs");
  });

  it("uses the Functions identity-based settings with managed identity in Azure", () => {
    const system = storeFrom({
      ...IN_AZURE,
      AzureWebJobsStorage__blobServiceUri: "https://acct.blob.core.usgovcloudapi.net",
    });
    expect(system.describe()).toBe("https://acct.blob.core.usgovcloudapi.net/mfa-prepopulate-runs");
    expect(credentialOf(system)).toBeInstanceOf(ManagedIdentityCredential);

    const userAssigned = storeFrom({
      ...IN_AZURE,
      AzureWebJobsStorage__accountName: "acct",
      AzureWebJobsStorage__clientId: "00000000-0000-4000-8000-000000000001",
    });
    expect(userAssigned.describe()).toBe("https://acct.blob.core.windows.net/mfa-prepopulate-runs");
    expect(credentialOf(userAssigned)).toBeInstanceOf(ManagedIdentityCredential);
  });

  it("uses the developer's sign-in for identity-based settings outside Azure, unless told managedidentity", () => {
    const local = storeFrom({ RUN_STORE: "blob", AzureWebJobsStorage__accountName: "acct" });
    expect(credentialOf(local)).toBeInstanceOf(DefaultAzureCredential);
    const forced = storeFrom({
      RUN_STORE: "blob",
      AzureWebJobsStorage__accountName: "acct",
      AzureWebJobsStorage__credential: "ManagedIdentity",
    });
    expect(credentialOf(forced)).toBeInstanceOf(ManagedIdentityCredential);
  });

  it("uses a credential passed in options over the one the settings imply", () => {
    const credential: TokenCredential = {
      getToken: async (): Promise<AccessToken> => ({
        token: "t",
        expiresOnTimestamp: Date.now() + 60_000,
      }),
    };
    const store = storeFrom(
      { ...IN_AZURE, AzureWebJobsStorage__accountName: "acct" },
      { credential },
    );
    expect(credentialOf(store)).toBe(credential);
  });

  it("prefers the connection string when both kinds of settings are present", () => {
    const store = storeFrom({
      ...IN_AZURE,
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
      AzureWebJobsStorage__accountName: "acct",
    });
    expect(store.describe()).toMatch(/^http:\/\/127\.0\.0\.1:10000\//);
  });

  it("names AzureWebJobsStorage when blob storage is asked for without an account", () => {
    const error = configurationError(() => storeFrom({ RUN_STORE: "blob" }));
    expect(error.problems.map((p) => p.setting)).toEqual(["AzureWebJobsStorage"]);
    expect(error.message).toContain("AzureWebJobsStorage__blobServiceUri");
    configurationError(() => storeFrom(IN_AZURE));
  });

  it("names a bad connection string without printing it", () => {
    for (const bad of ["not a connection string", `AccountName=acct;AccountKey=${SECRET}`]) {
      const error = configurationError(() =>
        storeFrom({ RUN_STORE: "blob", AzureWebJobsStorage: bad }),
      );
      expect(error.problems.map((p) => p.setting)).toEqual(["AzureWebJobsStorage"]);
      expect(error.message).not.toContain(SECRET);
      expect(error.message).not.toContain(bad);
    }
  });

  it("names bad identity-based settings and a bad container, all at once", () => {
    const error = configurationError(() =>
      storeFrom({
        RUN_STORE: "blob",
        RUN_STORE_CONTAINER: "Runs--Bad",
        AzureWebJobsStorage__blobServiceUri: "acct.blob.core.windows.net",
      }),
    );
    expect(error.problems.map((p) => p.setting)).toEqual([
      "RUN_STORE_CONTAINER",
      "AzureWebJobsStorage__blobServiceUri",
    ]);
    const badAccount = configurationError(() =>
      storeFrom({ RUN_STORE: "blob", AzureWebJobsStorage__accountName: "My Account" }),
    );
    expect(badAccount.problems.map((p) => p.setting)).toEqual(["AzureWebJobsStorage__accountName"]);
    for (const name of ["ab", "-runs", "runs-", "a".repeat(64), "runs_1"]) {
      const bad = configurationError(() =>
        storeFrom({
          RUN_STORE: "blob",
          RUN_STORE_CONTAINER: name,
          AzureWebJobsStorage: "UseDevelopmentStorage=true",
        }),
      );
      expect(
        bad.problems.map((p) => p.setting),
        name,
      ).toEqual(["RUN_STORE_CONTAINER"]);
    }
  });
});
