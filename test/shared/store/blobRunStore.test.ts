import {
  AnonymousCredential,
  BlobServiceClient,
  ContainerClient,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BlobRunStore, DEFAULT_RUN_STORE_CONTAINER } from "../../../shared/store/blobRunStore.js";
import { loadSettings } from "../../../shared/settings/index.js";
import { createRunStore } from "../../../shared/store/index.js";
import { type Azurite, startAzurite } from "../../support/azurite.js";
import { collect, describeRunStoreContract } from "./contract.js";

let azurite: Azurite;
let counter = 0;

beforeAll(async () => {
  azurite = await startAzurite();
});

/** Whether a process id is alive (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

afterAll(async () => {
  if (!azurite) {
    return;
  }
  expect(alive(azurite.pid)).toBe(true);
  await azurite.stop();
  // The helper others reuse must not leave the server running on its port.
  expect(alive(azurite.pid)).toBe(false);
  // Stopping twice is harmless.
  await azurite.stop();
});

/** A store on a container of its own, so tests never see each other's blobs. */
function freshStore(): BlobRunStore {
  counter += 1;
  return BlobRunStore.fromConnectionString(azurite.connectionString, `runs-test-${counter}`);
}

describeRunStoreContract("BlobRunStore on Azurite", async () => freshStore());

