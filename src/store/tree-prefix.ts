/**
 * Commits rooted below `/`: a tree whose top directories each hold nothing but the next one
 * (`usr/` → `share/` → `foo/`, as most packages' trees begin) is committed from its deepest
 * such directory, and the directories above it are named in the commit metadata instead of
 * being written as dirtree objects: `layer.tree.prefix`, `a(ss)`, top first, each entry the
 * dirmeta checksum of a directory and the name of its only child.
 *
 * Why: every new object is a new inode, and creating inodes is the slowest thing an import
 * does (0.3-0.7 ms each on the bench disk). A package of three files under /usr/share/foo
 * was four dirtrees, a dirmeta it shares, its files and a commit; it is now one dirtree. The
 * directories above would be rewritten by any union with a base anyway (they merge with it).
 *
 * Reading such a commit (Store.readCommit) rebuilds the directories above in memory
 * (Repo.holdDirTree) and returns the whole tree's root: checkouts, unions, walks and diffs
 * see the tree as committed. The rebuilt dirtrees are the bytes a full commit would have
 * written, so every later commit made from the tree is the same as before. A commit written
 * to disk that refers to one of them writes it first (Repo.writeMetadata). Prune and fsck keep
 * and check the dirmetas the metadata names (maintenance.ts). Real `ostree` sees a valid
 * commit whose tree is the subtree: `ostree fsck` passes, `ostree ls` lists from the subtree.
 */
import { LayerError } from '../errors.js';
import { Variant, type GValue } from './gvariant/index.js';
import { encodeDirMeta, encodeDirTree, isChecksum, type Checksum, type Commit } from './objects.js';
import type { Repo } from './repo.js';
import type { MutableTree } from './commit-tree.js';

export const PREFIX_KEY = 'layer.tree.prefix';

/** One directory above the committed root: its dirmeta, and the name of its only entry. */
export interface PrefixLevel {
  meta: Checksum;
  child: string;
}

/**
 * The directory to commit as the root of `tree` and the levels above it (their dirmetas
 * written: they are few and shared, and checkouts read them). No level when `tree` itself has
 * files or several entries.
 */
export function splitPrefix(repo: Repo, tree: MutableTree): { root: MutableTree; prefix: PrefixLevel[] } {
  const prefix: PrefixLevel[] = [];
  let root = tree;
  for (;;) {
    const [only] = root.dirs;
    if (root.files.size > 0 || root.dirs.size !== 1 || !only) break;
    prefix.push({ meta: repo.writeMetadata('dirmeta', encodeDirMeta(root.meta)), child: only[0] });
    root = only[1];
  }
  return { root, prefix };
}

/** The metadata entry naming `prefix` (none for an empty one). */
export function prefixMetadata(prefix: readonly PrefixLevel[]): [string, Variant][] {
  return prefix.length === 0 ? [] : [[PREFIX_KEY, new Variant('a(ss)', prefix.map((l): GValue => [l.meta, l.child]))]];
}

/** The levels a commit's metadata names, checked (empty when it has none). */
export function prefixOf(c: Pick<Commit, 'metadata'>): PrefixLevel[] {
  const v = c.metadata.find(([k]) => k === PREFIX_KEY)?.[1];
  if (!v) return [];
  const levels = v.value as unknown;
  const level = (l: unknown): boolean => Array.isArray(l) && l.length === 2 && isChecksum(String(l[0])) && validName(String(l[1]));
  const ok = Array.isArray(levels) && levels.every(level);
  if (v.type !== 'a(ss)' || !ok) throw new LayerError('LAYER_STORE_CORRUPT', `commit metadata ${PREFIX_KEY} is malformed`);
  return (levels as [string, string][]).map(([meta, child]) => ({ meta: meta as Checksum, child }));
}

/** The root of the whole tree of `c`: the directories above its root held in memory by `repo`. */
export function expandedRoot(repo: Repo, c: Pick<Commit, 'metadata' | 'rootTree' | 'rootMeta'>): [Checksum, Checksum] {
  let root: [Checksum, Checksum] = [c.rootTree, c.rootMeta];
  const prefix = prefixOf(c);
  for (let i = prefix.length - 1; i >= 0; i--) {
    const level = prefix[i] as PrefixLevel;
    root = [repo.holdDirTree(encodeDirTree({ files: [], dirs: [[level.child, ...root]] })), level.meta];
  }
  return root;
}

function validName(n: string): boolean {
  return n !== '' && n !== '.' && n !== '..' && !n.includes('/');
}

