import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FsRunStore } from "../../../shared/store/fsRunStore.js";
import { collect, describeRunStoreContract } from "./contract.js";

let base: string;
let counter = 0;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), "fs-run-store-"));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A fresh root per test, inside one folder removed at the end. */
function freshRoot(): string {
  counter += 1;
  return path.join(base, `store-${counter}`);
}

/** Every file under a directory, hidden ones included, relative and sorted. */
async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

describeRunStoreContract("FsRunStore", async () => new FsRunStore(freshRoot()));

describe("FsRunStore", () => {
  it("stores a key as the file of the same path under the root, with no temporary files left", async () => {
    const root = freshRoot();
    const store = new FsRunStore(root);
    await store.putJson("runs/r1/chunks/0.json", { n: 0 });
    await store.putText("runs/r1/report.csv", "a,b\r\n");
    await store.createIfAbsent("runs/r1/claims/0.json", { n: 0 });
    await store.createIfAbsent("runs/r1/claims/0.json", { n: 1 });
    await store.putStream("runs/r1/big.csv", ["x", "y"]);
    expect(await filesUnder(root)).toEqual([
      "runs/r1/big.csv",
      "runs/r1/chunks/0.json",
      "runs/r1/claims/0.json",
      "runs/r1/report.csv",
    ]);
  });

  it("never lets a reader see a partial or missing value while the key is overwritten", async () => {
    const store = new FsRunStore(freshRoot());
    const key = "runs/r1/status.json";
    // Sizes that differ a lot, so a truncate-then-write would show an empty or cut file.
    const big = { kind: "big", items: Array.from({ length: 20_000 }, (_, i) => `item-${i}`) };
    const small = { kind: "small" };
    await store.putJson(key, small);

    let writing = true;
    let reads = 0;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        // getJson throws on a cut JSON text; undefined would mean the file vanished for a moment.
        const value = await store.getJson<{ kind: string; items?: string[] }>(key);
        expect(value).toBeDefined();
        if (value?.kind === "big") {
          expect(value.items).toHaveLength(20_000);
        } else {
          expect(value).toEqual(small);
        }
        seen.add(value?.kind ?? "none");
        reads += 1;
      }
    })();
    // Marks a failing reader as handled until it is awaited below, after the writes.
    reader.catch(() => undefined);
    try {
      for (let i = 0; i < 150; i++) {
        await store.putJson(key, i % 2 === 0 ? big : small);
      }
    } finally {
      writing = false;
    }
    await reader;
    // The reader really ran alongside the writer (and is not a test that cannot fail).
    expect(reads).toBeGreaterThan(10);
    expect(seen.has("big")).toBe(true);
  });

  it("lets exactly one of several store instances on the same root create a key", async () => {
    const root = freshRoot();
    const stores = Array.from({ length: 8 }, () => new FsRunStore(root));
    const results = await Promise.all(
      stores.map((s, i) => s.createIfAbsent("runs/1/lock.json", { i })),
    );
    expect(results.filter((r) => r)).toHaveLength(1);
  });

  it("skips temporary files a killed writer left behind, and sweeps them when the run is deleted", async () => {
    const root = freshRoot();
    const store = new FsRunStore(root);
    await store.putJson("runs/1/report.json", {});
    await writeFile(path.join(root, "runs", "1", ".tmp-0000"), "half a fi");
    expect(await collect(store.list("runs/"))).toEqual(["runs/1/report.json"]);
    expect(await store.delete("runs/1/")).toBe(1);
    expect(await filesUnder(root)).toEqual([]);
  });

  it("removes folders left empty by a delete, but keeps the root and other runs", async () => {
    const root = freshRoot();
    const store = new FsRunStore(root);
    await store.putJson("runs/1/pages/users/0.json", []);
    await store.putJson("runs/1/outcomes/0.json", []);
    await store.putJson("runs/2/report.json", {});
    expect(await store.delete("runs/1")).toBe(2);
    expect((await readdir(path.join(root, "runs"))).sort()).toEqual(["2"]);
    expect(await store.delete("runs/")).toBe(1);
    expect(await readdir(root)).toEqual([]);
  });

  it("does not delete a file that shares the folder's name", async () => {
    const root = freshRoot();
    const store = new FsRunStore(root);
    await store.putJson("runs/1", { file: true });
    expect(await store.delete("runs/1/")).toBe(0);
    expect(await store.getJson("runs/1")).toEqual({ file: true });
  });

  it("writes, creates and streams the same way when asked to flush to disk", async () => {
    const root = freshRoot();
    const store = new FsRunStore(root, { fsync: true });
    await store.putJson("runs/1/report.json", { ok: true });
    expect(await store.createIfAbsent("runs/1/claims/0.json", { n: 0 })).toBe(true);
    expect(await store.createIfAbsent("runs/1/claims/0.json", { n: 1 })).toBe(false);
    await store.putStream("runs/1/report.csv", ["a,b\r\n", "1,2\r\n"]);
    expect(await store.getJson("runs/1/report.json")).toEqual({ ok: true });
    expect(await store.getJson("runs/1/claims/0.json")).toEqual({ n: 0 });
    expect(await store.getText("runs/1/report.csv")).toBe("a,b\r\n1,2\r\n");
    expect(await filesUnder(root)).toEqual([
      "runs/1/claims/0.json",
      "runs/1/report.csv",
      "runs/1/report.json",
    ]);
  });

  it("describes itself as the file URL of its absolute root", async () => {
    const store = new FsRunStore(path.relative(process.cwd(), path.join(base, "described")));
    expect(store.root).toBe(path.join(base, "described"));
    expect(store.describe()).toBe(pathToFileURL(path.join(base, "described")).href);
    expect(() => new FsRunStore("  ")).toThrow(TypeError);
  });

  it("reports a write that cannot succeed with the store's name, the key and the cause", async () => {
    const root = freshRoot();
    const store = new FsRunStore(root);
    // A folder where the file should go makes the rename fail.
    await mkdir(path.join(root, "runs", "1", "report.json"), { recursive: true });
    await writeFile(path.join(root, "runs", "1", "report.json", "inner"), "x");
    await expect(store.putJson("runs/1/report.json", {})).rejects.toThrow(
      /^FsRunStore: could not write 'runs\/1\/report.json' in file:\/\/.*\(E[A-Z]+\)\.$/,
    );
    expect(await filesUnder(root)).toEqual(["runs/1/report.json/inner"]);
  });

  it("reports a key whose folder is taken by a file", async () => {
    const store = new FsRunStore(freshRoot());
    await store.putJson("runs/1", {});
    await expect(store.putJson("runs/1/report.json", {})).rejects.toThrow(
      /^FsRunStore: could not write 'runs\/1\/report.json'/,
    );
    await expect(store.createIfAbsent("runs/1/report.json", {})).rejects.toThrow(/FsRunStore/);
  });
});
