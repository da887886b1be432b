/**
 * The write rate and concurrency over time, from the timings the chunks record in their outcome
 * files: each chunk's users and writes are spread evenly over the time it wrote, its 429s (a few,
 * at moments it does not record) counted whole in the interval it ended in, and the time is cut
 * into at most a few dozen equal intervals so the page stays small at any run size.
 */
import type { ChunkTiming } from "../run/outcomes.js";
import type { Timeline, TimelinePoint } from "./model.js";

/** Intervals a timeline has at most (a round interval length may add one). */
export const TIMELINE_POINTS = 60;

/** Interval lengths in seconds a timeline picks from: round numbers a reader can scan. */
const ROUND_SECONDS = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400,
];

/** The shortest round interval, in seconds, that covers `spanMs` in at most `points` intervals. */
function intervalSeconds(spanMs: number, points: number): number {
  const wanted = spanMs / points / 1000;
  const round = ROUND_SECONDS.find((s) => s >= wanted);
  return round ?? Math.ceil(wanted / 86400) * 86400;
}

interface Span {
  start: number;
  end: number;
  timing: ChunkTiming;
}

/** Accumulates one interval. */
interface Bucket {
  users: number;
  wrote: number;
  throttled: number;
  busyMs: number;
  window?: number;
}

/**
 * The timeline of a run's chunks.
 *
 * @param timings - the chunks' timings (in any order; unreadable times are left out).
 * @param maxPoints - intervals at most (default {@link TIMELINE_POINTS}).
 */
export function buildTimeline(
  timings: Iterable<ChunkTiming>,
  maxPoints = TIMELINE_POINTS,
): Timeline {
  const spans: Span[] = [];
  for (const timing of timings) {
    const start = Date.parse(timing.startedAt);
    const end = Date.parse(timing.endedAt);
    if (Number.isFinite(start) && Number.isFinite(end)) {
      // A chunk that ended within its first millisecond still took some time.
      spans.push({ start, end: Math.max(end, start + 1), timing });
    }
  }
  if (spans.length === 0) {
    return { intervalSeconds: 0, points: [], chunks: 0 };
  }
  // A loop, not Math.min(...spans): a run may have more chunks than a call has arguments.
  let first = Infinity;
  let last = -Infinity;
  for (const s of spans) {
    first = Math.min(first, s.start);
    last = Math.max(last, s.end);
  }
  const seconds = intervalSeconds(Math.max(1, last - first), Math.max(1, maxPoints));
  const ms = seconds * 1000;
  const from = Math.floor(first / ms) * ms;
  const buckets: Bucket[] = Array.from({ length: Math.ceil((last - from) / ms) }, () => ({
    users: 0,
    wrote: 0,
    throttled: 0,
    busyMs: 0,
  }));
  for (const { start, end, timing } of spans) {
    const length = end - start;
    for (let b = Math.floor((start - from) / ms); b * ms + from < end; b++) {
      const bucket = buckets[b] as Bucket;
      const overlap = Math.min(end, from + (b + 1) * ms) - Math.max(start, from + b * ms);
      const share = overlap / length;
      bucket.users += timing.users * share;
      bucket.wrote += timing.wrote * share;
      bucket.busyMs += overlap;
    }
    const ended = buckets[Math.floor((end - 1 - from) / ms)] as Bucket;
    ended.throttled += timing.throttled;
    ended.window = Math.max(ended.window ?? 0, timing.window);
  }
  const perHour = (n: number): number => Math.round((n / seconds) * 3600);
  const points = buckets.map((b, i): TimelinePoint => ({
    at: new Date(from + i * ms).toISOString(),
    usersPerHour: perHour(b.users),
    writesPerHour: perHour(b.wrote),
    throttled: b.throttled,
    chunksWriting: Math.round((b.busyMs / ms) * 10) / 10,
    ...(b.window !== undefined ? { window: b.window } : {}),
  }));
  return { intervalSeconds: seconds, points, chunks: spans.length };
}
