/**
 * The behaviour every RunStore must have, run against each implementation by its own test file.
 */
import { describe, expect, it } from "vitest";
import type { RunStore } from "../../../shared/store/runStore.js";

/** Makes a fresh, empty store for one test. */
export type RunStoreFactory = () => Promise<RunStore>;

/**
 * Collects an async iterable into an array.
 *
 * @param items - the iterable.
 */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    out.push(item);
  }
  return out;
}

/** Keys a store must refuse, with why. */
export const BAD_KEYS: ReadonlyArray<[string, string]> = [
  ["", "empty"],
  ["/runs/1.json", "absolute"],
  ["runs//1.json", "empty segment"],
  ["runs/1/", "trailing slash"],
  ["../runs/1.json", "parent segment"],
  ["runs/../../etc/passwd", "parent segment inside"],
  ["runs/./1.json", "dot segment"],
  ["runs/.hidden", "segment starting with a dot"],
  ["runs\\1.json", "backslash"],
  ["C:/runs/1.json", "drive letter"],
  ["runs/{runId}/1.json", "braces"],
  ["runs/1 2.json", "space"],
  ["runs/æøå.json", "non-ASCII"],
  ["runs/1.json\n", "control character"],
  ["runs/1.json?x=1", "query character"],
  [`runs/${"a".repeat(1100)}.json`, "longer than 1,024 characters"],
];

/**
 * Registers the shared contract tests for one implementation.
 *
 * @param name - the implementation's name, for the describe block.
 * @param factory - makes a fresh, empty store per test.
 */
