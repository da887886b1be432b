/**
 * The Azure Blob Storage run store: one block blob per key in one container, by default on the
 * Function app's own storage account. Tested against Azurite.
 */
import { Readable } from "node:stream";
import type { TokenCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient, RestError } from "@azure/storage-blob";
import { DEFAULT_RUN_STORE_CONTAINER } from "./location.js";
import {
  JSON_CONTENT_TYPE,
  type RunStore,
  type StreamSource,
  TEXT_CONTENT_TYPE,
  assertKey,
  assertPrefix,
  parseJsonText,
  toJsonText,
} from "./runStore.js";

const COMPONENT = "BlobRunStore";

/** How many blobs {@link BlobRunStore.delete} deletes at once. */
const DELETE_CONCURRENCY = 16;

/** Block size and parallel blocks of {@link BlobRunStore.putStream}. */
const STREAM_BLOCK_BYTES = 4 * 1024 * 1024;
const STREAM_CONCURRENCY = 4;

/** Options of {@link BlobRunStore}. */
export interface BlobRunStoreOptions {
  /** Blob names asked for per listing page (default and service maximum 5,000). */
  listPageSize?: number;
}

/** Default container of the run store (the `RUN_STORE_CONTAINER` default). */
export { DEFAULT_RUN_STORE_CONTAINER };

/**
 * A {@link RunStore} on Azure Blob Storage. The key is the blob name.
 *
 * - Writes are single `Put Blob` calls (or a block list commit for {@link BlobRunStore.putStream}),
 *   which replace a blob atomically; reads are one `Get Blob` pinned to the blob's ETag by the SDK.
 * - `createIfAbsent` sends `If-None-Match: *`; a 409 or 412 answer means the blob exists.
 * - The container is created on the first write when missing; reads of a missing container find
 *   nothing and create nothing.
 * - Retries are the SDK's (exponential, on 5xx, 408 and network errors).
 */
export class BlobRunStore implements RunStore {
  /** The container holding the keys. */
  readonly container: ContainerClient;
  private containerReady: Promise<void> | undefined;
  private readonly listPageSize: number;

  /**
   * @param container - the container client, with whatever credential it was built with.
   * @param options - see {@link BlobRunStoreOptions}.
   */
  constructor(container: ContainerClient, options: BlobRunStoreOptions = {}) {
    this.container = container;
    this.listPageSize = options.listPageSize ?? 5000;
  }

  /**
   * Builds a store from a storage connection string, as in `AzureWebJobsStorage`.
   *
   * @param connectionString - an account key, SAS or `UseDevelopmentStorage=true` connection string.
   * @param containerName - the container; created on first use.
   * @param options - see {@link BlobRunStoreOptions}.
   */
  static fromConnectionString(
    connectionString: string,
    containerName: string = DEFAULT_RUN_STORE_CONTAINER,
    options: BlobRunStoreOptions = {},
  ): BlobRunStore {
    const service = BlobServiceClient.fromConnectionString(connectionString);
    return new BlobRunStore(service.getContainerClient(containerName), options);
  }

  /**
   * Builds a store on an account reached with a Microsoft Entra credential (managed identity in
   * Azure). The identity needs the "Storage Blob Data Contributor" role on the account.
   *
   * @param blobServiceUri - the account's blob endpoint, e.g. `https://{account}.blob.core.windows.net`.
   * @param credential - the token credential.
   * @param containerName - the container; created on first use.
   * @param options - see {@link BlobRunStoreOptions}.
   */
  static fromServiceUri(
    blobServiceUri: string,
    credential: TokenCredential,
    containerName: string = DEFAULT_RUN_STORE_CONTAINER,
    options: BlobRunStoreOptions = {},
  ): BlobRunStore {
    const service = new BlobServiceClient(blobServiceUri, credential);
    return new BlobRunStore(service.getContainerClient(containerName), options);
  }

  /** {@inheritDoc RunStore.putJson} */
  async putJson(key: string, value: unknown): Promise<void> {
    assertKey(key, COMPONENT);
    await this.upload(key, toJsonText(value, COMPONENT), JSON_CONTENT_TYPE);
  }

  /** {@inheritDoc RunStore.getJson} */
  async getJson<T>(key: string): Promise<T | undefined> {
    const text = await this.getText(key);
    return text === undefined ? undefined : parseJsonText<T>(text, key, COMPONENT);
  }

  /** {@inheritDoc RunStore.putText} */
  async putText(key: string, text: string, contentType: string = TEXT_CONTENT_TYPE): Promise<void> {
    assertKey(key, COMPONENT);
    if (typeof text !== "string") {
      throw new TypeError(`${COMPONENT}: putText needs a string for '${key}'.`);
    }
    await this.upload(key, text, contentType);
  }

