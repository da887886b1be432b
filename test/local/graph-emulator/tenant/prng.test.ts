import { describe, expect, it } from "vitest";
import {
  flat,
  mix32,
  mulberry32,
  seededGuid,
} from "../../../../local/graph-emulator/tenant/prng.js";

describe("mulberry32", () => {
  it("repeats its sequence for a seed and differs between seeds", () => {
    const a = mulberry32(5);
    const b = mulberry32(5);
    const c = mulberry32(6);
    const first = Array.from({ length: 8 }, () => a.uint32());

    expect(Array.from({ length: 8 }, () => b.uint32())).toEqual(first);
    expect(Array.from({ length: 8 }, () => c.uint32())).not.toEqual(first);
  });

  it("draws floats in [0, 1) and integers in [0, n)", () => {
    const prng = mulberry32(1);
    const floats = Array.from({ length: 10_000 }, () => prng.next());
    const ints = new Set(Array.from({ length: 10_000 }, () => prng.int(7)));

    expect(Math.min(...floats)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...floats)).toBeLessThan(1);
    expect([...ints].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });
});

describe("seededGuid", () => {
  it("gives distinct version-4-shaped GUIDs per index and kind, stable for a seed", () => {
    const ids = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      ids.add(seededGuid(9, 0, i));
    }
    ids.add(seededGuid(9, 1, 0));

    expect(ids.size).toBe(50_001);
    expect(seededGuid(9, 0, 123)).toBe(seededGuid(9, 0, 123));
    expect(seededGuid(10, 0, 123)).not.toBe(seededGuid(9, 0, 123));
    expect(seededGuid(9, 0, 123)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("mix32 is a bijection on a sample: no two inputs collide", () => {
    const outputs = new Set<number>();
    for (let i = 0; i < 100_000; i++) {
      outputs.add(mix32(i * 7919));
    }

    expect(outputs.size).toBe(100_000);
  });
});

describe("flat", () => {
  it("returns the same string value", () => {
    const parts = ["søren", ".", "o'brien", String(42)];

    expect(flat(parts.join("") + "@contoso.example")).toBe("søren.o'brien42@contoso.example");
  });
});
