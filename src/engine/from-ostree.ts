/**
 * `layer init --from-ostree REPO:REF`: take the base commit from an existing OSTree repository.
 * The transfer is ostree's own `pull-local` into the sysroot's repo (same on-disk format), so
 * any commit ostree can read is accepted as it is.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LayerError } from '../errors.js';
import { isChecksum, type Checksum, type Store } from '../store/index.js';

export function pullFromOstree(store: Store, spec: string): Checksum {
  const i = spec.lastIndexOf(':');
  if (i <= 0 || i === spec.length - 1) throw new LayerError('LAYER_USAGE', `--from-ostree '${spec}': expected REPO:REF`);
  const repo = resolve(spec.slice(0, i));
  const ref = spec.slice(i + 1);
  if (!existsSync(`${repo}/config`)) throw new LayerError('LAYER_USAGE', `--from-ostree: ${repo} is not an ostree repository`);
  let commit: string;
  try {
    commit = execFileSync('ostree', [`--repo=${repo}`, 'rev-parse', ref], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    execFileSync('ostree', [`--repo=${store.path}`, 'pull-local', repo, commit], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer | string }).stderr?.toString().trim();
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LayerError('LAYER_STORE', `--from-ostree ${spec}: ${missing ? 'the ostree tool is not installed' : stderr || String(err)}`, missing ? { hint: 'apt-get install ostree' } : {});
  }
  if (!isChecksum(commit)) throw new LayerError('LAYER_STORE', `--from-ostree ${spec}: '${commit}' is not a commit`);
  return commit;
}
