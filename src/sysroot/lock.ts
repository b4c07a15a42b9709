/**
 * One transaction at a time per sysroot.
 *
 * Locking: `ostree/layer/lock` holds the holder's pid, its start time (from /proc, so a reused
 * pid is not mistaken for the holder) and its command line. It is created by writing a temp
 * file and `link()`ing it into place, which fails atomically when a lock already exists. A lock
 * whose process is gone is stale: it is renamed aside and the acquisition retried. The takeover
 * has a narrow race (two processes finding the same stale lock at the same instant); the rename
 * makes only one of them win the file, and the loser sees the winner's live lock on retry.
 * A second `layer` fails at once with LAYER_LOCKED naming the holder.
 */
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';

export interface LockHolder {
  pid: number;
  /** Process start time in clock ticks since boot (field 22 of /proc/PID/stat), '' when unknown. */
  start: string;
  command: string;
  since: string;
}

function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after its closing paren.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

function alive(h: LockHolder): boolean {
  const start = processStart(h.pid);
  if (start === undefined) return false;
  return h.start === '' || h.start === start;
}

export class SysrootLock {
  private constructor(readonly path: string, private readonly holder: LockHolder) {}

  /** Take the lock in `stateDir`, or fail with LAYER_LOCKED naming the running transaction. */
  static acquire(stateDir: string, command: string): SysrootLock {
    const path = join(stateDir, 'lock');
    const me: LockHolder = { pid: process.pid, start: processStart(process.pid) ?? '', command, since: new Date().toISOString() };
    const tmp = join(stateDir, `.lock.${process.pid}.${Math.random().toString(36).slice(2)}`);
    writeFileSync(tmp, JSON.stringify(me) + '\n');
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          linkSync(tmp, path);
          return new SysrootLock(path, me);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new LayerError('LAYER_SYSROOT', `cannot create lock ${path}`, { cause: err });
        }
        const holder = SysrootLock.read(path);
        if (holder && alive(holder)) {
          throw new LayerError('LAYER_LOCKED', `sysroot is locked by pid ${holder.pid} (${holder.command}, since ${holder.since})`, {
            hint: 'wait for that transaction to finish and retry',
          });
        }
        // Stale (holder dead, or a torn lock file): move it aside and retry.
        const aside = join(stateDir, `.stale-lock.${process.pid}.${attempt}`);
        try {
          renameSync(path, aside);
          rmSync(aside, { force: true });
        } catch {
          /* someone else took it over first; retry sees their lock */
        }
      }
      throw new LayerError('LAYER_LOCKED', `could not take the lock ${path}`, { hint: 'another layer keeps taking it; retry' });
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** The current holder, or undefined when unlocked. A torn file reads as a dead holder. */
  static read(path: string): LockHolder | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const h = JSON.parse(text) as LockHolder;
      if (typeof h.pid === 'number') return h;
    } catch {
      /* torn */
    }
    return { pid: -1, start: '', command: '?', since: '?' };
  }

  /** Release; only removes the file if it is still ours. */
  release(): void {
    const h = SysrootLock.read(this.path);
    if (h && h.pid === this.holder.pid && h.start === this.holder.start) rmSync(this.path, { force: true });
  }
}
