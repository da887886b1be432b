import { Readable, Writable } from "node:stream";
import { describe, expect, it } from "vitest";

import { normalizeLine, runNormalize } from "../../../local/cli/commands/normalize.js";

/** A writable that keeps what it receives, optionally acknowledging each chunk later. */
function collector(options: { highWaterMark?: number; slow?: boolean } = {}) {
  const chunks: string[] = [];
  const stream = new Writable({
    highWaterMark: options.highWaterMark ?? 16_384,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString("utf8"));
      if (options.slow) {
        setImmediate(callback);
      } else {
        callback();
      }
    },
  });
  return {
    stream,
    text: () => chunks.join(""),
    lines: () => chunks.join("").split("\n").slice(0, -1),
  };
}

async function run(text: string | string[], options = {}) {
  const input = Readable.from(Array.isArray(text) ? text : [text]);
  const out = collector();
  const summary = await runNormalize(input, out.stream, options);
  return {
    summary,
    lines: out.lines().map((l) => JSON.parse(l) as Record<string, unknown>),
    raw: out.lines(),
  };
}

describe("runNormalize", () => {
  it("writes one JSON object per input line, in order", async () => {
    // Arrange
    const text = "+45 20123456\n20 12 34 56\n+45 2012345\n";

    // Act
    const { summary, lines } = await run(text, { defaultRegion: "DK" });

    // Assert
    expect(summary).toEqual({ lines: 3, ok: 2 });
    expect(lines).toEqual([
      { input: "+45 20123456", ok: true, phoneNumber: "+45 20123456" },
      { input: "20 12 34 56", ok: true, phoneNumber: "+45 20123456" },
      {
        input: "+45 2012345",
        ok: false,
        reason: "The number is too short for its country ('DK', +45).",
      },
    ]);
  });

  it("uses exactly the keys input, ok, phoneNumber or input, ok, reason, in that order", async () => {
    const { raw } = await run("+45 20123456\nN/A\n");
    expect(Object.keys(JSON.parse(raw[0] ?? "{}") as object)).toEqual([
      "input",
      "ok",
      "phoneNumber",
    ]);
    expect(Object.keys(JSON.parse(raw[1] ?? "{}") as object)).toEqual(["input", "ok", "reason"]);
  });

  it("reads CRLF line endings without keeping the carriage return", async () => {
    const { lines } = await run("+45 20123456\r\n+44 7400 123456\r\n");
    expect(lines.map((l) => l.input)).toEqual(["+45 20123456", "+44 7400 123456"]);
    expect(lines.every((l) => l.ok === true)).toBe(true);
  });

  it("keeps empty lines as inputs that fail as empty", async () => {
    const { summary, lines } = await run("+45 20123456\n\n\r\n+45 30123456\n");
    expect(summary).toEqual({ lines: 4, ok: 2 });
    expect(lines[1]).toEqual({ input: "", ok: false, reason: "The field is empty." });
    expect(lines[2]).toEqual({ input: "", ok: false, reason: "The field is empty." });
  });

  it("reads a last line that has no line break", async () => {
    const { summary, lines } = await run("+45 20123456\n+45 30123456");
    expect(summary.lines).toBe(2);
    expect(lines[1]).toMatchObject({ input: "+45 30123456", ok: true });
  });

  it("joins lines split across input chunks", async () => {
    const { lines } = await run(["+45 2012", "3456\n+44 74", "00 123456\n"]);
    expect(lines.map((l) => l.phoneNumber)).toEqual(["+45 20123456", "+44 7400123456"]);
  });

  it("drops a byte-order mark at the start of the input", async () => {
    const { lines } = await run("\uFEFF+45 20123456\n");
    expect(lines[0]).toEqual({ input: "+45 20123456", ok: true, phoneNumber: "+45 20123456" });
  });

  it("writes nothing and reports zero lines for empty input", async () => {
    const { summary, raw } = await run("");
    expect(summary).toEqual({ lines: 0, ok: 0 });
    expect(raw).toEqual([]);
  });

  it("rejects numbers without a country code when no default region is given", async () => {
    const { lines } = await run("20123456\n");
    expect(lines[0]).toMatchObject({
      ok: false,
      reason: expect.stringContaining("no default region"),
    });
  });

  it("accepts landlines only with allowLandline", async () => {
    const without = await run("020 7946 0958\n", { defaultRegion: "GB" });
    const withLandline = await run("020 7946 0958\n", { defaultRegion: "GB", allowLandline: true });
    expect(without.lines[0]).toMatchObject({ ok: false });
    expect(withLandline.lines[0]).toMatchObject({ ok: true, phoneNumber: "+44 2079460958" });
  });

  it("escapes quotes and control characters so each output line stays one JSON object", async () => {
    const { raw, lines } = await run('"+45" 20123456\t\n');
    expect(raw).toHaveLength(1);
    expect(lines[0]?.input).toBe('"+45" 20123456\t');
  });

  it("refuses an unknown default region before reading anything", async () => {
    const input = Readable.from(["+45 20123456\n"]);
    const out = collector();
    await expect(runNormalize(input, out.stream, { defaultRegion: "XX" })).rejects.toThrow(
      "Normalize: the default region 'XX' is not a known ISO 3166-1 alpha-2 region; use a code such as DK.",
    );
    expect(out.text()).toBe("");
  });

  it("rejects when the input stream fails", async () => {
    const input = new Readable({
      read() {
        this.destroy(new Error("disk went away"));
      },
    });
    await expect(runNormalize(input, collector().stream, {})).rejects.toThrow("disk went away");
  });

  it("rejects when the output stream fails", async () => {
    const input = Readable.from(["+45 20123456\n+45 30123456\n"]);
    const output = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error("pipe closed"));
      },
    });
    await expect(runNormalize(input, output, {})).rejects.toThrow("pipe closed");
  });

  it("streams 100,000 lines in order while a slow output holds the reading back", async () => {
    // Arrange: the input is generated on demand and counts what has been pulled; the output
    // acknowledges each chunk on a later turn, like a pipe to a slower process.
    const total = 100_000;
    let produced = 0;
    const input = new Readable({
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        let chunk = "";
        for (let i = 0; i < 1_000 && produced < total; i += 1) {
          chunk += produced % 10 === 0 ? `+45 2${1 + (produced % 5)}123456\n` : "n/a\n";
          produced += 1;
        }
        this.push(chunk);
      },
    });
    let written = 0;
    let maxAhead = 0;
    let lastIndexOk = true;
    const output = new Writable({
      highWaterMark: 1_024,
      // Buffered lines arrive together, so the test pays one deferred acknowledgement per batch.
      writev(chunks, callback) {
        for (const { chunk } of chunks) {
          for (const line of (chunk as Buffer).toString("utf8").split("\n")) {
            if (line === "") {
              continue;
            }
            const expectedOk = written % 10 === 0;
            lastIndexOk &&= line.includes('"ok":true') === expectedOk;
            written += 1;
          }
        }
        maxAhead = Math.max(maxAhead, produced - written);
        setImmediate(callback);
      },
    });

    // Act
    const summary = await runNormalize(input, output, {});

    // Assert: everything came out in order, and the reader never ran far ahead of the writer
    // (without backpressure it would read all 100,000 lines before the first acknowledgement).
    expect(summary).toEqual({ lines: total, ok: total / 10 });
    expect(written).toBe(total);
    expect(lastIndexOk).toBe(true);
    expect(maxAhead).toBeLessThan(20_000);
  });
});

describe("normalizeLine", () => {
  it("reports whether the line normalised", () => {
    expect(normalizeLine("+45 20123456", {})).toEqual({
      json: '{"input":"+45 20123456","ok":true,"phoneNumber":"+45 20123456"}',
      ok: true,
    });
    expect(normalizeLine("", {}).ok).toBe(false);
  });
});
