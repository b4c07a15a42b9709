/**
 * Scratch directories of compositions, and the one rule for removing them.
 *
 * Every composition (a dry run as much as a real install) works in its own directory
 * `<cacheDir>/compose-<pid>-<starttime>-XXXXXX`: the owner's pid and its start time (field 22
 * of /proc/<pid>/stat, clock ticks since boot), so a pid the kernel reused for another process
 * does not keep a dead owner's directory alive. Cleanup removes a directory only when its owner
 * is gone — never by age, never because a lock is held — so nothing one process does can touch
 * another process's work (the bug where a dry run deleted a running install's tree).
 *
 * A scriptlet overlay still mounted under a dead owner's directory is unmounted (lazily: a
 * process of the dead run may still hold it for a moment) before the directory is removed.
 * On SIGINT/SIGTERM the CLI calls `releaseAllScratch()` so an interrupted run leaves nothing.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { LayerError } from '../errors.js';

const PREFIX = 'compose-';

/** This process's start time in clock ticks since boot, or undefined without /proc. */
export function startTimeOf(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after it.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return rest[19];
}

/** This process's start time, read on first use (the CLI imports this module for every command). */
let ownStart: string | undefined;
const live = new Set<string>();

export interface Scratch {
  readonly path: string;
  /**
   * Remove the directory (unmounting anything left mounted in it). Idempotent. `inChild`: it
   * holds a whole checked-out tree, removed by `rm -rf` in a child process (see below).
   */
  release(opts?: { inChild?: boolean }): Promise<void>;
  /** Start removing it and return at once; `scratchRemoved()` waits for every such removal. */
  releaseLater(opts?: { inChild?: boolean }): void;
}

/** Removals started by releaseLater, not yet awaited, and the errors of those that failed. */
const removing = new Set<Promise<void>>();
const failedRemovals: unknown[] = [];

/**
 * Wait until every scratch directory handed to releaseLater is gone; rejects as `release`
 * would have (a mount left that cannot be unmounted), once all of them have ended.
 */
export async function scratchRemoved(): Promise<void> {
  while (removing.size > 0) await Promise.all([...removing]);
  const failures = failedRemovals.splice(0);
  if (failures.length > 0) throw failures[0];
}

/** A new scratch directory owned by this process. */
export async function createScratch(cacheDir: string): Promise<Scratch> {
  await mkdir(cacheDir, { recursive: true });
  ownStart ??= startTimeOf(process.pid) ?? '0';
  const path = await mkdtemp(join(cacheDir, `${PREFIX}${process.pid}-${ownStart}-`));
  live.add(path);
  const release = async (opts: { inChild?: boolean } = {}): Promise<void> => {
    if (!live.delete(path)) return;
    unmountUnder(path);
    // A whole checked-out tree goes with coreutils rm in a child process: the demo base (600
    // entries) took 13 ms that way against 20 ms through fs.rm, and a removal started by
    // releaseLater then runs on the other core instead of holding libuv's pool, which the next
    // stage's reads wait on. Anything smaller is not worth starting a process (~4 ms of this
    // thread: fork copies the page tables of Node's whole heap).
    if (opts.inChild) await removeTree(path).catch(() => {});
    await rm(path, { recursive: true, force: true }).catch(() => {});
  };
  return {
    path,
    release,
    releaseLater(opts) {
      const p: Promise<void> = release(opts)
        .catch((err: unknown) => void failedRemovals.push(err))
        .finally(() => removing.delete(p));
      removing.add(p);
    },
  };
}

/** `rm -rf --one-file-system DIR` (a mount left inside is never crossed); rejects when rm fails. */
function removeTree(dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('rm', ['-rf', '--one-file-system', '--', dir], (err) => (err ? reject(err) : resolve()));
  });
}

/** Owner of a scratch directory name; undefined for names this module did not make. */
function ownerOf(name: string): { pid: number; start: string } | undefined {
  const m = /^compose-(\d+)-(\d+)-[^-]+$/.exec(name);
  return m?.[1] && m[2] ? { pid: Number(m[1]), start: m[2] } : undefined;
}

function ownerAlive(o: { pid: number; start: string }): boolean {
  const now = startTimeOf(o.pid);
  return now !== undefined && now === o.start;
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mounts; octal escapes decoded). */
export function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  const root = resolve(dir);
  return text
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m): m is string => m !== undefined && (m === root || m.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length);
}

function unmountUnder(dir: string): void {
  for (const m of mountsUnder(dir)) {
    try {
      execFileSync('umount', ['-l', m], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new LayerError('LAYER_SYSROOT', `cannot unmount ${m} left by a killed transaction`, { cause: err, hint: `umount -l ${m}` });
    }
  }
}

/**
 * Remove the scratch directories of processes that no longer exist; returns their paths.
 * Safe to call at any time from any process, with or without the sysroot lock: a live
 * owner's directory is never touched. Names of an older layer (`compose-XXXXXX`, no owner)
 * are removed when nothing is mounted in them and they are an hour old.
 */
export function cleanStaleScratch(cacheDir: string, now = Date.now()): string[] {
  if (!existsSync(cacheDir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(cacheDir).filter((n) => n.startsWith(PREFIX))) {
    const dir = join(cacheDir, name);
    const owner = ownerOf(name);
    if (owner ? ownerAlive(owner) : !legacyStale(dir, now)) continue;
    unmountUnder(dir);
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}

function legacyStale(dir: string, now: number): boolean {
  if (mountsUnder(dir).length > 0) return false;
  const st = statSync(dir, { throwIfNoEntry: false });
  return st !== undefined && now - st.mtimeMs > 3600_000;
}

/** Synchronously remove every scratch directory this process owns (signal handlers). */
export function releaseAllScratch(): void {
  for (const path of [...live]) {
    live.delete(path);
    try {
      unmountUnder(path);
      rmSync(path, { recursive: true, force: true });
    } catch {
      // Exiting on a signal: the next run's cleanStaleScratch finishes the job.
    }
  }
}
