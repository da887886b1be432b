/**
 * `mfa-prepopulate normalize [--default-region CC] [--allow-landline]`: one raw number per input
 * line, one JSON object per output line, in order. It streams, so a 100,000-line HR export is
 * checked with bounded memory, and it honours backpressure of the output (a slow pipe pauses the
 * reading).
 */
import { createInterface } from "node:readline";

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
    const summary: NormalizeSummary = { lines: 0, ok: 0 };
    const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
    let settled = false;
    let waitingForDrain = false;
    let inputDone = false;
    // Writes not yet acknowledged: the promise settles only once the output has taken every line,
    // so a failing pipe rejects it instead of surfacing as an unhandled error later.
    let pendingWrites = 0;
    const finishIfDone = (): void => {
      if (!settled && inputDone && pendingWrites === 0) {
        settled = true;
        detach();
        resolve(summary);
      }
    };
    const onWritten = (error?: Error | null): void => {
      pendingWrites -= 1;
      if (error) {
        fail(error);
        return;
      }
      finishIfDone();
    };
    const onDrain = (): void => {
      waitingForDrain = false;
      lines.resume();
    };
    const detach = (): void => {
      input.removeListener("error", fail);
      output.removeListener("error", fail);
      output.removeListener("drain", onDrain);
    };
    function fail(error: unknown): void {
      if (!settled) {
        settled = true;
        // The error listeners stay: a failed stream emits 'error' again for writes already
        // queued, and an unheard 'error' would crash the process. They do nothing once settled.
        output.removeListener("drain", onDrain);
        lines.close();
        reject(error instanceof Error ? error : new Error(`Normalize: ${String(error)}.`));
      }
    }

    lines.on("line", (raw: string) => {
      if (settled) {
        return;
      }
      // A byte-order mark is an artefact of the file, not part of the first value.
      const line = summary.lines === 0 ? raw.replace(/^\uFEFF/, "") : raw;
      summary.lines += 1;
      const { json, ok } = normalizeLine(line, normalizeOptions);
      if (ok) {
        summary.ok += 1;
      }
      pendingWrites += 1;
      if (!output.write(`${json}\n`, onWritten) && !waitingForDrain) {
        // readline still delivers the lines of the chunk it holds; pausing stops further reads,
        // so at most one input chunk is buffered beyond the output's high-water mark.
        waitingForDrain = true;
        lines.pause();
        output.once("drain", onDrain);
      }
    });
    lines.on("close", () => {
      inputDone = true;
      finishIfDone();
    });
    // The interface re-emits input errors; without a listener that would crash the process.
    lines.on("error", fail);
    input.on("error", fail);
    output.on("error", fail);
  });
}