export function describeRunStoreContract(name: string, factory: RunStoreFactory): void {
  describe(`${name} (RunStore contract)`, () => {
    it("returns what putJson stored, as a deep copy of the value", async () => {
      const store = await factory();
      const value = { runId: "r1", n: 3, users: [{ id: "u1", ok: true, note: null }], ratio: 0.25 };
      await store.putJson("runs/r1/chunks/3.json", value);
      expect(await store.getJson("runs/r1/chunks/3.json")).toEqual(value);
      expect(await store.exists("runs/r1/chunks/3.json")).toBe(true);
    });

    it("returns what putText stored, byte for byte", async () => {
      const store = await factory();
      const csv = 'id,phone\r\nu1,"+45 ******56"\r\nu2,\r\n';
      await store.putText("runs/r1/report.csv", csv, "text/csv; charset=utf-8");
      expect(await store.getText("runs/r1/report.csv")).toBe(csv);
    });

    it("reports absent keys as undefined and not existing", async () => {
      const store = await factory();
      expect(await store.getJson("runs/none/report.json")).toBeUndefined();
      expect(await store.getText("runs/none/report.csv")).toBeUndefined();
      expect(await store.exists("runs/none/report.json")).toBe(false);
    });

    it("does not treat a folder of keys as a key", async () => {
      const store = await factory();
      await store.putJson("runs/r1/outcomes/0.json", []);
      expect(await store.exists("runs/r1")).toBe(false);
      expect(await store.exists("runs/r1/outcomes")).toBe(false);
      expect(await store.getJson("runs/r1/outcomes")).toBeUndefined();
      expect(await store.getText("runs/r1")).toBeUndefined();
    });

    it("replaces the whole value on overwrite, leaving nothing of a longer earlier value", async () => {
      const store = await factory();
      await store.putJson("runs/r1/state.json", { phase: "fetching", pages: "x".repeat(10_000) });
      await store.putJson("runs/r1/state.json", { phase: "done" });
      expect(await store.getJson("runs/r1/state.json")).toEqual({ phase: "done" });
      await store.putText("runs/r1/state.json", "short");
      expect(await store.getText("runs/r1/state.json")).toBe("short");
    });

    it("shows a concurrent reader the old or the new value, never a cut one", async () => {
      const store = await factory();
      const key = "runs/r1/status.json";
      const big = { kind: "big", items: Array.from({ length: 20_000 }, (_, i) => `item-${i}`) };
      const small = { kind: "small" };
      await store.putJson(key, small);
      let writing = true;
      let reads = 0;
      const reader = (async () => {
        while (writing) {
          const value = await store.getJson<{ kind: string; items?: string[] }>(key);
          if (value?.kind === "big") {
            expect(value.items).toHaveLength(20_000);
          } else {
            expect(value).toEqual(small);
          }
          reads += 1;
        }
      })();
      reader.catch(() => undefined);
      try {
        for (let i = 0; i < 24; i++) {
          await store.putJson(key, i % 2 === 0 ? big : small);
        }
      } finally {
        writing = false;
      }
      await reader;
      expect(reads).toBeGreaterThan(0);
    });

    it("keeps unicode text and JSON intact", async () => {
      const store = await factory();
      const names = ["Søren Ærøbæk", "Zoë", "李小龍", "Łukasz", "👩‍💻 dev", "e\u0301", "\u0000nul"];
      await store.putJson("runs/r1/pages/users/0.json", { names });
      expect(await store.getJson("runs/r1/pages/users/0.json")).toEqual({ names });
      await store.putText("runs/r1/names.txt", names.join("\n"));
      expect(await store.getText("runs/r1/names.txt")).toBe(names.join("\n"));
    });

    it("round-trips a 5 MB value", async () => {
      const store = await factory();
      const users = Array.from({ length: 50_000 }, (_, i) => ({
        id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
        mobilePhone: `+45 2${String(i).padStart(7, "0")}`,
        displayName: `User ${i} ÆØÅ`,
      }));
      const size = JSON.stringify(users).length;
      expect(size).toBeGreaterThan(5_000_000);
      await store.putJson("runs/r1/pages/users/big.json", users);
      const back = await store.getJson<typeof users>("runs/r1/pages/users/big.json");
      expect(back).toHaveLength(users.length);
      expect(back).toEqual(users);
    });

    it("lists keys under a prefix in lexicographic order, without sibling runs", async () => {
      const store = await factory();
      const keys = [
        "runs/1/outcomes/2.json",
        "runs/10/report.json",
        "runs/1/chunks/10.json",
        "runs/1/chunks/2.json",
        "runs/1/a0.json",
        "runs/1/a/x.json",
        "runs/1/a.b",
        "runs/1/a-b",
        "runs/1/Report.json",
        "runs/1-old/report.json",
        "runs/2/report.json",
        "other/runs/1/x.json",
      ];
      for (const key of keys) {
        await store.putJson(key, { key });
      }
      const sorted = (list: string[]): string[] => [...list].sort();

      const inRun1 = await collect(store.list("runs/1/"));
      expect(inRun1).toEqual(sorted(keys.filter((k) => k.startsWith("runs/1/"))));
      // Code-unit order, as Blob Storage lists: '-' < '.' < '/' < '0' < 'R' < 'c' < 'o'.
      expect(inRun1).toEqual([
        "runs/1/Report.json",
        "runs/1/a-b",
        "runs/1/a.b",
        "runs/1/a/x.json",
        "runs/1/a0.json",
        "runs/1/chunks/10.json",
        "runs/1/chunks/2.json",
        "runs/1/outcomes/2.json",
      ]);
      expect(await collect(store.list("runs/1/chunks/"))).toEqual([
        "runs/1/chunks/10.json",
        "runs/1/chunks/2.json",
      ]);
      // Without the slash the prefix is a plain string prefix, as in Blob Storage.
      expect(await collect(store.list("runs/1"))).toEqual(
        sorted(keys.filter((k) => k.startsWith("runs/1"))),
      );
      expect(await collect(store.list("runs/1/a"))).toEqual([
        "runs/1/a-b",
        "runs/1/a.b",
        "runs/1/a/x.json",
        "runs/1/a0.json",
      ]);
      expect(await collect(store.list(""))).toEqual(sorted(keys));
      expect(await collect(store.list("runs/3/"))).toEqual([]);
      expect(await collect(store.list("runs/1/a0.json/"))).toEqual([]);
    });

    it("deletes every key under a prefix and nothing else, returning how many", async () => {
      const store = await factory();
      const outcomes = Array.from({ length: 15 }, (_, n) => `runs/1/outcomes/${n}.json`);
      await Promise.all(outcomes.map((key, n) => store.putJson(key, { n })));
      await store.putJson("runs/1/report.json", {});
      await store.putJson("runs/10/report.json", { keep: true });
      await store.putJson("runs/1-old/report.json", { keep: true });

      expect(await store.delete("runs/1/")).toBe(outcomes.length + 1);
      expect(await collect(store.list("runs/1/"))).toEqual([]);
      expect(await store.exists("runs/1/report.json")).toBe(false);
      expect(await collect(store.list(""))).toEqual([
        "runs/1-old/report.json",
        "runs/10/report.json",
      ]);
      expect(await store.delete("runs/1/")).toBe(0);
      // The key space is usable again after a purge.
      await store.putJson("runs/1/report.json", { again: true });
      expect(await store.getJson("runs/1/report.json")).toEqual({ again: true });
    });

    it("refuses to delete with an empty prefix", async () => {
      const store = await factory();
      await store.putJson("runs/1/report.json", {});
      await expect(store.delete("")).rejects.toThrow(TypeError);
      expect(await store.exists("runs/1/report.json")).toBe(true);
    });

    it("creates only when absent, and never overwrites", async () => {
      const store = await factory();
      expect(await store.createIfAbsent("runs/1/chunks/0.json", { v: 1 })).toBe(true);
      expect(await store.createIfAbsent("runs/1/chunks/0.json", { v: 2 })).toBe(false);
      expect(await store.getJson("runs/1/chunks/0.json")).toEqual({ v: 1 });
      await store.putJson("runs/1/chunks/1.json", { v: "put" });
      expect(await store.createIfAbsent("runs/1/chunks/1.json", { v: "create" })).toBe(false);
      expect(await store.getJson("runs/1/chunks/1.json")).toEqual({ v: "put" });
    });

    it("lets exactly one of 10 concurrent createIfAbsent calls win, and keeps the winner's value", async () => {
      const store = await factory();
      for (let round = 0; round < 3; round++) {
        const key = `runs/race/claims/${round}.json`;
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.createIfAbsent(key, { writer: i, pad: "p".repeat(i * 1000) }),
          ),
        );
        expect(results.filter((r) => r)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await store.getJson(key)).toEqual({
          writer: winner,
          pad: "p".repeat(winner * 1000),
        });
      }
    });

    it("rejects bad keys with a TypeError before writing anything", async () => {
      const store = await factory();
      for (const [key, why] of BAD_KEYS) {
        const calls: Array<[string, () => Promise<unknown>]> = [
          ["putJson", () => store.putJson(key, {})],
          ["getJson", () => store.getJson(key)],
          ["putText", () => store.putText(key, "x")],
          ["getText", () => store.getText(key)],
          ["putStream", () => store.putStream(key, ["x"])],
          ["exists", () => store.exists(key)],
          ["createIfAbsent", () => store.createIfAbsent(key, {})],
        ];
        for (const [method, call] of calls) {
          await expect(call(), `${method} with ${why} key`).rejects.toThrow(TypeError);
        }
      }
      expect(await collect(store.list(""))).toEqual([]);
    });

    it("rejects bad prefixes with a TypeError", async () => {
      const store = await factory();
      for (const prefix of ["/runs/", "../", "runs//", "runs\\1/", "runs/{id}/", "runs/./"]) {
        await expect((async () => collect(store.list(prefix)))(), prefix).rejects.toThrow(
          TypeError,
        );
        await expect(store.delete(prefix), prefix).rejects.toThrow(TypeError);
      }
    });

    it("rejects text that is not a string and a prefix that is not a string", async () => {
      const store = await factory();
      await expect(store.putText("runs/1/x.csv", 5 as unknown as string)).rejects.toThrow(
        TypeError,
      );
      await expect((async () => collect(store.list(5 as unknown as string)))()).rejects.toThrow(
        TypeError,
      );
      expect(await store.exists("runs/1/x.csv")).toBe(false);
    });

    it("rejects a value with no JSON form", async () => {
      const store = await factory();
      await expect(store.putJson("runs/1/x.json", undefined)).rejects.toThrow(TypeError);
      await expect(store.createIfAbsent("runs/1/x.json", () => 1)).rejects.toThrow(TypeError);
      expect(await store.exists("runs/1/x.json")).toBe(false);
    });

    it("names the key but never quotes the content when stored text is not JSON", async () => {
      const store = await factory();
      await store.putText("runs/1/broken.json", '{"phone": "+4520123456"');
      const error = await store.getJson("runs/1/broken.json").then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toContain("'runs/1/broken.json'");
      expect(error?.message).not.toContain("4520123456");
    });

    it("writes a streamed value from strings and bytes", async () => {
      const store = await factory();
      async function* rows(): AsyncGenerator<string | Uint8Array> {
        yield "id,name\r\n";
        for (let i = 0; i < 20_000; i++) {
          yield `u${i},Åse ${i}\r\n`;
        }
        yield new TextEncoder().encode("end,ø\r\n");
      }
      await store.putStream("runs/1/report.csv", rows(), "text/csv; charset=utf-8");
      const text = await store.getText("runs/1/report.csv");
      const lines = text?.split("\r\n") ?? [];
      expect(lines[0]).toBe("id,name");
      expect(lines[20_000]).toBe("u19999,Åse 19999");
      expect(lines[20_001]).toBe("end,ø");
      expect(lines).toHaveLength(20_003);
    });

    it("keeps the previous value when a streamed source fails midway", async () => {
      const store = await factory();
      await store.putText("runs/1/report.csv", "old");
      async function* failing(): AsyncGenerator<string> {
        yield "new,";
        yield "x".repeat(100_000);
        throw new Error("source broke");
      }
      await expect(store.putStream("runs/1/report.csv", failing())).rejects.toThrow("source broke");
      expect(await store.getText("runs/1/report.csv")).toBe("old");
      await expect(store.putStream("runs/1/fresh.csv", failing())).rejects.toThrow("source broke");
      expect(await store.exists("runs/1/fresh.csv")).toBe(false);
      expect(await collect(store.list("runs/1/"))).toEqual(["runs/1/report.csv"]);
    });
  });
}