  /** {@inheritDoc RunStore.getText} */
  async getText(key: string): Promise<string | undefined> {
    assertKey(key, COMPONENT);
    try {
      const response = await this.container.getBlobClient(key).download(0);
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody as NodeJS.ReadableStream) {
        chunks.push(typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk);
      }
      return Buffer.concat(chunks).toString("utf8");
    } catch (error) {
      if (isNotFound(error)) {
        return undefined;
      }
      throw this.failure("read", key, error);
    }
  }

  /** {@inheritDoc RunStore.putStream} */
  async putStream(
    key: string,
    source: StreamSource,
    contentType: string = TEXT_CONTENT_TYPE,
  ): Promise<void> {
    assertKey(key, COMPONENT);
    await this.ensureContainer();
    // Staged blocks stay invisible until the block list is committed at the end, so a failing
    // source leaves the previous blob in place.
    const readable = Readable.from(toBuffers(source), { objectMode: false });
    try {
      await this.container
        .getBlockBlobClient(key)
        .uploadStream(readable, STREAM_BLOCK_BYTES, STREAM_CONCURRENCY, {
          blobHTTPHeaders: { blobContentType: contentType },
        });
    } catch (error) {
      if (error instanceof RestError) {
        throw this.failure("write", key, error);
      }
      throw error;
    }
  }

  /** {@inheritDoc RunStore.exists} */
  async exists(key: string): Promise<boolean> {
    assertKey(key, COMPONENT);
    try {
      return await this.container.getBlobClient(key).exists();
    } catch (error) {
      if (isNotFound(error)) {
        return false;
      }
      throw this.failure("check", key, error);
    }
  }

  /** {@inheritDoc RunStore.list} */
  list(prefix: string): AsyncIterable<string> {
    assertPrefix(prefix, COMPONENT);
    return this.listBlobs(prefix);
  }

  /** {@inheritDoc RunStore.delete} */
  async delete(prefix: string): Promise<number> {
    assertPrefix(prefix, COMPONENT, false);
    let deleted = 0;
    let batch: string[] = [];
    const flush = async (): Promise<void> => {
      const results = await Promise.all(
        batch.map(async (key) => {
          try {
            const response = await this.container
              .getBlobClient(key)
              .deleteIfExists({ deleteSnapshots: "include" });
            return response.succeeded ? 1 : 0;
          } catch (error) {
            throw this.failure("delete", key, error);
          }
        }),
      );
      deleted += results.reduce<number>((a, b) => a + b, 0);
      batch = [];
    };
    // Deleting while the listing pages on is safe: the listing's continuation token is a name.
    for await (const key of this.listBlobs(prefix)) {
      batch.push(key);
      if (batch.length >= DELETE_CONCURRENCY) {
        await flush();
      }
    }
    await flush();
    return deleted;
  }

  /** {@inheritDoc RunStore.createIfAbsent} */
  async createIfAbsent(key: string, value: unknown): Promise<boolean> {
    assertKey(key, COMPONENT);
    try {
      await this.upload(key, toJsonText(value, COMPONENT), JSON_CONTENT_TYPE, true);
      return true;
    } catch (error) {
      const status = restStatus(error);
      if (status === 409 || status === 412) {
        return false;
      }
      throw error;
    }
  }

  /** {@inheritDoc RunStore.describe} */
  describe(): string {
    // A SAS connection string puts the signature in the query: never show it.
    const url = new URL(this.container.url);
    return `${url.origin}${url.pathname}`;
  }

  private async *listBlobs(prefix: string): AsyncGenerator<string> {
    try {
      for await (const page of this.container
        .listBlobsFlat(prefix === "" ? {} : { prefix })
        .byPage({ maxPageSize: this.listPageSize })) {
        for (const item of page.segment.blobItems) {
          yield item.name;
        }
      }
    } catch (error) {
      // A container not created yet holds no keys; reading should not create it.
      if (isNotFound(error)) {
        return;
      }
      if (error instanceof RestError) {
        throw this.failure("list", prefix, error);
      }
      throw error;
    }
  }

  private async upload(
    key: string,
    body: string,
    contentType: string,
    onlyIfAbsent = false,
  ): Promise<void> {
    await this.ensureContainer();
    const data = Buffer.from(body, "utf8");
    try {
      await this.container.getBlockBlobClient(key).upload(data, data.length, {
        blobHTTPHeaders: { blobContentType: contentType },
        ...(onlyIfAbsent ? { conditions: { ifNoneMatch: "*" } } : {}),
      });
    } catch (error) {
      const status = restStatus(error);
      if (onlyIfAbsent && (status === 409 || status === 412)) {
        throw error;
      }
      throw this.failure("write", key, error);
    }
  }

  /** Creates the container once per store; a failure is retried on the next call. */
  private ensureContainer(): Promise<void> {
    this.containerReady ??= this.container.createIfNotExists().then(
      () => undefined,
      (error: unknown) => {
        this.containerReady = undefined;
        throw new Error(
          `${COMPONENT}: could not create or reach container '${this.container.containerName}' ` +
            `at ${this.describe()} (${describeRestError(error)}).`,
          { cause: error },
        );
      },
    );
    return this.containerReady;
  }

  private failure(action: string, key: string, error: unknown): Error {
    return new Error(
      `${COMPONENT}: could not ${action} '${key}' in ${this.describe()} (${describeRestError(error)}).`,
      { cause: error },
    );
  }
}

async function* toBuffers(source: StreamSource): AsyncGenerator<Buffer> {
  for await (const piece of source) {
    yield typeof piece === "string" ? Buffer.from(piece, "utf8") : Buffer.from(piece);
  }
}

function restStatus(error: unknown): number | undefined {
  return error instanceof RestError ? error.statusCode : undefined;
}

function isNotFound(error: unknown): boolean {
  return restStatus(error) === 404;
}

/** Status and service error code only: the SDK's own message can quote request details. */
function describeRestError(error: unknown): string {
  if (error instanceof RestError) {
    return [error.statusCode, error.code].filter((p) => p !== undefined).join(" ") || "no answer";
  }
  if (error instanceof Error) {
    return error.name;
  }
  return "unknown error";
}
