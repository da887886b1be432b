/**
 * A dependency-free SVG chart of the provisioning benchmark: one panel per scenario with the
 * write rate, the limiter's pacing rate and the quota's refill rate (left axis, writes/s), the
 * writes in flight (right axis), and a tick per second with 429 answers.
 */
import type { ScenarioResult, ScenarioSample } from "./provisioning.js";

const W = 900;
const PANEL_H = 260;
const M = { left: 60, right: 60, top: 34, bottom: 34 };

function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Write rate per sample interval, smoothed over a window of about 2% of the run. */
function writeRates(samples: ScenarioSample[], span: number): { t: number; rate: number }[] {
  const window = Math.max(span / 50, 1e-9);
  const out: { t: number; rate: number }[] = [];
  let j = 0;
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i] as ScenarioSample;
    while (j < i && (samples[j] as ScenarioSample).t < s.t - window) {
      j++;
    }
    const from = samples[j] as ScenarioSample;
    if (s.t > from.t) {
      out.push({ t: s.t, rate: (s.done - from.done) / (s.t - from.t) });
    }
  }
  return out;
}

function path(points: { x: number; y: number }[]): string {
  return points
    .map((p, i) => `${i === 0 ? "M" : "L"}${p.x.toFixed(1)},${p.y.toFixed(1)}`)
    .join(" ");
}

function panel(r: ScenarioResult, top: number): string {
  const samples = r.samples;
  const span = Math.max(1e-9, r.emulatedSeconds);
  const refill = r.quotaPerHour / 3600;
  const rates = writeRates(samples, span);
  const paced = samples.filter((s) => s.ratePerSecond !== undefined);
  const yMax =
    Math.max(
      Math.max(refill, r.startQuotaPerHour / 3600) * 1.6,
      ...rates.map((p) => p.rate).slice(Math.floor(rates.length * 0.1)),
    ) || 1;
  const inMax = Math.max(1, ...samples.map((s) => s.inFlight));
  const x0 = M.left;
  const x1 = W - M.right;
  const y0 = top + PANEL_H - M.bottom;
  const y1 = top + M.top;
  const x = (t: number): number => x0 + ((x1 - x0) * t) / span;
  const y = (v: number): number => y0 - ((y0 - y1) * Math.min(v, yMax)) / yMax;
  const yIn = (v: number): number => y0 - ((y0 - y1) * v) / inMax;
  const parts: string[] = [];
  parts.push(
    `<text x="${x0}" y="${top + 20}" font-size="14" font-weight="bold">${esc(
      `${r.name}: ${r.users} users, ${r.usersPerHour.toLocaleString("en-US")}/h = ${(r.ratio * 100).toFixed(1)}% of ceiling, ${(r.throttledShare * 100).toFixed(2)}% throttled, ${r.callsPerUser.toFixed(3)} calls/user`,
    )}</text>`,
  );
  parts.push(
    `<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#ccc"/>`,
  );
  for (let k = 0; k <= 4; k++) {
    const v = (yMax * k) / 4;
    parts.push(
      `<text x="${x0 - 6}" y="${y(v) + 4}" font-size="10" text-anchor="end">${v.toFixed(v < 10 ? 2 : 0)}</text>`,
      `<text x="${x1 + 6}" y="${yIn((inMax * k) / 4) + 4}" font-size="10" fill="#2a2">${Math.round((inMax * k) / 4)}</text>`,
      `<text x="${x((span * k) / 4).toFixed(1)}" y="${y0 + 14}" font-size="10" text-anchor="middle">${Math.round((span * k) / 4)} s</text>`,
    );
  }
  // The refill rate steps at a mid-run change of the quota.
  const startRefill = r.startQuotaPerHour / 3600;
  const step = r.changedAt !== undefined ? x(r.changedAt) : x1;
  parts.push(
    `<line x1="${x0}" x2="${step}" y1="${y(startRefill)}" y2="${y(startRefill)}" stroke="#888" stroke-dasharray="6 4"/>`,
    `<line x1="${step}" x2="${x1}" y1="${y(refill)}" y2="${y(refill)}" stroke="#888" stroke-dasharray="6 4"/>`,
  );
  if (r.changedAt !== undefined) {
    parts.push(
      `<line x1="${x(r.changedAt)}" x2="${x(r.changedAt)}" y1="${y1}" y2="${y0}" stroke="#a0a" stroke-dasharray="2 3"/>`,
      `<text x="${x(r.changedAt) + 4}" y="${y1 + 12}" font-size="10" fill="#a0a">${esc(r.changeLabel ?? "change")}</text>`,
    );
  }
  // 429s: a red tick wherever the count rose since the previous sample.
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as ScenarioSample;
    const b = samples[i] as ScenarioSample;
    if (b.throttled > a.throttled) {
      parts.push(
        `<line x1="${x(b.t)}" x2="${x(b.t)}" y1="${y0}" y2="${y0 - 8}" stroke="#d22" stroke-width="2"/>`,
      );
    }
  }
  parts.push(
    `<path d="${path(samples.map((s) => ({ x: x(s.t), y: yIn(s.inFlight) })))}" fill="none" stroke="#2a2" stroke-width="1" opacity="0.7"/>`,
    `<path d="${path(paced.map((s) => ({ x: x(s.t), y: y(s.ratePerSecond ?? 0) })))}" fill="none" stroke="#e80" stroke-width="1.2" stroke-dasharray="4 2"/>`,
    `<path d="${path(rates.map((p) => ({ x: x(p.t), y: y(p.rate) })))}" fill="none" stroke="#15c" stroke-width="1.8"/>`,
  );
  return parts.join("\n");
}

/**
 * Renders the chart.
 *
 * @param results - one panel per scenario, top to bottom.
 * @returns the SVG document.
 */
export function renderChart(results: ScenarioResult[]): string {
  const legendH = 30;
  const h = legendH + PANEL_H * results.length;
  const legend = [
    ["#15c", "writes/s (left)"],
    ["#e80", "limiter pacing rate, writes/s (left)"],
    ["#888", "quota refill rate (left)"],
    ["#2a2", "writes in flight (right)"],
    ["#d22", "429 answers"],
  ]
    .map(
      ([color, label], i) =>
        `<rect x="${M.left + i * 165}" y="10" width="12" height="12" fill="${color}"/><text x="${M.left + i * 165 + 16}" y="20" font-size="11">${esc(label ?? "")}</text>`,
    )
    .join("\n");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    legend,
    ...results.map((r, i) => panel(r, legendH + i * PANEL_H)),
    "</svg>",
    "",
  ].join("\n");
}
