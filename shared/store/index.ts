/**
 * Builds the run store from its settings (`RUN_STORE` and the Functions storage settings; see
 * `location.ts` for what they mean and the settings spec for their documentation).
 *
 * The identity of an identity-based blob connection needs the "Storage Blob Data Contributor"
 * role on the account.
 */
import path from "node:path";
import {
  DefaultAzureCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from "@azure/identity";
import { BlobServiceClient } from "@azure/storage-blob";
import { BlobRunStore } from "./blobRunStore.js";
import { FsRunStore } from "./fsRunStore.js";
import type { BlobConnection, RunStoreLocation } from "./location.js";
import type { RunStore } from "./runStore.js";

export {
  BlobRunStore,
  type BlobRunStoreOptions,
  DEFAULT_RUN_STORE_CONTAINER,
} from "./blobRunStore.js";
export * from "./csv.js";
export { FsRunStore, type FsRunStoreOptions } from "./fsRunStore.js";
export type { BlobConnection, RunStoreChoice, RunStoreLocation } from "./location.js";
export * from "./runStore.js";

/** Folder of the filesystem store when `RUN_STORE` is unset outside Azure, relative to the cwd. */
export const DEFAULT_RUN_STORE_DIRECTORY = ".state";

/** Options of {@link createRunStore}. */
export interface CreateRunStoreOptions {
  /** Folder used when `RUN_STORE` is unset outside Azure (the CLI passes its state directory). */
  defaultDirectory?: string;
  /** What relative paths are resolved against (default `process.cwd()`). */
  cwd?: string;
  /** Credential for an identity-based blob connection, instead of the one the settings imply. */
  credential?: TokenCredential;
  /** Passed to {@link FsRunStore}: flush files to disk before they become visible. */
  fsync?: boolean;
}

/**
 * Builds the run store at a location. Makes no network call and touches no file: the blob
 * container and the store folder are created on first write.
 *
 * @param location - where the store lives, from the validated settings (`runStoreLocation`).
 * @param options - see {@link CreateRunStoreOptions}.
 * @returns a {@link FsRunStore} or a {@link BlobRunStore}.
 */
export function createRunStore(
  location: RunStoreLocation,
  options: CreateRunStoreOptions = {},
): RunStore {
  if (location.kind === "directory") {
    const folder = location.path ?? options.defaultDirectory ?? DEFAULT_RUN_STORE_DIRECTORY;
    return new FsRunStore(path.resolve(options.cwd ?? process.cwd(), folder), {
      fsync: options.fsync,
    });
  }
  const { connection } = location;
  const service =
    "connectionString" in connection
      ? BlobServiceClient.fromConnectionString(connection.connectionString)
      : new BlobServiceClient(
          connection.serviceUri,
          options.credential ?? identityCredential(connection),
        );
  return new BlobRunStore(service.getContainerClient(location.container));
}

function identityCredential(
  connection: Extract<BlobConnection, { serviceUri: string }>,
): TokenCredential {
  const { clientId } = connection;
  if (connection.managedIdentity) {
    return clientId !== undefined
      ? new ManagedIdentityCredential({ clientId })
      : new ManagedIdentityCredential();
  }
  // Outside Azure: the developer's own sign-in (Azure CLI and the like).
  return new DefaultAzureCredential(
    clientId !== undefined ? { managedIdentityClientId: clientId } : {},
  );
}
