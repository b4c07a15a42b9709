/**
 * Fixture rpm-md repositories built by the real `createrepo_c` during the test run.
 * Missing tool or data fails loudly with the fix, never skips.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { basename, join, resolve } from 'node:path';
import { requireTool } from './tools.js';
export { requireTool };

/** `../shared/data` relative to the project root. */
export const SHARED_DATA = resolve(import.meta.dirname, '../../../shared/data');


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
  // createrepo_c 0.17 cannot write zstd (1.0+ does by default): build gz, recompress with zstd.
  execFileSync('createrepo_c', ['--no-database', `--general-compress-type=${compress === 'zstd' ? 'gz' : compress}`, ...(opts.args ?? []), dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (compress === 'zstd') recompressZstd(dir);
  return dir;
}

/** Rewrite every `.xml.gz` of a repo as `.xml.zst`, fixing checksum, size and location in repomd.xml. */
function recompressZstd(dir: string): void {
  requireTool('zstd', 'zstd');
  const repomdPath = join(dir, 'repodata', 'repomd.xml');
  let repomd = readFileSync(repomdPath, 'utf8');
  for (const name of readdirSync(join(dir, 'repodata')).filter((n) => n.endsWith('.xml.gz'))) {
    const gz = join(dir, 'repodata', name);
    const zst = execFileSync('zstd', ['-q', '-c'], { input: gunzipSync(readFileSync(gz)) });
    const sum = createHash('sha256').update(zst).digest('hex');
    const newName = `${sum}-${name.slice(name.indexOf('-') + 1).replace(/\.gz$/, '.zst')}`;
    writeFileSync(join(dir, 'repodata', newName), zst);
    rmSync(gz);
    const oldSum = name.slice(0, name.indexOf('-'));
    const oldSize = readFileSync(join(dir, 'repodata', newName)).length;
    repomd = repomd.replace(`repodata/${name}`, `repodata/${newName}`).replace(`>${oldSum}<`, `>${sum}<`);
    // The <size> after this record's location is the stored size.
    repomd = repomd.replace(new RegExp(`(repodata/${newName}"/>[\\s\\S]*?<size>)\\d+(</size>)`), `$1${oldSize}$2`);
  }
  writeFileSync(repomdPath, repomd);
}
