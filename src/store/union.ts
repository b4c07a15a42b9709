/**
 * Unions of committed trees at the object level: the tree `checkoutUnion` followed by
 * `commitTree` would produce, built from the layers' dirtree and dirmeta objects alone.
 *
 * Why: composing packages onto a base by checking everything out and committing it again
 * costs a syscall or more per file of the base. Here a directory only one layer has keeps its
 * dirtree and dirmeta checksums as they are (it would be checked out and committed back to
 * the same objects), and only directories several layers share are merged and written again.
 *
 * The rules are checkout.ts's: the first layer holding a directory gives its metadata; the same
 * content at one path is shared; different content, or a file against a directory, is a
 * conflict (with `replaceFiles` a later file replaces an earlier one). A conflict makes
 * `unionTrees` return undefined: the caller falls back to the checkout, which reports the
 * conflict exactly as it always has (the first one met in its walk).
 */
import type { Checksum, DirTree } from './objects.js';
import type { Repo } from './repo.js';
import { readDirTree } from './tree.js';

/** A directory no merge has touched: its objects, reused as they are. */
export type Sealed = readonly [tree: Checksum, meta: Checksum];

/** A directory being merged: expanded from its dirtree, written again at the end. */
export class UnionDir {
  readonly files = new Map<string, Checksum>();
  readonly dirs = new Map<string, UnionDir | Sealed>();
  /** Its dirmeta; replaced when a tree laid over the union changed it (commit-tree.ts overlayDirectory). */
  constructor(public meta: Checksum) {}

  /** The subdirectory `name` expanded for editing, or undefined when there is none. */
  dir(repo: Repo, name: string): UnionDir | undefined {
    const d = this.dirs.get(name);
    if (d === undefined || d instanceof UnionDir) return d;
    const open = expand(repo, d[0], d[1]);
    this.dirs.set(name, open);
    return open;
  }

  /** The directory at `path` ('a/b'; '' is this one), or undefined when any part is not a directory. */
  find(repo: Repo, path: string): UnionDir | undefined {
    const parts = path.split('/').filter((p) => p !== '');
    return parts.reduce<UnionDir | undefined>((cur, part) => cur?.dir(repo, part), this);
  }

  /** Write the expanded directories' dirtrees, leaves first; [dirtree, dirmeta] of this one. */
  write(repo: Repo): [Checksum, Checksum] {
    const tree: DirTree = { files: [...this.files], dirs: [] };
    for (const [name, d] of this.dirs) {
      const [t, m] = d instanceof UnionDir ? d.write(repo) : d;
      tree.dirs.push([name, t, m]);
    }
    return [repo.writeDirTree(tree), this.meta];
  }
}

/** A subdirectory of a union to read, a sealed one expanded apart (the union keeps it sealed, to be reused as it is). */
export function readable(repo: Repo, d: UnionDir | Sealed): UnionDir {
  return d instanceof UnionDir ? d : expand(repo, d[0], d[1]);
}

function expand(repo: Repo, tree: Checksum, meta: Checksum): UnionDir {
  const out = new UnionDir(meta);
  const t = readDirTree(repo, tree);
  for (const [name, csum] of t.files) out.files.set(name, csum);
  for (const [name, sub, subMeta] of t.dirs) out.dirs.set(name, [sub, subMeta]);
  return out;
}

/** Merge dirtree `tree` into `into`; false on a conflict. */
function merge(repo: Repo, into: UnionDir, tree: Checksum, replaceFiles: boolean): boolean {
  const t = readDirTree(repo, tree);
  for (const [name, csum] of t.files) {
    if (into.dirs.has(name)) return false;
    const prev = into.files.get(name);
    if (prev === undefined || prev === csum) into.files.set(name, csum);
    else if (replaceFiles) into.files.set(name, csum);
    else return false;
  }
  for (const [name, sub, subMeta] of t.dirs) {
    if (into.files.has(name)) return false;
    const open = into.dir(repo, name);
    if (open === undefined) into.dirs.set(name, [sub, subMeta]);
    else if (!merge(repo, open, sub, replaceFiles)) return false;
  }
  return true;
}

/**
 * The union of `layers` (root [dirtree, dirmeta] each, in order), or undefined on a conflict.
 * Nothing is written until `write`.
 */
export function unionTrees(
  repo: Repo, layers: ReadonlyArray<readonly [Checksum, Checksum]>, opts: { replaceFiles?: boolean } = {},
): UnionDir | undefined {
  const first = layers[0];
  if (first === undefined) return undefined;
  const root = expand(repo, first[0], first[1]);
  for (const [tree] of layers.slice(1)) if (!merge(repo, root, tree, opts.replaceFiles ?? false)) return undefined;
  return root;
}
