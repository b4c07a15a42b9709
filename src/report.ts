/**
 * The engine never writes to stdout: it reports through a Report, as coded events. Every call
 * carries a stable code (`repo.skipped`, `scriptlet.output`, ...) and structured data, so the
 * terminal view, the `--json` result and the `--events` JSON-lines stream are three renderings
 * of one event sequence. Tests pass `silentReport` or a `RecordingReport`.
 */
import { now } from './util/clock.js';
export interface Progress {
  /** Advance by `n` units (bytes, files, packages). */
  tick(n: number): void;
  done(): void;
}

/** Event data: plain JSON values only (they are written as JSON lines). */
export type EventData = Record<string, unknown>;

export interface LayerEvent {
  /** Stable dotted code, e.g. `stage.end`, `repo.skipped`, `scriptlet.ran`. */
  code: string;
  level: 'info' | 'warn' | 'data';
  /** The line a person reads; absent for data-only events. */
  message?: string;
  data?: EventData;
  /** Milliseconds since the report was created. */
  t: number;
}

export interface Report {
  /** A named, timed stage ("solve", "download", "import", ...). Ends when `fn` settles. */
  section<T>(name: string, fn: () => Promise<T>): Promise<T>;
  info(code: string, message: string, data?: EventData): void;
  warn(code: string, message: string, data?: EventData): void;
  /** A structured fact with no line of its own on a terminal (a scriptlet's timing and output). */
  record(code: string, data: EventData): void;
  /** Scoped progress; `total` in the same unit as `tick`, undefined when unknown. */
  progress(label: string, total?: number, unit?: 'bytes' | 'items'): Progress;
}

const noProgress: Progress = { tick() {}, done() {} };

export const silentReport: Report = {
  section: (_name, fn) => fn(),
  info() {},
  warn() {},
  record() {},
  progress: () => noProgress,
};

/**
 * A Report that turns every call into a LayerEvent and hands it to its sinks; stage timings,
 * warnings and data events are also collected for the final result. The CLI's report and the
 * recording report of tests are both this with different sinks.
 */
export class EventReport implements Report {
  readonly events: LayerEvent[] = [];
  private readonly t0 = now();
  private readonly sinks: ((e: LayerEvent) => void)[];

  constructor(...sinks: ((e: LayerEvent) => void)[]) {
    this.sinks = sinks;
  }

  protected emit(e: Omit<LayerEvent, 't'>): void {
    const event: LayerEvent = { ...e, t: Math.round(now() - this.t0) };
    this.events.push(event);
    for (const s of this.sinks) s(event);
  }

  async section<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.emit({ code: 'stage.start', level: 'data', data: { stage: name } });
    const t0 = now();
    let ok = false;
    try {
      const r = await fn();
      ok = true;
      return r;
    } finally {
      const ms = Math.round(now() - t0);
      this.emit({ code: 'stage.end', level: 'data', data: { stage: name, ms, ok } });
    }
  }

  info(code: string, message: string, data?: EventData): void {
    this.emit({ code, level: 'info', message, ...(data ? { data } : {}) });
  }

  warn(code: string, message: string, data?: EventData): void {
    this.emit({ code, level: 'warn', message, ...(data ? { data } : {}) });
  }

  record(code: string, data: EventData): void {
    this.emit({ code, level: 'data', data });
  }

  progress(_label: string, _total?: number, _unit?: 'bytes' | 'items'): Progress {
    return noProgress;
  }

  /** Milliseconds per stage (a stage run twice counts twice). */
  get timings(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const e of this.events) {
      if (e.code !== 'stage.end') continue;
      const stage = String(e.data?.stage);
      out[stage] = (out[stage] ?? 0) + Number(e.data?.ms ?? 0);
    }
    return out;
  }

  /** Warnings as records, for results. */
  get warnings(): { code: string; message: string; data?: EventData }[] {
    return this.events.filter((e) => e.level === 'warn').map((e) => ({ code: e.code, message: e.message ?? '', ...(e.data ? { data: e.data } : {}) }));
  }

  /** Data events of one code (e.g. every `scriptlet.ran`). */
  records(code: string): EventData[] {
    return this.events.filter((e) => e.code === code).map((e) => e.data ?? {});
  }
}

/** Collects messages and section timings: handy in tests. */
export class RecordingReport extends EventReport {
  /** Info and warning lines as a person would read them (codes in `events`). */
  get messages(): { level: 'info' | 'warn'; message: string }[] {
    return this.events.filter((e) => e.level !== 'data').map((e) => ({ level: e.level as 'info' | 'warn', message: e.message ?? '' }));
  }
}

/**
 * Wraps a Report and keeps what a result needs (stage timings, data records, warnings) while
 * forwarding every call: the engine uses it so its result carries the same facts the caller's
 * report showed, whatever kind of report the caller gave.
 */
export class CollectingReport implements Report {
  readonly timings: Record<string, number> = {};
  readonly warnings: { code: string; message: string; data?: EventData }[] = [];
  private readonly data: { code: string; data: EventData }[] = [];

  constructor(private readonly inner: Report) {}

  async section<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const t0 = now();
    try {
      return await this.inner.section(name, fn);
    } finally {
      this.timings[name] = (this.timings[name] ?? 0) + Math.round(now() - t0);
    }
  }
  info(code: string, message: string, data?: EventData): void {
    this.inner.info(code, message, data);
  }
  warn(code: string, message: string, data?: EventData): void {
    this.warnings.push({ code, message, ...(data ? { data } : {}) });
    this.inner.warn(code, message, data);
  }
  record(code: string, data: EventData): void {
    this.data.push({ code, data });
    this.inner.record(code, data);
  }
  progress(label: string, total?: number, unit?: 'bytes' | 'items'): Progress {
    return this.inner.progress(label, total, unit);
  }
  records(code: string): EventData[] {
    return this.data.filter((d) => d.code === code).map((d) => d.data);
  }
}
