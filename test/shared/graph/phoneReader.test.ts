/**
 * Reading existing phone methods (REPLACE_EXISTING): under the limiter, several batches in
 * flight, throttled items read again.
 */
import { describe, expect, it } from "vitest";
import type { BatchRequest, BatchResult } from "../../../shared/graph/client.js";
import { GraphRequestError } from "../../../shared/graph/errors.js";
import { readPhoneMethods } from "../../../shared/graph/phoneReader.js";
import { AdaptiveLimiter } from "../../../shared/graph/throttle.js";

/** A Graph whose batches take 20 ms; `refuse` decides which items answer 429 the first time. */
function fakeGraph(refuse: (url: string) => boolean = () => false) {
  const seen = new Set<string>();
  const stats = { batches: 0, items: 0, inFlight: 0, maxInFlight: 0 };
  const batch = async (requests: BatchRequest[]): Promise<BatchResult[]> => {
    stats.batches++;
    stats.items += requests.length;
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    await new Promise((r) => setTimeout(r, 20));
    stats.inFlight--;
    return requests.map((r) => {
      if (!seen.has(r.url) && refuse(r.url)) {
        seen.add(r.url);
        const error = new GraphRequestError({
          status: 429,
          code: "TooManyRequests",
          retryAfterMs: 10,
        });
        return { id: r.id, status: 429, headers: {}, body: undefined, error };
      }
      const user = r.url.split("/")[2] as string;
      return {
        id: r.id,
        status: 200,
        headers: {},
        body: {
          value: [{ phoneType: "mobile", phoneNumber: `+45 ${user.slice(1).padStart(8, "0")}` }],
        },
      };
    });
  };
  return { graph: { batch }, stats };
}

const ids = Array.from({ length: 200 }, (_, i) => `u${i}`);

describe("readPhoneMethods", () => {
  it("reads every user once with several batches in flight, each under the limiter", async () => {
    const { graph, stats } = fakeGraph();
    const limiter = new AdaptiveLimiter({ initial: 80 });
    const found = await readPhoneMethods(graph, ids, { limiter, batchesInFlight: 4 });
    expect([...found.keys()].sort()).toEqual([...ids].sort());
    expect(found.get("u7")).toEqual([{ phoneType: "mobile", phoneNumber: "+45 00000007" }]);
    expect(stats.items).toBe(ids.length);
    expect(stats.maxInFlight).toBeGreaterThan(1);
    expect(stats.maxInFlight).toBeLessThanOrEqual(4);
    // The limiter counted every read: they draw on the same budget as the writes.
    expect(limiter.stats().completed).toBe(ids.length);
  });

  it("reads throttled users again and tells the limiter of the 429s", async () => {
    const { graph, stats } = fakeGraph((url) => url.includes("/u1"));
    const limiter = new AdaptiveLimiter({ initial: 80 });
    const found = await readPhoneMethods(graph, ids, { limiter, sleep: async () => {} });
    expect(found.size).toBe(ids.length);
    const refused = ids.filter((id) => id.startsWith("u1")).length;
    expect(stats.items).toBe(ids.length + refused);
    expect(limiter.stats().throttled).toBe(refused);
  });
});
