/**
 * The commands that change a sysroot without composing: rollback (boot entries only),
 * boot-pending (the stand-in for a reboot), cleanup, and refresh-md (metadata only).
 * Each takes the sysroot lock for its duration.
 */
import { join } from 'node:path';
import type { Report } from '../report.js';
import { Sysroot, type Deployment } from '../sysroot/index.js';
import { hostArch, openRepos } from './repos.js';

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

export function cleanup(path: string, command: string): ReturnType<Sysroot['cleanup']> {
  return locked(path, command, (s) => s.cleanup());
}

/** Fetch fresh metadata for the current deployment's repos (or `reposdir`). */
export async function refreshMetadata(opts: { sysroot: string; reposdir?: string; cacheOnly?: boolean; report: Report }): Promise<{ id: string; status: string }[]> {
  const s = Sysroot.open(opts.sysroot);
  const d = s.deployments().find((x) => x.booted) ?? s.deployments()[0];
  const repos = await openRepos({
    ...(opts.reposdir ? { reposdir: opts.reposdir } : {}), ...(d ? { tree: d.path } : {}),
    arch: hostArch(), cacheDir: join(s.stateDir, 'cache'), report: opts.report,
  });
  try {
    const out = await repos.refresh({ force: !opts.cacheOnly, cacheOnly: opts.cacheOnly ?? false });
    return out.map((o) => ({ id: o.id, status: o.status }));
  } finally {
    await repos.close();
  }
}
