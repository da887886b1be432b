import { describe, expect, it } from "vitest";
import { DueQueue } from "../../../shared/graph/dueQueue.js";

describe("DueQueue", () => {
  it("hands out items due now first in first out, and waiting ones in the order they fall due", () => {
    const q = new DueQueue<string>();
    q.push("a", "b");
    q.defer("late", 300);
    q.defer("soon", 100);
    q.defer("soon2", 100);
    expect(q.size).toBe(5);
    expect(q.nextDueAt).toBe(100);
    q.promote(50);
    expect(q.take(10)).toEqual(["a", "b"]);
    q.promote(100);
    q.push("c");
    expect(q.readyCount).toBe(3);
    expect(q.take(2)).toEqual(["soon", "soon2"]);
    expect(q.nextDueAt).toBe(300);
    expect(q.drain()).toEqual(["c", "late"]);
    expect(q.size).toBe(0);
  });

  it("keeps its order over thousands of items taken from the front", () => {
    const q = new DueQueue<number>();
    for (let i = 0; i < 5_000; i++) {
      q.defer(i, 5_000 - (i % 7));
    }
    q.promote(10_000);
    const out = q.take(5_000);
    for (let i = 1; i < out.length; i++) {
      const [a, b] = [out[i - 1] as number, out[i] as number];
      const [da, db] = [5_000 - (a % 7), 5_000 - (b % 7)];
      expect(da < db || (da === db && a < b)).toBe(true);
    }
  });
});
