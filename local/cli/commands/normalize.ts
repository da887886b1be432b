/**
 * `mfa-prepopulate normalize [--default-region CC] [--allow-landline]`: one raw number per input
 * line, one JSON object per output line, in order. It streams, so a 100,000-line HR export is
 * checked with bounded memory, and it honours backpressure of the output (a slow pipe pauses the
 * reading).
 */
import { createInterface, type Interface } from "node:readline";

import type { Command } from "commander";
import { isSupportedCountry } from "libphonenumber-js/max";

import { normalizePhoneNumber, type NormalizeOptions } from "../../../shared/phone/index.js";
import { fail } from "../fail.js";

/**
 * Adds `normalize`.
 *
 * @param program - the CLI program.
 */
export function addNormalizeCommand(program: Command): Command {
  return program
    .command("normalize")
    .description("read one raw number per line on stdin, write one JSON result per line on stdout")
    .option("--default-region <cc>", "region for numbers without a country code")
    .option("--allow-landline", "accept fixed-line-only numbers")
    .action(async (opts: { defaultRegion?: string; allowLandline?: boolean }) => {
      try {
        const region = opts.defaultRegion?.toUpperCase();
        if (region !== undefined && !/^[A-Z]{2}$/.test(region)) {
          throw new Error(
            `'--default-region' must be an ISO 3166-1 alpha-2 region such as DK, not '${opts.defaultRegion}'.`,
          );
        }
        await runNormalize(process.stdin, process.stdout, {
          defaultRegion: region,
          allowLandline: opts.allowLandline === true,
        });
      } catch (error) {
        fail(error);
      }
    });
}

/** Options of {@link runNormalize}: the same meaning as `DEFAULT_REGION` and `ALLOW_LANDLINE`. */
export type NormalizeCommandOptions = NormalizeOptions;

/** What {@link runNormalize} processed. */
export interface NormalizeSummary {
  /** Input lines read, empty lines included. */
  lines: number;
  /** Lines that normalised to a number. */
  ok: number;
}

/**
 * One output line for one input line: `{"input", "ok": true, "phoneNumber"}` or
 * `{"input", "ok": false, "reason"}`, keys in that order.
 *
 * @param input - the raw line, without its line break.
 * @param options - default region and landline policy.
 */
export function normalizeLine(
  input: string,
  options: NormalizeCommandOptions,
): { json: string; ok: boolean } {
  const result = normalizePhoneNumber(input, options);
  const json = result.ok
    ? JSON.stringify({ input, ok: true, phoneNumber: result.phoneNumber })
    : JSON.stringify({ input, ok: false, reason: result.reason });
  return { json, ok: result.ok };
}

/**
 * Reads raw numbers, one per line (LF or CRLF; empty lines are inputs too and come out as
 * `ok: false`), and writes one JSON object per line to `output`, in input order. The output is
 * not ended, so `process.stdout` can be passed.
 *
 * @param input - the raw numbers, e.g. `process.stdin`.
 * @param output - where the JSON lines go, e.g. `process.stdout`.
 * @param options - default region (ISO 3166-1 alpha-2) and landline policy.
 * @returns the number of lines read and of lines that normalised.
 * @throws Error when the default region is not a known region, before anything is read, or when
 *   either stream fails.
 */
export function runNormalize(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  options: NormalizeCommandOptions,
): Promise<NormalizeSummary> {
  const region = options.defaultRegion?.trim().toUpperCase() || undefined;
  if (region !== undefined && !isSupportedCountry(region)) {
    return Promise.reject(
      new Error(
        `Normalize: the default region '${region}' is not a known ISO 3166-1 alpha-2 region; use a code such as DK.`,
      ),
    );
  }
  const normalizeOptions: NormalizeOptions = {
    defaultRegion: region,
    allowLandline: options.allowLandline,
  };
  return new Promise<NormalizeSummary>((resolve, reject) => {
    new LinePipe(input, output, normalizeOptions, resolve, reject).start();
  });
}

/**
 * The stream handling of one {@link runNormalize}: writes each input line's JSON as it is read,
 * pauses the reading while the output is full, and settles once the input has ended and the
 * output has taken every line, or at the first error of either stream.
 */
class LinePipe {
  private readonly summary: NormalizeSummary = { lines: 0, ok: 0 };
  private readonly lines: Interface;
  private settled = false;
  private waitingForDrain = false;
  private inputDone = false;
  // Writes not yet acknowledged: the promise settles only once the output has taken every line,
  // so a failing pipe rejects it instead of surfacing as an unhandled error later.
  private pendingWrites = 0;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    private readonly output: NodeJS.WritableStream,
    private readonly options: NormalizeOptions,
    private readonly resolve: (summary: NormalizeSummary) => void,
    private readonly reject: (error: Error) => void,
  ) {
    this.lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  }

  /** Starts reading. */
  start(): void {
    this.lines.on("line", this.onLine);
    this.lines.on("close", this.onInputEnd);
    // The interface re-emits input errors; without a listener that would crash the process.
    this.lines.on("error", this.abort);
    this.input.on("error", this.abort);
    this.output.on("error", this.abort);
  }

  private readonly onLine = (raw: string): void => {
    if (this.settled) {
      return;
    }
    // A byte-order mark is an artefact of the file, not part of the first value.
    const line = this.summary.lines === 0 ? raw.replace(/^\uFEFF/, "") : raw;
    this.summary.lines += 1;
    const { json, ok } = normalizeLine(line, this.options);
    if (ok) {
      this.summary.ok += 1;
    }
    this.pendingWrites += 1;
    if (!this.output.write(`${json}\n`, this.onWritten) && !this.waitingForDrain) {
      // readline still delivers the lines of the chunk it holds; pausing stops further reads,
      // so at most one input chunk is buffered beyond the output's high-water mark.
      this.waitingForDrain = true;
      this.lines.pause();
      this.output.once("drain", this.onDrain);
    }
  };

  private readonly onWritten = (error?: Error | null): void => {
    this.pendingWrites -= 1;
    if (error) {
      this.abort(error);
      return;
    }
    this.finishIfDone();
  };

  private readonly onDrain = (): void => {
    this.waitingForDrain = false;
    this.lines.resume();
  };

  private readonly onInputEnd = (): void => {
    this.inputDone = true;
    this.finishIfDone();
  };

  private finishIfDone(): void {
    if (!this.settled && this.inputDone && this.pendingWrites === 0) {
      this.settled = true;
      this.input.removeListener("error", this.abort);
      this.output.removeListener("error", this.abort);
      this.output.removeListener("drain", this.onDrain);
      this.resolve(this.summary);
    }
  }

  private readonly abort = (error: unknown): void => {
    if (!this.settled) {
      this.settled = true;
      // The error listeners stay: a failed stream emits 'error' again for writes already
      // queued, and an unheard 'error' would crash the process. They do nothing once settled.
      this.output.removeListener("drain", this.onDrain);
      this.lines.close();
      this.reject(error instanceof Error ? error : new Error(`Normalize: ${String(error)}.`));
    }
  };
}
