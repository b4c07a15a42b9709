/**
 * A horizontal bar chart as inline SVG (no script, no external resource) for the report's
 * stage and scriptlet timings: one labelled bar per item, scaled to the largest. Labels are
 * escaped (a scriptlet's package name comes from a repo).
 */
import { escapeHtml } from '../util/escape.js';

export interface Bar {
  label: string;
  ms: number;
  /** Drawn in the failure colour. */
  bad?: boolean;
}

const ROW = 22;
const WIDTH = 640;
const LABEL = 230;
const VALUE = 70;

export function barChart(title: string, bars: readonly Bar[]): string {
  if (bars.length === 0) return '';
  const max = Math.max(1, ...bars.map((b) => b.ms));
  const span = WIDTH - LABEL - VALUE;
  const height = bars.length * ROW + 4;
  const rows = bars.map((b, i) => {
    const y = i * ROW + 2;
    const w = Math.max(1, Math.round((b.ms / max) * span));
    const label = b.label.length > 34 ? `${b.label.slice(0, 33)}…` : b.label;
    return `<g><title>${escapeHtml(`${b.label}: ${fmtMs(b.ms)}`)}</title>`
      + `<text x="${LABEL - 6}" y="${y + 15}" text-anchor="end">${escapeHtml(label)}</text>`
      + `<rect x="${LABEL}" y="${y + 3}" width="${w}" height="${ROW - 6}" rx="2" class="${b.bad ? 'bar bad' : 'bar'}"/>`
      + `<text x="${LABEL + w + 4}" y="${y + 15}">${fmtMs(b.ms)}</text></g>`;
  });
  return `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${WIDTH} ${height}" preserveAspectRatio="xMinYMin meet">${rows.join('')}</svg>`;
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}
