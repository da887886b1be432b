/**
 * Outages: a window during which every Graph request, `$batch` envelopes included, answers 503
 * with Retry-After or has its connection reset, before any routing, token check or quota. Started
 * by the admin API (`POST {adminUrl}/outage`) or scheduled by the `outage` config key; the Entra
 * and managed-identity endpoints stay up, as they are other services.
 */
import type { EmulatorConfig, OutageMode } from "../config.js";

/** An outage in progress or scheduled, in real epoch milliseconds. */
export interface OutageWindow {
  startMs: number;
  endMs: number;
  mode: OutageMode;
}

/** What `GET {adminUrl}/outage` answers. */
export interface OutageStatus {
  active: boolean;
  mode?: OutageMode;
  /** Real milliseconds until the outage starts (0 when active). */
  startsInMs?: number;
  /** Real milliseconds until it ends. */
  endsInMs?: number;
}

/** The outage schedule of one emulator (one window at a time; a new one replaces it). */
export class OutagePolicy {
  private window: OutageWindow | undefined;

  /** @param config - the config at start (its `outage` is scheduled from now) */
  constructor(config: EmulatorConfig) {
    this.schedule(config);
  }

  /**
   * Follows a config change: a changed `outage` key is scheduled from now.
   *
   * @param prev - the config before
   * @param next - the config now in effect
   */
  configChanged(prev: EmulatorConfig, next: EmulatorConfig): void {
    const a = prev.outage;
    const b = next.outage;
    if (
      a.startSeconds !== b.startSeconds ||
      a.durationSeconds !== b.durationSeconds ||
      a.mode !== b.mode
    ) {
      this.schedule(next);
    }
  }

  private schedule(config: EmulatorConfig): void {
    const { startSeconds, durationSeconds, mode } = config.outage;
    if (durationSeconds <= 0) {
      this.window = undefined;
      return;
    }
    const scale = config.timeScale * 1000;
    const startMs = Date.now() + startSeconds * scale;
    this.window = { startMs, endMs: startMs + durationSeconds * scale, mode };
  }

  /**
   * Starts an outage now, replacing any other; 0 seconds ends the current one.
   *
   * @param seconds - duration in Graph seconds (scaled by `timeScale`)
   * @param mode - `503` (with Retry-After) or `reset`
   * @param config - `timeScale`
   */
  start(seconds: number, mode: OutageMode, config: EmulatorConfig): void {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) {
      throw new RangeError("GraphEmulator: an outage needs 'seconds', 0 or more.");
    }
    if (mode !== "503" && mode !== "reset") {
      throw new RangeError("GraphEmulator: an outage's 'mode' must be '503' or 'reset'.");
    }
    const now = Date.now();
    this.window =
      seconds > 0
        ? { startMs: now, endMs: now + seconds * config.timeScale * 1000, mode }
        : undefined;
  }

  /** The mode of the outage in progress, or undefined when Graph is up. */
  current(): OutageMode | undefined {
    const w = this.window;
    const now = Date.now();
    return w && now >= w.startMs && now < w.endMs ? w.mode : undefined;
  }

  /** Whether an outage is in progress or scheduled, and when it starts and ends. */
  status(): OutageStatus {
    const w = this.window;
    const now = Date.now();
    if (!w || now >= w.endMs) {
      return { active: false };
    }
    return {
      active: now >= w.startMs,
      mode: w.mode,
      startsInMs: Math.max(0, w.startMs - now),
      endsInMs: w.endMs - now,
    };
  }
}
