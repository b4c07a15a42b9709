/**
 * Resolving a path inside a tree the way it resolves once the tree is `/`: symlinks are
 * followed, but an absolute target (`var/lib/rpm -> /usr/share/rpm`) is taken relative to the
 * tree root, never the host's, and `..` cannot climb out of the tree. Needed because base trees
 * link their rpmdb directories to each other, and following such a link on the host could read
 * — or write — the host's own database.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LayerError } from '../errors.js';

const MAX_LINKS = 40;

/**
 * The host path that `rel` (relative to `root`) names inside the tree. Missing trailing
 * components are fine: the result is where they would be created.
 */
export function resolveInTree(root: string, rel: string): string {
  const pending = rel.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const c = pending.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, c);
    const st = fs.lstatSync(host, { throwIfNoEntry: false });
    if (!st?.isSymbolicLink()) {
      done.push(c);
      continue;
    }
    if (++links > MAX_LINKS) throw new LayerError('LAYER_RPMDB', `${path.join(root, rel)}: too many levels of symbolic links`);
    const target = fs.readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    pending.unshift(...target.split('/').filter((t) => t !== '' && t !== '.'));
  }
  return path.join(root, ...done);
}