describe("BlobRunStore", () => {
  it("creates its container on first use, named mfa-prepopulate-runs by default", async () => {
    const service = BlobServiceClient.fromConnectionString(azurite.connectionString);
    const store = BlobRunStore.fromConnectionString(azurite.connectionString);
    expect(store.container.containerName).toBe(DEFAULT_RUN_STORE_CONTAINER);
    expect(await service.getContainerClient(DEFAULT_RUN_STORE_CONTAINER).exists()).toBe(false);
    // Reads of a missing container are plain absences, and create nothing.
    expect(await store.getJson("runs/1/report.json")).toBeUndefined();
    expect(await store.exists("runs/1/report.json")).toBe(false);
    expect(await collect(store.list("runs/"))).toEqual([]);
    expect(await store.delete("runs/")).toBe(0);
    expect(await service.getContainerClient(DEFAULT_RUN_STORE_CONTAINER).exists()).toBe(false);
    await store.putJson("runs/1/report.json", { ok: true });
    expect(await service.getContainerClient(DEFAULT_RUN_STORE_CONTAINER).exists()).toBe(true);
    expect(await store.getJson("runs/1/report.json")).toEqual({ ok: true });
  });

  it("is what createRunStore builds from the Functions storage settings", async () => {
    const store = createRunStore(
      loadSettings({
        RUN_STORE: "blob",
        RUN_STORE_CONTAINER: "from-settings",
        AzureWebJobsStorage: azurite.connectionString,
      }).runStoreLocation,
    );
    await store.putJson("runs/1/report.json", { via: "settings" });
    const direct = BlobRunStore.fromConnectionString(azurite.connectionString, "from-settings");
    expect(await direct.getJson("runs/1/report.json")).toEqual({ via: "settings" });
  });

  it("works on a container that already exists, through a second store instance", async () => {
    const first = freshStore();
    await first.putJson("runs/1/a.json", 1);
    const second = new BlobRunStore(first.container);
    await second.putJson("runs/1/b.json", 2);
    expect(await collect(first.list("runs/1/"))).toEqual(["runs/1/a.json", "runs/1/b.json"]);
  });

  it("keeps each value's content type for readers of the blob", async () => {
    const store = freshStore();
    await store.putJson("runs/1/report.json", {});
    await store.putText("runs/1/report.csv", "a\r\n", "text/csv; charset=utf-8");
    await store.putText("runs/1/notes.txt", "n");
    await store.putStream("runs/1/big.csv", ["a,b\r\n"], "text/csv");
    const type = async (key: string) =>
      (await store.container.getBlobClient(key).getProperties()).contentType;
    expect(await type("runs/1/report.json")).toBe("application/json; charset=utf-8");
    expect(await type("runs/1/report.csv")).toBe("text/csv; charset=utf-8");
    expect(await type("runs/1/notes.txt")).toBe("text/plain; charset=utf-8");
    expect(await type("runs/1/big.csv")).toBe("text/csv");
  });

  it("lists and deletes across several listing pages", async () => {
    counter += 1;
    const store = BlobRunStore.fromConnectionString(
      azurite.connectionString,
      `runs-test-${counter}`,
      {
        listPageSize: 5,
      },
    );
    const keys = Array.from(
      { length: 17 },
      (_, i) => `runs/p/outcomes/${String(i).padStart(3, "0")}.json`,
    );
    await Promise.all(keys.map((k) => store.putJson(k, {})));
    await store.putJson("runs/q/report.json", {});
    expect(await collect(store.list("runs/p/"))).toEqual(keys);
    // Deleting while the listing pages on must still reach every blob.
    expect(await store.delete("runs/p/")).toBe(keys.length);
    expect(await collect(store.list(""))).toEqual(["runs/q/report.json"]);
  });

  it("fromServiceUri builds a store on the endpoint with the credential it is given", () => {
    const credential = {
      getToken: async () => ({
        token: "not-a-real-token",
        expiresOnTimestamp: Date.now() + 3_600_000,
      }),
    };
    const store = BlobRunStore.fromServiceUri(
      "https://acct.blob.core.windows.net",
      credential,
      "by-token",
    );
    expect(store.describe()).toBe("https://acct.blob.core.windows.net/by-token");
    expect(store.container.credential).toBe(credential);
  });

  it("describes itself as the container URL, without any SAS signature", async () => {
    const store = freshStore();
    expect(store.describe()).toBe(`${azurite.blobEndpoint}/runs-test-${counter}`);
    const withSas = new BlobRunStore(
      new ContainerClient(
        "https://acct.blob.core.windows.net/runs?sv=2024-01-01&sig=c2VjcmV0&se=2030-01-01",
        new AnonymousCredential(),
      ),
    );
    expect(withSas.describe()).toBe("https://acct.blob.core.windows.net/runs");
  });

  it("reports an unreachable account with its name and container, never its key", async () => {
    const key = "Zm9yLXRlc3RzLW9ubHktbm90LWEtcmVhbC1rZXk=";
    const container = new ContainerClient(
      // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
      "http://127.0.0.1:9/devstoreaccount1/runs",
      new StorageSharedKeyCredential("devstoreaccount1", key),
      { retryOptions: { maxTries: 1 } },
    );
    const store = new BlobRunStore(container);
    const error = await store.putJson("runs/1/report.json", {}).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      /^BlobRunStore: could not create or reach container 'runs' at http:\/\/127\.0\.0\.1:9\/devstoreaccount1\/runs \(.+\)\.$/,
    );
    expect(error?.message).not.toContain(key);
    // A later call tries again rather than replaying the first failure forever.
    await expect(store.putJson("runs/1/report.json", {})).rejects.toThrow(
      /could not create or reach/,
    );
  });

  it("reports every operation refused by the account (a wrong key) with the store, key and status", async () => {
    const store = freshStore();
    await store.putJson("runs/1/report.json", {});
    const wrongKey = new BlobRunStore(
      new ContainerClient(
        store.container.url,
        new StorageSharedKeyCredential("devstoreaccount1", "d3Jvbmcta2V5LWZvci10ZXN0cw=="),
        { retryOptions: { maxTries: 1 } },
      ),
    );
    await expect(wrongKey.getText("runs/1/report.json")).rejects.toThrow(
      /^BlobRunStore: could not read 'runs\/1\/report.json' in http:.* \(403 .+\)\.$/,
    );
    await expect(wrongKey.exists("runs/1/report.json")).rejects.toThrow(
      /^BlobRunStore: could not check 'runs\/1\/report.json' .*\(403\)\.$/,
    );
    await expect(collect(wrongKey.list("runs/"))).rejects.toThrow(
      /^BlobRunStore: could not list 'runs\/' .*\(403 /,
    );
    await expect(wrongKey.delete("runs/")).rejects.toThrow(
      /^BlobRunStore: could not list 'runs\/' .*\(403 /,
    );
    await expect(wrongKey.putJson("runs/1/report.json", {})).rejects.toThrow(
      /^BlobRunStore: could not create or reach container .*\(403 /,
    );
    expect(await store.getJson("runs/1/report.json")).toEqual({});
  });

  it("reports writes and deletes the service refuses (a leased blob) with the store, key and status", async () => {
    const store = freshStore();
    await store.putJson("runs/1/report.json", { v: 1 });
    const lease = store.container.getBlobClient("runs/1/report.json").getBlobLeaseClient();
    await lease.acquireLease(-1);
    try {
      await expect(store.putJson("runs/1/report.json", { v: 2 })).rejects.toThrow(
        /^BlobRunStore: could not write 'runs\/1\/report.json' .*\(412 LeaseIdMissing\)\.$/,
      );
      await expect(store.putStream("runs/1/report.json", ["v3"])).rejects.toThrow(
        /^BlobRunStore: could not write 'runs\/1\/report.json' .*\(412 /,
      );
      await expect(store.delete("runs/1/")).rejects.toThrow(
        /^BlobRunStore: could not delete 'runs\/1\/report.json' .*\(412 /,
      );
      // A leased blob exists, so creating it is refused like any existing one.
      expect(await store.createIfAbsent("runs/1/report.json", { v: 4 })).toBe(false);
      expect(await store.getJson("runs/1/report.json")).toEqual({ v: 1 });
    } finally {
      await lease.releaseLease();
    }
  });
});
