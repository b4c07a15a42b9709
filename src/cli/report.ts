/**
 * The terminal side of the engine's Report: progress bars on a TTY (stderr, redrawn in place),
 * plain "stage: N ms" lines otherwise, nothing at all with --json (the result is the output).
 */
import type { Progress, Report } from '../report.js';

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

export class CliReport implements Report {
  readonly timings: Record<string, number> = {};
  constructor(private readonly mode: ReportMode) {}

  async section<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      const ms = Math.round(performance.now() - t0);
      this.timings[name] = ms;
      if (this.mode !== 'quiet') process.stderr.write(`${this.mode === 'tty' ? '\r\x1b[K' : ''}${name}: ${ms} ms\n`);
    }
  }

  info(message: string): void {
    if (this.mode !== 'quiet') process.stderr.write(`${message}\n`);
  }

  warn(message: string): void {
    // Warnings matter even with --json: they go to stderr, never stdout.
    process.stderr.write(`warning: ${message}\n`);
  }

  progress(label: string, total?: number, unit: 'bytes' | 'items' = 'items'): Progress {
    if (this.mode !== 'tty') return { tick() {}, done() {} };
    let done = 0;
    let last = 0;
    const draw = (final: boolean): void => {
      const now = performance.now();
      if (!final && now - last < 80) return;
      last = now;
      const width = 30;
      const bar = total ? '#'.repeat(Math.min(width, Math.round((done / total) * width))).padEnd(width, '.') : '';
      const count = total ? `${human(done, unit)}/${human(total, unit)}` : human(done, unit);
      process.stderr.write(`\r\x1b[K${label} ${bar ? `[${bar}] ` : ''}${count}${final ? '\n' : ''}`);
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
