/**
 * The terminal side of the engine's events: progress bars on a TTY (stderr, redrawn in place),
 * plain "stage: N ms" lines otherwise, nothing but warnings with --json (the result is the
 * output). With `--events FILE` (or LAYER_EVENTS=FILE) every event is also appended to FILE as
 * one JSON line, for CI jobs that follow a transaction as it runs.
 */
import { appendFileSync, openSync, closeSync } from 'node:fs';
import { EventReport, type LayerEvent, type Progress } from '../report.js';
import { escapeControl } from '../util/escape.js';
import { now } from '../util/clock.js';

export type ReportMode = 'tty' | 'plain' | 'quiet';

export function reportMode(json: boolean): ReportMode {
  if (json) return 'quiet';
  return process.stderr.isTTY ? 'tty' : 'plain';
}

function human(n: number, unit: 'bytes' | 'items'): string {
  if (unit === 'items') return String(n);
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / (1 << 20)).toFixed(1)} MB`;
}

/** The terminal rendering of one event (stderr). */
function terminalSink(mode: ReportMode): (e: LayerEvent) => void {
  return (e) => {
    if (e.level === 'warn') {
      // Warnings matter even with --json: they go to stderr, never stdout.
      process.stderr.write(`warning: ${escapeControl(e.message ?? '', { keepNewlines: true })}\n`);
      return;
    }
    if (mode === 'quiet') return;
    if (e.level === 'info') process.stderr.write(`${escapeControl(e.message ?? '', { keepNewlines: true })}\n`);
    else if (e.code === 'stage.end') process.stderr.write(`${mode === 'tty' ? '\r\x1b[K' : ''}${String(e.data?.stage)}: ${String(e.data?.ms)} ms\n`);
  };
}

/** Appends each event as a JSON line to `file` (created or truncated when the report starts). */
function jsonLinesSink(file: string): (e: LayerEvent) => void {
  closeSync(openSync(file, 'w'));
  return (e) => appendFileSync(file, JSON.stringify(e) + '\n');
}

export class CliReport extends EventReport {
  constructor(private readonly mode: ReportMode, eventsFile?: string) {
    super(terminalSink(mode), ...(eventsFile ? [jsonLinesSink(eventsFile)] : []));
  }

  /** Emit a final event (the command's result) to every sink. */
  result(data: Record<string, unknown>): void {
    this.record('result', data);
  }

  override progress(label: string, total?: number, unit: 'bytes' | 'items' = 'items'): Progress {
    if (this.mode !== 'tty') return { tick() {}, done() {} };
    let done = 0;
    let last = 0;
    const draw = (final: boolean): void => {
      const t = now();
      if (!final && t - last < 80) return;
      last = t;
      const width = 30;
      const bar = total ? '#'.repeat(Math.min(width, Math.round((done / total) * width))).padEnd(width, '.') : '';
      const count = total ? `${human(done, unit)}/${human(total, unit)}` : human(done, unit);
      process.stderr.write(`\r\x1b[K${escapeControl(label)} ${bar ? `[${bar}] ` : ''}${count}${final ? '\n' : ''}`);
    };
    return {
      tick(n: number) {
        done += n;
        draw(false);
      },
      done() {
        draw(true);
      },
    };
  }
}
