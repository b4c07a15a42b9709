/**
 * One transaction at a time per sysroot, and a first-come-first-served queue for writers that
 * wait for it.
 *
 * Locking: `ostree/layer/lock` holds the holder's pid, its start time (from /proc, so a reused
 * pid is not mistaken for the holder) and its command line. It is created by writing a temp
 * file and `link()`ing it into place, which fails atomically when a lock already exists. A lock
 * whose process is gone is stale: it is renamed aside and the acquisition retried. The takeover
 * has a narrow race (two processes finding the same stale lock at the same instant); the rename
 * makes only one of them win the file, and the loser sees the winner's live lock on retry.
 *
 * Waiting (`acquireWait`): a waiter first creates a ticket in `ostree/layer/lock-queue/`, named
 * `<monotonic ns>-<pid>-<start>`. CLOCK_MONOTONIC is one clock for the whole machine, so a ticket
 * created after another is visible carries a larger number: sorting the names is arrival order.
 * Only the waiter whose ticket is first among live tickets tries the lock; it removes its ticket
 * once it holds the lock, and the next one in line then waits for that holder. Liveness of a
 * ticket is read from its name (pid + start time), so a waiter killed with SIGKILL leaves a
 * ticket that every other waiter sees as dead and deletes: it blocks no one. Nothing here uses
 * advisory locks (flock), so the same files work for the CLI, the tests and `ostree admin` tools.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LayerError } from '../errors.js';

export interface LockHolder {
  pid: number;
  /** Process start time in clock ticks since boot (field 22 of /proc/PID/stat), '' when unknown. */
  start: string;
  command: string;
  since: string;
}

/** What a waiter is told about the transaction it waits for. */
export interface LockWaitHolder {
  pid: number;
  command: string;
  since: Date;
}

export interface LockWaitOptions {
  /** undefined: wait as long as it takes; 0: fail at once when the lock is taken (LAYER_LOCKED). */
  timeoutSeconds?: number;
  /** Called when the wait starts, and again whenever another transaction becomes the holder. */
  onWait?: (holder: LockWaitHolder) => void;
  /** Aborting stops the wait: the ticket is removed and the signal's reason thrown. */
  signal?: AbortSignal;
  /** Poll interval in ms (the queue has no wake-up channel; 50 ms costs nothing measurable). */
  pollMs?: number;
}

const QUEUE_DIR = 'lock-queue';
/** Sorts after every ticket name (they start with digits): all live tickets are "ahead" of it. */
const LAST_TICKET = '~';

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

function alive(h: { pid: number; start: string }): boolean {
  const start = processStart(h.pid);
  if (start === undefined) return false;
  return h.start === '' || h.start === start;
}

function lockedError(holder: LockHolder, waited?: number): LayerError {
  const after = waited === undefined ? '' : ` after waiting ${waited} s`;
  return new LayerError('LAYER_LOCKED', `sysroot is locked by pid ${holder.pid} (${holder.command}, since ${holder.since})${after}`, {
    hint: waited === undefined ? 'wait for that transaction to finish and retry, or give --lock-timeout SECONDS to wait for it' : 'give a longer --lock-timeout, or none to wait as long as it takes',
  });
}

/**
 * The line a waiting writer shows: who holds the lock and since when. The engine's caller prints
 * it from `onWait`; kept here so the wording lives next to the lock it describes.
 */
export function formatLockWait(holder: LockWaitHolder, now: Date = new Date()): string {
  const secs = Math.max(0, Math.round((now.getTime() - holder.since.getTime()) / 1000));
  const since = Number.isNaN(secs) ? 'an unknown time' : `${holder.since.toISOString()} (${secs} s ago)`;
  return `Waiting for the sysroot lock: held by pid ${holder.pid} (${holder.command}) since ${since}`;
}

interface Ticket {
  name: string;
  pid: number;
  start: string;
}

function parseTicket(name: string): Ticket | undefined {
  const m = /^(\d{20})-(\d+)-(\d*)$/.exec(name);
  return m ? { name, pid: Number(m[2]), start: m[3]! } : undefined;
}

export class SysrootLock {
  private constructor(readonly path: string, private readonly holder: LockHolder) {}

  /**
   * Take the lock in `stateDir` now, or fail with LAYER_LOCKED naming the running transaction.
   * A live queued waiter counts as the lock taken: it arrived first (see `acquireWait`).
   */
  static acquire(stateDir: string, command: string): SysrootLock {
    const queue = join(stateDir, QUEUE_DIR);
    // '~' sorts after every ticket name: all live waiters are ahead of a caller that will not queue.
    const ahead = existsSync(queue) ? SysrootLock.liveTicketsAhead(queue, '~') : [];
    const r = ahead.length > 0 ? SysrootLock.queuedHolder(stateDir, queue, ahead[0]!) : SysrootLock.tryAcquire(stateDir, command);
    if (r instanceof SysrootLock) return r;
    throw lockedError(r);
  }

