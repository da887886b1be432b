/**
 * Picks and builds the run store from the app settings.
 *
 * Settings (app settings in Azure, `local.settings.json` or environment variables locally):
 *
 * | Setting | Default | Meaning |
 * |---|---|---|
 * | `RUN_STORE` | `blob` in Azure, else the folder `.state` (runs are kept under its `runs/`) | `blob`, a `file:///` URL, or a directory path (relative to the current directory) |
 * | `RUN_STORE_CONTAINER` | `mfa-prepopulate-runs` | blob container, created when missing |
 * | `AzureWebJobsStorage` | – | storage connection string (`UseDevelopmentStorage=true` for Azurite on its default port) |
 * | `AzureWebJobsStorage__blobServiceUri` | – | identity-based connection: the blob endpoint, e.g. `https://{account}.blob.core.windows.net` (`AzureWebJobsStorage__serviceUri` is read too) |
 * | `AzureWebJobsStorage__accountName` | – | identity-based connection in the public cloud, instead of the endpoint |
 * | `AzureWebJobsStorage__credential` | – | `managedidentity` to force managed identity outside Azure |
 * | `AzureWebJobsStorage__clientId` | – | client id of a user-assigned managed identity |
 *
 * With `RUN_STORE=blob` the store lives on the Function app's own storage account, the same
 * settings the Functions host reads. A connection string wins over identity-based settings. In
 * Azure (`WEBSITE_INSTANCE_ID` is set) an identity-based connection uses managed identity; outside
 * Azure it uses `DefaultAzureCredential` (Azure CLI, or the `AZURE_*` app registration when its
 * secret is set) unless `AzureWebJobsStorage__credential` is `managedidentity`. The identity
 * needs the "Storage Blob Data Contributor" role on the account.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from "@azure/identity";
import { BlobServiceClient } from "@azure/storage-blob";
import { ConfigurationError, type SettingProblem } from "../errors.js";
import { BlobRunStore, DEFAULT_RUN_STORE_CONTAINER } from "./blobRunStore.js";
import { FsRunStore } from "./fsRunStore.js";
import type { RunStore } from "./runStore.js";

export {
  BlobRunStore,
  type BlobRunStoreOptions,
  DEFAULT_RUN_STORE_CONTAINER,
} from "./blobRunStore.js";
export * from "./csv.js";
export { FsRunStore, type FsRunStoreOptions } from "./fsRunStore.js";
export * from "./runStore.js";

/** Folder of the filesystem store when `RUN_STORE` is unset outside Azure, relative to the cwd. */
export const DEFAULT_RUN_STORE_DIRECTORY = ".state";

/** Options of {@link createRunStore}. */
export interface CreateRunStoreOptions {
  /** Folder used when `RUN_STORE` is unset outside Azure (the CLI passes `{state-dir}/runs`). */
  defaultDirectory?: string;
  /** What relative paths are resolved against (default `process.cwd()`). */
  cwd?: string;
  /** Credential for an identity-based blob connection, instead of the one the settings imply. */
  credential?: TokenCredential;
  /** Passed to {@link FsRunStore}: flush files to disk before they become visible. */
  fsync?: boolean;
}

type Env = Record<string, string | undefined>;

const CONTAINER_NAME = /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/**
 * Builds the run store the settings ask for. Makes no network call and touches no file: the
 * blob container and the store folder are created on first write.
 *
 * @param env - the settings, usually `process.env`; empty strings count as unset.
 * @param options - see {@link CreateRunStoreOptions}.
 * @returns a {@link FsRunStore} or a {@link BlobRunStore}.
 * @throws ConfigurationError naming every bad or missing setting, never printing a value.
 */
