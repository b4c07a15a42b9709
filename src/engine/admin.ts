/**
 * The commands that change a sysroot without composing: rollback (boot entries only),
 * boot-pending (the stand-in for a reboot), cleanup, pin and config set. Each takes the sysroot
 * lock for its duration, waiting for it in the writers' queue (--lock-timeout). This module
 * imports only the sysroot stage, so `layer rollback` starts fast (the CLI imports it directly
 * instead of the engine index, which loads repos and compose).
 */
import { join } from 'node:path';
import { setConfig, Sysroot, type Deployment, type LockWaitOptions, type SysrootConfig } from '../sysroot/index.js';
import { cleanStaleScratch } from '../compose/scratch.js';
import { now } from '../util/clock.js';

/** Writers wait their turn: rollback swaps only boot entries, but never under a running transaction. */
export async function rollback(path: string, command: string, wait: LockWaitOptions = {}): Promise<{ deployment: Deployment; ms: number }> {
  const t0 = now();
  const deployment = await lockedWait(path, command, wait, (s) => s.rollback());
  return { deployment, ms: now() - t0 };
}

export async function bootPending(path: string, command: string, wait: LockWaitOptions = {}): Promise<Deployment> {
  return lockedWait(path, command, wait, (s) => s.markBooted());
}

async function lockedWait<T>(path: string, command: string, wait: LockWaitOptions, fn: (s: Sysroot) => T): Promise<T> {
  const s = Sysroot.open(path);
  await s.lockWait(command, wait);
  try {
    return fn(s);
  } finally {
    s.release();
  }
}

/** `pending` / `rollback`: also drop the unpinned pending / rollback deployments (rpm-ostree's `cleanup -p` / `-r`). */
export async function cleanup(path: string, command: string, opts: { pending?: boolean; rollback?: boolean; wait?: LockWaitOptions } = {}): Promise<ReturnType<Sysroot['cleanup']> & { removedScratch: string[] }> {
  return lockedWait(path, command, opts.wait ?? {}, (s) => {
    const removedScratch = cleanStaleScratch(join(s.stateDir, 'cache'));
    return { ...s.cleanup({ pending: !!opts.pending, rollback: !!opts.rollback }), removedScratch };
  });
}

/** Pin (or unpin) the deployment `spec` names (default: the booted one, as `ostree admin pin`'s callers mostly mean). */
export async function pin(path: string, command: string, spec: string | undefined, pinned: boolean, wait: LockWaitOptions = {}): Promise<{ deployment: Deployment; changed: boolean }> {
  return lockedWait(path, command, wait, (s) => {
    const d = spec === undefined ? s.status().booted ?? s.find('0') : s.find(spec);
    if (d.pinned === pinned) return { deployment: d, changed: false };
    return { deployment: s.setPinned(d, pinned), changed: true };
  });
}

/** Set one sysroot setting (config.ts); returns the settings now in force. */
export async function configSet(path: string, command: string, key: string, value: string, wait: LockWaitOptions = {}): Promise<SysrootConfig> {
  return lockedWait(path, command, wait, (s) => setConfig(s.stateDir, key, value));
}
