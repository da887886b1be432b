/**
 * Live progress of a run on stderr: the phase, users done of planned, the rate in users per hour
 * of real time (and, when the emulator runs time-scaled, what that rate is at Graph's own pace),
 * 429 answers and the ETA. On a terminal one line is redrawn in place; without one (logs, CI) a
 * plain line is printed every few seconds, and whenever the phase changes.
 */
import { clearLine, cursorTo } from "node:readline";
import { readRunStatus, usersDone, type RunStatus } from "../../shared/run/index.js";
import type { InstanceStatus } from "../host/types.js";

/** Without a terminal, a line at most this often (and at each phase change). */
const LOG_EVERY_MS = 5_000;

const num = (n: number): string => Math.round(n).toLocaleString("en-US");

/** A span of time as `1 h 05 min`, `3 min 10 s` or `42 s`. */
export function formatSpan(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) {
    return `${h} h ${String(m).padStart(2, "0")} min`;
  }
  return m > 0 ? `${m} min ${String(s % 60).padStart(2, "0")} s` : `${s} s`;
}

/** Options of {@link progressLine}. */
export interface ProgressLineOptions {
  /** Now, for the time left. */
  now: Date;
  /**
   * Emulated time per real time when the run talks to a time-scaled emulator (the demo's
   * `--time-scale`, 0.05 = 20x faster); absent against a real Graph.
   */
  timeScale?: number;
}

/** The rate part: real users per hour, and Graph's own pace when the emulator is time-scaled. */
function rateText(usersPerHour: number | undefined, timeScale: number | undefined): string {
  if (usersPerHour === undefined) {
    return "rate –";
  }
  const real = `${num(usersPerHour)} users/h`;
  if (timeScale === undefined || timeScale === 1) {
    return real;
  }
  const factor = 1 / timeScale;
  const shown = factor >= 10 ? num(factor) : String(Math.round(factor * 10) / 10);
  return `${real} (emulator time x${shown}: about ${num(usersPerHour * timeScale)}/h at Graph's pace)`;
}

function etaText(etaAt: string | undefined, now: Date): string {
  const at = etaAt ? Date.parse(etaAt) : NaN;
  if (!Number.isFinite(at)) {
    return "ETA –";
  }
  return `ETA in ${formatSpan(at - now.getTime())} (${new Date(at).toISOString().slice(11, 19)} UTC)`;
}

/** Users done of planned, or chunks when the status has no plan counts (a rerun). */
function doneText(s: Partial<RunStatus>): string {
  const planned = s.counts?.planned;
  if (planned !== undefined && planned > 0) {
    const done = s.counts ? usersDone(s.counts) : 0;
    return `${num(done)}/${num(planned)} users (${Math.floor((done / planned) * 100)}%)`;
  }
  const chunks = s.chunks;
  return chunks ? `${num(chunks.done + chunks.failed)}/${num(chunks.total)} chunks` : "";
}

/**
 * One progress line for a run's custom status.
 *
 * @param s - the run's custom status, as far as it goes.
 * @param options - the time now and the emulator's time scale.
 */
export function progressLine(s: Partial<RunStatus>, options: ProgressLineOptions): string {
  switch (s.phase) {
    case undefined:
    case "starting":
    case "resolvingScope":
      return "starting: resolving the groups";
    case "discovering":
      return `discovering: ${num(s.pages?.users ?? 0)} user pages, ${num(s.pages?.report ?? 0)} report pages read`;
    case "checkingNumbers":
      return `checking numbers: settled and shared numbers over ${num(s.pages?.users ?? 0)} user pages`;
    case "planning":
      return `planning: ${num(s.counts?.candidates ?? 0)} users decided, ${num(s.counts?.planned ?? 0)} writes planned`;
    case "checkingPolicy":
      return `checking the authentication methods policy for ${num(s.counts?.planned ?? 0)} planned writes`;
    case "awaitingApproval":
      return `awaiting approval: ${num(s.approval?.planned ?? s.counts?.planned ?? 0)} planned writes, above APPROVAL_THRESHOLD (${num(s.approval?.threshold ?? 0)})`;
    case "provisioning":
      return [
        `provisioning: ${doneText(s)}`,
        rateText(s.usersPerHour, options.timeScale),
        `429s ${num(s.throttled ?? 0)}`,
        etaText(s.etaAt, options.now),
      ].join(" | ");
    default:
      return `${s.phase}${s.counts?.planned !== undefined ? `: ${doneText(s)}` : ""}`;
  }
}

/** Shows a run's progress until stopped. */
export class ProgressView {
  private lastLineAt = 0;
  private lastPhase?: string;
  private lastText = "";
  private readonly tty: boolean;

  /**
   * @param options - the emulator's time scale, if any, and the stream (default stderr).
   */
  constructor(private readonly options: { timeScale?: number; stream?: NodeJS.WriteStream } = {}) {
    this.tty = this.stream.isTTY === true;
  }

  private get stream(): NodeJS.WriteStream {
    return this.options.stream ?? process.stderr;
  }

  /**
   * Shows the latest status.
   *
   * @param status - the run's instance status.
   */
  update(status: InstanceStatus): void {
    const s = readRunStatus(status.customStatus);
    const text = progressLine(s, { now: new Date(), timeScale: this.options.timeScale });
    if (this.tty) {
      this.redraw(text);
      return;
    }
    const phaseChanged = s.phase !== this.lastPhase;
    if (phaseChanged || Date.now() - this.lastLineAt >= LOG_EVERY_MS) {
      this.lastLineAt = Date.now();
      this.lastPhase = s.phase;
      this.stream.write(`${text}\n`);
    }
  }

  /** Redraws the line in place, cut to the terminal's width so it never wraps. */
  private redraw(text: string): void {
    const width = this.stream.columns || 120;
    this.lastText = text.length >= width ? `${text.slice(0, width - 2)}…` : text;
    cursorTo(this.stream, 0);
    clearLine(this.stream, 0);
    this.stream.write(this.lastText);
  }

  /**
   * Shows a message above the progress line (or as a plain line without a terminal).
   *
   * @param text - the message, ending with a newline.
   */
  note(text: string): void {
    if (this.tty) {
      cursorTo(this.stream, 0);
      clearLine(this.stream, 0);
      this.stream.write(text);
      this.stream.write(this.lastText);
      return;
    }
    this.stream.write(text);
  }

  /** Ends the line, leaving the last progress on screen. */
  stop(): void {
    if (this.tty && this.lastText !== "") {
      this.stream.write("\n");
    }
  }
}