export function createRunStore(env: Env, options: CreateRunStoreOptions = {}): RunStore {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const cwd = options.cwd ?? process.cwd();
  const inAzure = get("WEBSITE_INSTANCE_ID") !== undefined;
  const setting = get("RUN_STORE");

  if (setting === undefined && !inAzure) {
    return new FsRunStore(
      path.resolve(cwd, options.defaultDirectory ?? DEFAULT_RUN_STORE_DIRECTORY),
      {
        fsync: options.fsync,
      },
    );
  }
  if (setting === undefined || setting.toLowerCase() === "blob") {
    return createBlobRunStore(get, inAzure, options);
  }
  const fsProblem: SettingProblem = {
    setting: "RUN_STORE",
    problem: "must be blob, an absolute file:/// URL or a directory path",
  };
  if (/^file:/i.test(setting)) {
    let directory: string;
    try {
      directory = fileURLToPath(setting);
    } catch {
      throw new ConfigurationError([fsProblem]);
    }
    return new FsRunStore(directory, { fsync: options.fsync });
  }
  // Any other URL scheme (https://, s3://) is a mistake, not a folder named "https:".
  if (/^[a-z][a-z0-9+.-]+:\/\//i.test(setting)) {
    throw new ConfigurationError([fsProblem]);
  }
  return new FsRunStore(path.resolve(cwd, setting), { fsync: options.fsync });
}

function createBlobRunStore(
  get: (name: string) => string | undefined,
  inAzure: boolean,
  options: CreateRunStoreOptions,
): BlobRunStore {
  const problems: SettingProblem[] = [];
  const containerName = get("RUN_STORE_CONTAINER") ?? DEFAULT_RUN_STORE_CONTAINER;
  if (!CONTAINER_NAME.test(containerName)) {
    problems.push({
      setting: "RUN_STORE_CONTAINER",
      problem:
        "must be a blob container name: 3 to 63 lowercase letters, digits and single hyphens, " +
        "starting and ending with a letter or digit",
    });
  }

  let service: BlobServiceClient | undefined;
  const connectionString = get("AzureWebJobsStorage");
  const serviceUri =
    get("AzureWebJobsStorage__blobServiceUri") ?? get("AzureWebJobsStorage__serviceUri");
  const accountName = get("AzureWebJobsStorage__accountName");
  if (connectionString !== undefined) {
    try {
      service = BlobServiceClient.fromConnectionString(connectionString);
    } catch {
      problems.push({
        setting: "AzureWebJobsStorage",
        problem: "is not a valid storage connection string",
      });
    }
  } else if (serviceUri !== undefined || accountName !== undefined) {
    if (serviceUri !== undefined && !isHttpUrl(serviceUri)) {
      problems.push({
        setting: "AzureWebJobsStorage__blobServiceUri",
        problem:
          "must be the account's blob endpoint URL, e.g. https://{account}.blob.core.windows.net",
      });
    } else if (serviceUri === undefined && !/^[a-z0-9]{3,24}$/.test(accountName ?? "")) {
      problems.push({
        setting: "AzureWebJobsStorage__accountName",
        problem: "must be a storage account name: 3 to 24 lowercase letters and digits",
      });
    } else {
      const uri = serviceUri ?? `https://${accountName}.blob.core.windows.net`;
      service = new BlobServiceClient(uri, options.credential ?? identityCredential(get, inAzure));
    }
  } else {
    problems.push({
      setting: "AzureWebJobsStorage",
      problem:
        "is required when RUN_STORE is blob: set a connection string, or " +
        "AzureWebJobsStorage__blobServiceUri or AzureWebJobsStorage__accountName for an identity-based connection",
    });
  }

  if (problems.length > 0 || service === undefined) {
    throw new ConfigurationError(problems);
  }
  return new BlobRunStore(service.getContainerClient(containerName));
}

function identityCredential(
  get: (name: string) => string | undefined,
  inAzure: boolean,
): TokenCredential {
  const clientId = get("AzureWebJobsStorage__clientId");
  const managed =
    inAzure || get("AzureWebJobsStorage__credential")?.toLowerCase() === "managedidentity";
  if (managed) {
    return clientId !== undefined
      ? new ManagedIdentityCredential({ clientId })
      : new ManagedIdentityCredential();
  }
  // Outside Azure: the developer's own sign-in (Azure CLI and the like).
  return new DefaultAzureCredential(
    clientId !== undefined ? { managedIdentityClientId: clientId } : {},
  );
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
  } catch {
    return false;
  }
}
