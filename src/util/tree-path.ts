/**
 * Look at a root tree from the host without ever leaving it: symlinks are followed the way the
 * kernel would follow them if the tree were `/` (an absolute target restarts at the tree root,
 * `..` stops at it). A tree's `/bin/sh -> /usr/bin/bash`, `/etc/passwd` or
 * `var/lib/rpm -> /usr/share/rpm` link must never resolve to — or let us write — the HOST's file.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

const MAX_LINKS = 40; // the kernel's limit (MAXSYMLINKS)

export interface TreeWalkOptions {
  /**
   * true: undefined unless every component exists (a non-directory in the middle fails too).
   * false: missing trailing components are fine; the result is where they would be created.
   */
  mustExist: boolean;
}

/**
 * The host path that `path` (absolute or relative, as seen inside the tree) names, with every
 * symlink resolved inside `tree`. undefined on a symlink loop, or per `mustExist`.
 */
export function walkTree(tree: string, path: string, opts: TreeWalkOptions): string | undefined {
  const pending = path.split('/').filter((c) => c !== '' && c !== '.');
  const done: string[] = [];
  let links = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      done.pop();
      continue;
    }
    const host = join(tree, ...done, comp);
    const st = lstatSync(host, { throwIfNoEntry: false });
    if (st === undefined && opts.mustExist) return undefined;
    if (st?.isSymbolicLink()) {
      if (++links > MAX_LINKS) return undefined;
      const target = readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'));
      continue;
    }
    if (opts.mustExist && pending.length > 0 && !st?.isDirectory()) return undefined;
    done.push(comp);
  }
  return join(tree, ...done);
}
