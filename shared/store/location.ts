/**
 * Where the run store lives: the parsers of `RUN_STORE` and `RUN_STORE_CONTAINER`, and the
 * location `resolveLocation.ts` works out from them and the Functions storage settings.
 * {@link createRunStore} builds the store at a location. Kept free of the storage SDK, so the
 * settings spec (and the CLI's start) does not load it.
 */
import { fileURLToPath } from "node:url";
import { z } from "zod";

/** The `RUN_STORE` setting, parsed: blob storage, or a folder (relative to the cwd or absolute). */
export type RunStoreChoice = { kind: "blob" } | { kind: "directory"; path: string };

/** How the blob run store reaches its storage account. */
export type BlobConnection =
  | { connectionString: string }
  | { serviceUri: string; managedIdentity: boolean; clientId?: string };

/** Where the run store lives. A directory without a path is the caller's default folder. */
export type RunStoreLocation =
  | { kind: "directory"; path?: string }
  | { kind: "blob"; container: string; connection: BlobConnection };

/** Default container of the run store. */
export const DEFAULT_RUN_STORE_CONTAINER = "mfa-prepopulate-runs";

/** The parsed settings the location is worked out from. */
export interface RunStoreSettings {
  runStore?: RunStoreChoice;
  runStoreContainer: string;
  storageConnectionString?: string;
  storageBlobServiceUri?: string;
  storageServiceUri?: string;
  storageAccountName?: string;
  storageCredential?: string;
  storageClientId?: string;
  websiteInstanceId?: string;
}

const RUN_STORE_PROBLEM = "must be blob, an absolute file:/// URL or a directory path";

/** Parser of `RUN_STORE`: `blob`, a `file:///` URL or a directory path; unset stays unset. */
export const runStoreChoice: z.ZodType<RunStoreChoice | undefined> = z
  .string()
  .optional()
  .transform((value, ctx): RunStoreChoice | undefined => {
    if (value === undefined) {
      return undefined;
    }
    if (value.toLowerCase() === "blob") {
      return { kind: "blob" };
    }
    if (/^file:/i.test(value)) {
      try {
        return { kind: "directory", path: fileURLToPath(value) };
      } catch {
        ctx.addIssue({ code: "custom", message: RUN_STORE_PROBLEM });
        return z.NEVER;
      }
    }
    // Any other URL scheme (https://, s3://) is a mistake, not a folder named "https:".
    if (/^[a-z][a-z0-9+.-]+:\/\//i.test(value)) {
      ctx.addIssue({ code: "custom", message: RUN_STORE_PROBLEM });
      return z.NEVER;
    }
    return { kind: "directory", path: value };
  });

/** Parser of `RUN_STORE_CONTAINER`: a valid blob container name. */
export const containerName: z.ZodType<string> = z
  .string()
  .regex(
    /^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/,
    "must be a blob container name: 3 to 63 lowercase letters, digits and single hyphens, " +
      "starting and ending with a letter or digit",
  );
