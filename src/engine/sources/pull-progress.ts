/**
 * Progress of a pull from a remote OSTree repo, as coded events: `pull.progress` (objects
 * fetched, objects the store already had, objects known to be needed so far, bytes), at most
 * every PROGRESS_MS and once at the end with `done: true`; `pull.delta` when a static delta is
 * used (its part count and bytes) and `pull.delta.part` per part applied or skipped. On a
 * terminal the same counts drive progress bars (Report.progress). The total of an object pull
 * grows as dirtrees arrive (as `ostree pull`'s "Receiving objects" does), so `known` is what
 * is known so far, exact once `done`.
 */
import type { Progress, Report } from '../../report.js';
import { now } from '../../util/clock.js';

/** Least ms between two `pull.progress` events (the last one always comes). */
export const PROGRESS_MS = 250;

export class PullProgress {
  fetched = 0;
  present = 0;
  known = 0;
  bytes = 0;
  private last = 0;
  private bar: Progress | undefined;

  constructor(private readonly report: Report, private readonly url: string) {}

  /** `n` more objects are needed (a dirtree's entries, a commit's root). */
  need(n: number): void {
    this.known += n;
  }

  have(): void {
    this.present++;
    this.emit(false);
  }

  got(bytes: number): void {
    this.fetched++;
    this.bytes += bytes;
    this.bar ??= this.report.progress(`receiving objects from ${this.url}`, undefined, 'items');
    this.bar.tick(1);
    this.emit(false);
  }

  delta(d: { from?: string; to: string; parts: number; bytes: number }): Progress {
    this.report.record('pull.delta', { url: this.url, from: d.from ?? null, to: d.to, parts: d.parts, bytes: d.bytes });
    return this.report.progress('applying delta parts', d.parts, 'items');
  }

  deltaPart(p: { part: number; parts: number; bytes: number; objects: number; skipped: boolean }): void {
    this.report.record('pull.delta.part', p);
  }

  done(): void {
    this.bar?.done();
    this.emit(true);
  }

  private emit(final: boolean): void {
    const t = now();
    if (!final && t - this.last < PROGRESS_MS) return;
    this.last = t;
    this.report.record('pull.progress', {
      url: this.url, fetched: this.fetched, present: this.present, known: this.known, bytes: this.bytes, ...(final ? { done: true } : {}),
    });
  }
}
