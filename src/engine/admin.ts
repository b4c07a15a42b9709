/**
 * The commands that change a sysroot without composing: rollback (boot entries only),
 * boot-pending (the stand-in for a reboot) and cleanup. Each takes the sysroot lock for its
 * duration. This module imports only the sysroot stage, so `layer rollback` starts fast
 * (the CLI imports it directly instead of the engine index, which loads repos and compose).
 */
import { join } from 'node:path';
import { Sysroot, type Deployment } from '../sysroot/index.js';
import { cleanComposeLeftovers } from './leftovers.js';

function locked<T>(path: string, command: string, fn: (s: Sysroot) => T): T {
  const s = Sysroot.open(path);
  s.lock(command);
  try {
    return fn(s);
  } finally {
    s.release();
  }
}

export function rollback(path: string, command: string): { deployment: Deployment; ms: number } {
  const t0 = performance.now();
  const deployment = locked(path, command, (s) => s.rollback());
  return { deployment, ms: performance.now() - t0 };
}

export function bootPending(path: string, command: string): Deployment {
  return locked(path, command, (s) => s.markBooted());
}

export function cleanup(path: string, command: string): ReturnType<Sysroot['cleanup']> & { removedScratch: string[] } {
  return locked(path, command, (s) => {
    const removedScratch = cleanComposeLeftovers(join(s.stateDir, 'cache'));
    return { ...s.cleanup(), removedScratch };
  });
}
