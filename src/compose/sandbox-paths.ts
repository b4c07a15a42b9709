/**
 * Look at a root tree from the host without ever leaving it: symlinks are followed the way
 * the kernel would follow them if the tree were `/` (an absolute target restarts at the tree
 * root, `..` stops at it). A tree's `/bin/sh -> /usr/bin/bash` or `/etc/passwd` symlink must
 * never resolve to the HOST's file.
 */
import { lstat, readlink } from 'node:fs/promises';
import { join } from 'node:path';

const MAX_LINKS = 40; // the kernel's limit (MAXSYMLINKS)

/**
 * The host path of `path` (absolute, as seen inside the tree) with every symlink resolved
 * inside `tree`, or undefined when it does not exist (or loops).
 */
export async function resolveInTree(tree: string, path: string): Promise<string | undefined> {
  let pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      done.pop();
      continue;
    }
    const host = join(tree, ...done, comp);
    const st = await lstat(host).catch(() => undefined);
    if (!st) return undefined;
    if (st.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = await readlink(host);
      if (target.startsWith('/')) done.length = 0;
      pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
      continue;
    }
    if (pending.length > 0 && !st.isDirectory()) return undefined;
    done.push(comp);
  }
  return join(tree, ...done);
}
