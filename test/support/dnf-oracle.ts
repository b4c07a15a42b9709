/**
 * Debian's dnf 4.14 as the oracle for package requests: `dnf install` into a fresh, empty
 * `--installroot` from a given repos dir, and the set of packages it installed as real rpm reads
 * them. Tests compare that set with what layer layers from the same repos.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool } from './tools.js';

export interface DnfResult {
  /** NEVRAs in the installroot after the run, sorted (empty when dnf refused). */
  nevras: string[];
  /** dnf's stdout and stderr together, to match its messages. */
  out: string;
  /** dnf's exit status. */
  status: number;
  root: string;
}

/**
 * dnf 4.14 installing `specs` into `root` (a new directory in a temp dir the caller removes), with
 * extra `--setopt`s (e.g. `installonly_limit=4`) and `config` as its dnf.conf (-c); its cache goes beside `root`.
 */
export function dnfInstall(reposdir: string, specs: string[], setopts: string[], root: string, config?: string): DnfResult {
  requireTool('dnf');
  requireTool('rpm');
  mkdirSync(root, { recursive: true });
  const r = spawnSync('dnf', [...(config ? ['-c', config] : []), '--installroot', root, `--setopt=reposdir=${reposdir}`, `--setopt=cachedir=${join(root, '..', 'cache')}`,
    '--releasever=12', '--nogpgcheck', '-y', ...setopts.map((o) => `--setopt=${o}`), 'install', ...specs], { encoding: 'utf8' });
  return { nevras: installedNevras(root), out: `${r.stdout}${r.stderr}`, status: r.status ?? -1, root };
}

/** The NEVRAs rpm lists in `root`; Debian's rpm keeps dnf's installroot database at its default dbpath. */
export function installedNevras(root: string): string[] {
  const r = spawnSync('rpm', ['--root', root, '-qa', '--qf', '%{NEVRA}\\n'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean).sort();
}
