/**
 * The engine never writes to stdout: it reports through a Report. The CLI renders it
 * (progress bars on a TTY, plain lines otherwise, nothing with --json); tests pass
 * `silentReport`.
 */
export interface Progress {
  /** Advance by `n` units (bytes, files, packages). */
  tick(n: number): void;
  done(): void;
}

export interface Report {
  /** A named, timed stage ("solve", "fetch", "import", ...). Ends when `fn` settles. */
  section<T>(name: string, fn: () => Promise<T>): Promise<T>;
  info(message: string): void;
  warn(message: string): void;
  /** Scoped progress; `total` in the same unit as `tick`, undefined when unknown. */
  progress(label: string, total?: number, unit?: 'bytes' | 'items'): Progress;
}

const noProgress: Progress = { tick() {}, done() {} };

export const silentReport: Report = {
  section: (_name, fn) => fn(),
  info() {},
  warn() {},
  progress: () => noProgress,
};

/** Collects messages and section timings: handy in tests and for `--json` output. */
export class RecordingReport implements Report {
  readonly messages: { level: 'info' | 'warn'; message: string }[] = [];
  readonly timings: { name: string; ms: number }[] = [];

  async section<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.timings.push({ name, ms: performance.now() - t0 });
    }
  }
  info(message: string): void {
    this.messages.push({ level: 'info', message });
  }
  warn(message: string): void {
    this.messages.push({ level: 'warn', message });
  }
  progress(): Progress {
    return noProgress;
  }
}
