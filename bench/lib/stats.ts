/**
 * Shared benchmark helpers: timing, medians, and the one table + JSON format every
 * `bench/*.bench.ts` reports in. Benches print to stdout (they are tools, not the engine) and
 * write machine-readable results to bench/out/<name>.json.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_OUT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'out');

/** Median of a non-empty list (mean of the middle two for even lengths). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error('median of an empty list');
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One measurement: wall clock and CPU time (user + system), both in milliseconds. */
export interface Timing {
  wallMs: number;
  cpuMs: number;
}

/**
 * Wall and CPU time of `fn` in this process. CPU time is the steadier figure on a machine
 * shared with other work: waiting for a core counts in wall time but not in CPU time.
 */
export function timeIt(fn: () => void): Timing {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fn();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wallMs, cpuMs: (c.user + c.system) / 1000 };
}

/** Runs `fn` `runs` times after `warmup` discarded runs; every sample's wall and CPU time. */
export function sampleTimings(runs: number, fn: () => Timing | void, warmup = 1): Timing[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: Timing[] = [];
  for (let i = 0; i < runs; i++) {
    let inner: Timing | void = undefined;
    const outer = timeIt(() => { inner = fn(); });
    out.push(inner ?? outer);
  }
  return out;
}

/** Medians of a list of timings, field by field. */
export function medianTiming(ts: readonly Timing[]): Timing {
  return { wallMs: median(ts.map((t) => t.wallMs)), cpuMs: median(ts.map((t) => t.cpuMs)) };
}

/** Milliseconds taken by `fn` (high-resolution wall clock). */
export function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function timeMsAsync(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

/** Runs `fn` `runs` times (after `warmup` discarded runs) and returns every sample. */
export function sample(runs: number, fn: () => void, warmup = 1): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) out.push(timeMs(fn));
  return out;
}

/** wasm/native style ratio, or NaN when the denominator is not a positive time. */
export function ratio(a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN;
}

export type Cell = string | number;

function fmt(c: Cell): string {
  if (typeof c === 'string') return c;
  if (!Number.isFinite(c)) return '-';
  return Math.abs(c) >= 100 ? c.toFixed(0) : Math.abs(c) >= 10 ? c.toFixed(1) : c.toFixed(2);
}

/** A plain-text table with right-aligned numbers, for the terminal. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(fmt))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[], isHeader: boolean): string =>
    r.map((c, i) => (i === 0 || isHeader ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers, true), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map((r) => line(r, false))].join('\n');
}

/** Writes `bench/out/<name>.json` (temp file + rename) and returns its path. */
export function writeResult(name: string, data: unknown): string {
  const path = join(BENCH_OUT, `${name}.json`);
  mkdirSync(BENCH_OUT, { recursive: true });
  const tmp = `${path}.tmp${process.pid}`;
  writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
  renameSync(tmp, path);
  return path;
}
