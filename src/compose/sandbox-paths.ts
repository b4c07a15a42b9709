/**
 * Paths inside a root tree as the sandboxed tree sees them (src/util/tree-path.ts does the
 * walking): a tree's `/bin/sh -> /usr/bin/bash` must never resolve to the HOST's file.
 */
import { walkTree } from '../util/tree-path.js';

/**
 * The host path of `path` (absolute, as seen inside the tree) with every symlink resolved
 * inside `tree`, or undefined when it does not exist (or loops).
 */
export async function resolveInTree(tree: string, path: string): Promise<string | undefined> {
  return walkTree(tree, path, { mustExist: true });
}
