/**
 * Fixture rpm-md repositories built by the real `createrepo_c` during the test run.
 * Missing tool or data fails loudly with the fix, never skips.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** `../shared/data` relative to the project root. */
export const SHARED_DATA = resolve(import.meta.dirname, '../../../shared/data');

export function requireTool(cmd: string, pkg: string): void {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
  } catch {
    throw new Error(`${cmd} is not installed: run 'apt-get install -y ${pkg}' (or 'bash scripts/setup.sh' as root)`);
  }
}

export function requirePath(path: string): string {
  if (!existsSync(path)) throw new Error(`missing test data: ${path} (the read-only ../shared checkout must be next to the project)`);
  return path;
}

/** The real RPMs in ../shared/data/rpms that createrepo_c accepts (the corrupted one excluded). */
export function sharedRpms(): string[] {
  const dir = requirePath(join(SHARED_DATA, 'rpms'));
  return readdirSync(dir)
    .filter((f) => f.endsWith('.rpm') && !f.includes('corrupted') && !f.includes('signed'))
    .map((f) => join(dir, f));
}

export interface MakeRepoOptions {
  /** Metadata compression (createrepo_c --general-compress-type); default gz. */
  compress?: 'gz' | 'xz' | 'zstd' | 'bz2';
  /** Extra createrepo_c arguments. */
  args?: string[];
}

/** Copy `rpms` into `dir` and run createrepo_c there; returns `dir` (the baseurl root). */
export function makeRepo(dir: string, rpms: string[], opts: MakeRepoOptions = {}): string {
  requireTool('createrepo_c', 'createrepo-c');
  mkdirSync(dir, { recursive: true });
  for (const r of rpms) copyFileSync(r, join(dir, basename(r)));
  const compress = opts.compress ?? 'gz';
  execFileSync('createrepo_c', ['--no-database', `--general-compress-type=${compress === 'gz' ? 'gz' : compress}`, ...(opts.args ?? []), dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return dir;
}
