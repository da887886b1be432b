/**
 * A small seeded pseudo-random generator for synthetic tenants. The emulator never uses
 * `Math.random`: a tenant must be the same for the same seed on every machine and run.
 */

/** A deterministic random source. */
export interface Prng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** A raw 32-bit unsigned integer. */
  uint32(): number;
}

/**
 * Creates a mulberry32 generator: 32 bits of state, fast, and good enough for test data (it is not
 * a cryptographic generator).
 *
 * @param seed - any integer; only its low 32 bits are used.
 * @returns a generator whose sequence depends only on `seed`.
 */
export function mulberry32(seed: number): Prng {
  let state = seed >>> 0;
  const uint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const next = (): number => uint32() / 4294967296;
  return {
    next,
    uint32,
    int: (n) => Math.floor(next() * n),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  };
}

/**
 * A bijective 32-bit mix (the murmur3 finaliser): distinct inputs give distinct outputs, so ids
 * derived from distinct indexes never collide.
 *
 * @param value - a 32-bit integer.
 * @returns its mix, as an unsigned 32-bit integer.
 */
export function mix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

// Keeps the flattening read below observable, so the optimiser cannot drop it.
let _flattenSink = 0;

/**
 * Makes V8 store a string built by concatenation as one flat string. Concatenation builds a tree
 * of string pieces; a million such trees cost several times the memory of flat strings, and most
 * of the generation time goes to collecting them. Reading a character of a concatenated string
 * flattens it in place, and the next collection drops the tree.
 *
 * @param text - a string, usually just concatenated.
 * @returns the same string.
 */
export function flat(text: string): string {
  _flattenSink ^= text.charCodeAt(text.length >> 1);
  return text;
}

const HEX_CODES: readonly number[] = Array.from({ length: 16 }, (_, i) =>
  "0123456789abcdef".charCodeAt(i),
);
// Character codes of the GUID being built; one flat string is made from them at the end, which
// is twice as fast as concatenating pieces and leaves no garbage behind.
const guidCodes: number[] = Array.from({ length: 36 }, () => 45);

function putHex(at: number, value: number, digits: number): void {
  let rest = value;
  for (let k = digits - 1; k >= 0; k--) {
    guidCodes[at + k] = HEX_CODES[rest & 15]!;
    rest >>>= 4;
  }
}

/**
 * A GUID-shaped id (version 4 layout) for object number `index` of kind `kind` in the tenant of
 * `seed`. Distinct `(kind, index)` pairs give distinct ids for one seed, since the first block is a
 * bijection of the index.
 *
 * @param seed - the tenant seed.
 * @param kind - a small number separating id spaces (users, groups, the tenant).
 * @param index - the object's number, below 2^32.
 * @returns a lower-case GUID string.
 */
export function seededGuid(seed: number, kind: number, index: number): string {
  const a = mix32((index ^ mix32(seed ^ Math.imul(kind + 1, 0x9e3779b9))) >>> 0);
  const b = mix32(a ^ seed ^ 0x68e31da4);
  const c = mix32(b ^ 0x1b56c4e9);
  const d = mix32(c ^ 0x2c1b3c6d ^ kind);
  putHex(0, a, 8);
  putHex(9, b >>> 16, 4);
  // Version nibble 4 and variant bits 10xx, so the ids look like the GUIDs Entra issues.
  guidCodes[14] = 52;
  putHex(15, b & 0xfff, 3);
  putHex(19, 0x8000 | ((c >>> 16) & 0x3fff), 4);
  putHex(24, c & 0xffff, 4);
  putHex(28, d, 8);
  return String.fromCharCode.apply(null, guidCodes);
}