  /**
   * Take the lock in `stateDir` as a queued writer: in arrival order after any writers already
   * waiting, for at most `timeoutSeconds` (see the module comment for the queue). With timeout 0
   * this is `acquire` that also respects the queue: a live waiter ahead counts as the lock taken.
   */
  static async acquireWait(stateDir: string, command: string, opts: LockWaitOptions = {}): Promise<SysrootLock> {
    const queue = join(stateDir, QUEUE_DIR);
    mkdirSync(queue, { recursive: true });
    // Nobody waiting: no ticket to write and delete (two inode operations per command, 0.3-1 ms
    // each on the bench disk). A waiter that queues meanwhile arrived after this check; whoever
    // links the lock first holds it, and the other waits as usual.
    if (SysrootLock.liveTicketsAhead(queue, LAST_TICKET).length === 0) {
      const r = SysrootLock.tryAcquire(stateDir, command);
      if (r instanceof SysrootLock) return r;
    }
    const start = processStart(process.pid) ?? '';
    const mine = `${process.hrtime.bigint().toString().padStart(20, '0')}-${process.pid}-${start}`;
    // The name is the ticket; the content only helps a human looking at the directory.
    writeFileSync(join(queue, mine), `${command}\n`, { flag: 'wx' });
    // process.exit() (the CLI's SIGINT handler) skips `finally`: take the ticket out on the way too.
    const removeTicket = (): void => rmSync(join(queue, mine), { force: true });
    process.once('exit', removeTicket);
    const deadline = opts.timeoutSeconds === undefined ? Infinity : Date.now() + opts.timeoutSeconds * 1000;
    let announced: string | undefined;
    try {
      for (;;) {
        opts.signal?.throwIfAborted();
        const ahead = SysrootLock.liveTicketsAhead(queue, mine);
        let holder: LockHolder | undefined;
        if (ahead.length === 0) {
          const r = SysrootLock.tryAcquire(stateDir, command);
          if (r instanceof SysrootLock) return r;
          holder = r;
        } else {
          holder = SysrootLock.queuedHolder(stateDir, queue, ahead[0]!);
        }
        if (Date.now() >= deadline) {
          throw lockedError(holder, opts.timeoutSeconds === 0 ? undefined : opts.timeoutSeconds);
        }
        const key = `${holder.pid}/${holder.since}`;
        if (key !== announced) {
          announced = key;
          opts.onWait?.({ pid: holder.pid, command: holder.command, since: new Date(holder.since) });
        }
        const pause = Math.min(opts.pollMs ?? 50, Math.max(1, deadline - Date.now()));
        await sleep(pause, undefined, opts.signal ? { signal: opts.signal } : {});
      }
    } finally {
      process.removeListener('exit', removeTicket);
      removeTicket();
    }
  }

  /** Live tickets sorted before `mine`; dead tickets anywhere in the queue are deleted on the way. */
  private static liveTicketsAhead(queue: string, mine: string): Ticket[] {
    const ahead: Ticket[] = [];
    for (const name of readdirSync(queue).sort()) {
      if (name === mine) continue;
      const t = parseTicket(name);
      if (!t || !alive(t)) {
        // A killed waiter (or a stray file): remove it so it blocks no one.
        rmSync(join(queue, name), { force: true });
        continue;
      }
      if (name < mine) ahead.push(t);
    }
    return ahead;
  }

  /** Someone arrived first: name the running transaction if there is one, else the first waiter. */
  private static queuedHolder(stateDir: string, queue: string, first: Ticket): LockHolder {
    const running = SysrootLock.readLive(join(stateDir, 'lock'));
    if (running) return running;
    let command = 'layer (waiting)';
    try {
      command = readFileSync(join(queue, first.name), 'utf8').trim() || command;
    } catch {
      /* it just left the queue */
    }
    return { pid: first.pid, start: first.start, command: `${command}, queued`, since: '?' };
  }

  /** The lock if it is free (taking over a stale one), else the live holder. */
  private static tryAcquire(stateDir: string, command: string): SysrootLock | LockHolder {
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
        if (holder && alive(holder)) return holder;
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

  private static readLive(path: string): LockHolder | undefined {
    const h = SysrootLock.read(path);
    return h && alive(h) ? h : undefined;
  }

  /** Release; only removes the file if it is still ours. */
  release(): void {
    const h = SysrootLock.read(this.path);
    if (h && h.pid === this.holder.pid && h.start === this.holder.start) rmSync(this.path, { force: true });
  }
}
