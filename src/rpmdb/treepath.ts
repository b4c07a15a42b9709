/**
 * Resolving a path inside a tree the way it resolves once the tree is `/`: symlinks are
 * followed, but an absolute target (`var/lib/rpm -> /usr/share/rpm`) is taken relative to the
 * tree root, never the host's, and `..` cannot climb out of the tree. Needed because base trees
 * link their rpmdb directories to each other, and following such a link on the host could read
 * — or write — the host's own database.
 */
import * as path from 'node:path';
import { LayerError } from '../errors.js';
import { walkTree } from '../util/tree-path.js';

/**
 * The host path that `rel` (relative to `root`) names inside the tree. Missing trailing
 * components are fine: the result is where they would be created.
 */
export function resolveInTree(root: string, rel: string): string {
  const host = walkTree(root, rel, { mustExist: false });
  if (host === undefined) throw new LayerError('LAYER_RPMDB', `${path.join(root, rel)}: too many levels of symbolic links`);
  return host;
}
