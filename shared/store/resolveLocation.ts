/**
 * What the run-store settings mean: where the run store lives, worked out from `RUN_STORE`,
 * `RUN_STORE_CONTAINER` and the Functions storage settings (`AzureWebJobsStorage*`), without
 * touching a file or the network.
 *
 * With `RUN_STORE=blob` (the default in Azure, where `WEBSITE_INSTANCE_ID` is set) the store
 * lives on the Function app's own storage account, through the same settings the Functions host
 * reads. A connection string wins over identity-based settings. In Azure an identity-based
 * connection uses managed identity; outside Azure it uses the developer's sign-in unless
 * `AzureWebJobsStorage__credential` is `managedidentity`.
 */
import { BlobServiceClient } from "@azure/storage-blob";
import type { SettingProblem } from "../errors.js";
import type {
  BlobConnection,
  RunStoreChoice,
  RunStoreLocation,
  RunStoreSettings,
} from "./location.js";

/**
 * Where the run store lives, or undefined with the reasons added to `problems`.
 *
 * @param settings - the parsed run-store and storage settings.
 * @param problems - where the problems of a blob connection are added.
 */
export function runStoreLocation(
  settings: RunStoreSettings,
  problems: SettingProblem[],
): RunStoreLocation | undefined {
  const inAzure = settings.websiteInstanceId !== undefined;
  const choice: RunStoreChoice | { kind: "directory" } =
    settings.runStore ?? (inAzure ? { kind: "blob" } : { kind: "directory" });
  if (choice.kind === "directory") {
    return choice;
  }
  const connection = blobConnection(settings, inAzure, problems);
  return connection && { kind: "blob", container: settings.runStoreContainer, connection };
}

function blobConnection(
  settings: RunStoreSettings,
  inAzure: boolean,
  problems: SettingProblem[],
): BlobConnection | undefined {
  const connectionString = settings.storageConnectionString;
  const serviceUri = settings.storageBlobServiceUri ?? settings.storageServiceUri;
  const accountName = settings.storageAccountName;
  if (connectionString !== undefined) {
    try {
      BlobServiceClient.fromConnectionString(connectionString);
      return { connectionString };
    } catch {
      problems.push({
        setting: "AzureWebJobsStorage",
        problem: "is not a valid storage connection string",
      });
      return undefined;
    }
  }
  if (serviceUri === undefined && accountName === undefined) {
    problems.push({
      setting: "AzureWebJobsStorage",
      problem:
        "is required when RUN_STORE is blob: set a connection string, or " +
        "AzureWebJobsStorage__blobServiceUri or AzureWebJobsStorage__accountName for an identity-based connection",
    });
    return undefined;
  }
  if (serviceUri !== undefined && !isHttpUrl(serviceUri)) {
    problems.push({
      setting: "AzureWebJobsStorage__blobServiceUri",
      problem:
        "must be the account's blob endpoint URL, e.g. https://{account}.blob.core.windows.net",
    });
    return undefined;
  }
  if (serviceUri === undefined && !/^[a-z0-9]{3,24}$/.test(accountName ?? "")) {
    problems.push({
      setting: "AzureWebJobsStorage__accountName",
      problem: "must be a storage account name: 3 to 24 lowercase letters and digits",
    });
    return undefined;
  }
  return {
    serviceUri: serviceUri ?? `https://${accountName}.blob.core.windows.net`,
    managedIdentity: inAzure || settings.storageCredential?.toLowerCase() === "managedidentity",
    clientId: settings.storageClientId,
  };
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "https:" || url.protocol === "http:") && url.hostname !== "";
  } catch {
    return false;
  }
}
