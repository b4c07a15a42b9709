/**
 * A base from a local OSTree repository (`layer init --from-ostree REPO:REF`). The transfer is
 * ostree's own `pull-local` into the sysroot's repo (same on-disk format); fetch() takes the
 * ref's newest commit each time. The tree must have the layout a deployment needs
 * (checkBaseLayout): a `usr/etc -> /host/etc` symlink would make every deployment's /etc a host
 * directory, and `ostree admin deploy` fails on such trees too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { LayerError } from '../../errors.js';
import { isChecksum, type Checksum, type Store } from '../../store/index.js';
import { escapeControl } from '../../util/escape.js';
import type { BaseSource } from './base-source.js';

/**
 * Pull `rev` (default: the ref's newest commit; a checksum, or `version=V`: the newest commit
 * of the ref's history whose `version` metadata is V) from the repo `spec` names.
 */
export function pullFromOstree(store: Store, spec: string, rev?: string): Checksum {
  const i = spec.lastIndexOf(':');
  if (i <= 0 || i === spec.length - 1) throw new LayerError('LAYER_USAGE', `--from-ostree '${spec}': expected REPO:REF`);
  const repo = resolve(spec.slice(0, i));
  const ref = spec.slice(i + 1);
  if (!existsSync(`${repo}/config`)) throw new LayerError('LAYER_USAGE', `--from-ostree: ${repo} is not an ostree repository`);
  let commit: string;
  try {
    const ostree = (...args: string[]) => execFileSync('ostree', [`--repo=${repo}`, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
    commit = rev?.startsWith('version=') ? commitOfVersion(ostree('log', ref), rev.slice(8), spec) : ostree('rev-parse', rev ?? ref).trim();
    execFileSync('ostree', [`--repo=${store.path}`, 'pull-local', repo, commit], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    if (err instanceof LayerError) throw err;
    const stderr = (err as { stderr?: Buffer | string }).stderr?.toString().trim();
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LayerError('LAYER_STORE', `--from-ostree ${spec}: ${missing ? 'the ostree tool is not installed' : stderr || String(err)}`, missing ? { hint: 'apt-get install ostree' } : {});
  }
  if (!isChecksum(commit)) throw new LayerError('LAYER_STORE', `--from-ostree ${spec}: '${commit}' is not a commit`);
  checkBaseLayout(store, commit, `--from-ostree ${spec}: commit ${commit}`);
  return commit;
}

/** The first commit of `ostree log` output (newest first) whose `Version:` is `version`. */
function commitOfVersion(log: string, version: string, spec: string): string {
  let commit = '';
  for (const line of log.split('\n')) {
    const c = /^commit ([0-9a-f]{64})$/.exec(line);
    if (c) commit = c[1] ?? '';
    else if (line.startsWith('Version: ') && line.slice(9).trim() === version && commit) return commit;
  }
  throw new LayerError('LAYER_USAGE', `${spec}: no commit in the ref's history has version ${version}`, { hint: `ostree log shows the versions` });
}

/** Top-level paths layer and ostree write through or copy from host-side: directories or absent (`usr` must be there). */
const MUST_BE_DIRS = ['usr', 'usr/etc', 'etc', 'var'];

/**
 * Refuse a base tree whose `/usr`, `/usr/etc`, `/etc` or `/var` is not a directory (a symlink
 * out of the tree, a file), or that has both `/etc` and `/usr/etc` (ostree's own refusal).
 * Paths are looked up in the commit without following symlinks.
 */
export function checkBaseLayout(store: Store, commit: Checksum, what: string): void {
  const refuse = (msg: string) =>
    new LayerError('LAYER_UNSAFE_PATH', `${what}: ${msg}`, { hint: 'a base tree needs /usr and /usr/etc as real directories, as `ostree admin deploy` does' });
  for (const path of MUST_BE_DIRS) {
    const e = store.stat(commit, path);
    if (e === undefined) {
      if (path === 'usr') throw refuse('the tree has no /usr directory');
      continue;
    }
    if (e.type === 'dir') continue;
    const kind = e.type === 'symlink' ? `a symlink to ${escapeControl(e.target ?? '?')}` : 'a regular file';
    const effect = path.endsWith('etc') ? "the deployments' /etc would be a host directory" : 'the deployments would reach outside their tree';
    throw refuse(`/${path} is ${kind}, not a directory: ${effect}`);
  }
  if (store.stat(commit, 'etc') !== undefined && store.stat(commit, 'usr/etc') !== undefined) {
    throw refuse('Tree contains both /etc and /usr/etc');
  }
}

export function ostreeLocalSource(spec: string): BaseSource {
  return {
    kind: 'ostree-local',
    refspec: spec,
    async fetch({ store }) {
      return pullFromOstree(store, spec);
    },
  };
}
