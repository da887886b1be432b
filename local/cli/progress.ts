/**
 * Live progress of a run on the terminal (stderr): a bar with phase, users, rate and ETA when
 * stderr is a terminal, a plain line every few seconds otherwise (logs, CI).
 */
import cliProgress from "cli-progress";
import { readRunStatus, usersDone, type RunStatus } from "../../shared/run/index.js";
import type { InstanceStatus } from "../host/types.js";

function phaseText(s: Partial<RunStatus>): string {
  switch (s.phase) {
    case "discovering":
      return `discovering: ${s.pages?.users ?? 0} user pages, ${s.pages?.report ?? 0} report pages`;
    case "planning":
      return `planning: ${s.counts?.candidates ?? 0} users decided`;
    default:
      return s.phase ?? "starting";
  }
}

function eta(s: Partial<RunStatus>): string {
  return s.etaAt ? new Date(s.etaAt).toISOString().slice(11, 19) : "--:--:--";
}

/** Shows a run's progress until stopped. */
export class ProgressView {
  private bar?: cliProgress.SingleBar;
  private lastLine = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {
    if (stream.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream,
          format:
            " {phase} |{bar}| {value}/{total} users | {rate}/h | 429s {throttled} | ETA {eta}",
          hideCursor: true,
          clearOnComplete: false,
          barsize: 30,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(1, 0, { phase: "starting", rate: 0, throttled: 0, eta: "--:--:--" });
    }
  }

  /**
   * Shows the latest status.
   *
   * @param status - the run's instance status.
   */
  update(status: InstanceStatus): void {
    const s = readRunStatus(status.customStatus);
    const total = Math.max(1, s.counts?.planned ?? 0);
    const done = s.counts ? usersDone(s.counts) : 0;
    const payload = {
      phase: s.phase === "provisioning" ? "provisioning" : phaseText(s),
      rate: (s.usersPerHour ?? 0).toLocaleString("en-US"),
      throttled: s.throttled ?? 0,
      eta: eta(s),
    };
    if (this.bar) {
      this.bar.setTotal(total);
      this.bar.update(done, payload);
      return;
    }
    if (Date.now() - this.lastLine > 5_000) {
      this.lastLine = Date.now();
      this.stream.write(
        `${payload.phase}: ${done}/${s.counts?.planned ?? 0} users, ${payload.rate}/h, 429s ${payload.throttled}, ETA ${payload.eta}\n`,
      );
    }
  }

  /**
   * Shows a message above the bar (or as a plain line without a terminal).
   *
   * @param text - the message, ending with a newline.
   */
  note(text: string): void {
    if (this.bar) {
      this.bar.stop();
      this.stream.write(text);
      this.bar.start(1, 0);
      return;
    }
    this.stream.write(text);
  }

  /** Ends the bar, leaving it on screen. */
  stop(): void {
    this.bar?.stop();
  }
}
