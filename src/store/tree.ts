/**
 * Reading committed trees: walking dirtrees, looking up a path, reading a file's bytes.
 * Paths are relative to the commit root, `/`-separated, without a leading slash ('' is the root).
 */
import { readFileSync } from 'node:fs';
import { LayerError } from '../errors.js';
import { loadContentMeta } from './content.js';
import { S_IFLNK, S_IFMT, decodeDirMeta, type Checksum, type DirTree, type Xattrs } from './objects.js';
import type { Repo } from './repo.js';

/** One node of a committed tree, as `walk` yields it. */
export interface TreeEntry {
  path: string;
  type: 'dir' | 'file' | 'symlink';
  /** Content checksum for files and symlinks; dirtree checksum for directories. */
  checksum: Checksum;
  /** Dirmeta checksum (directories only). */
  metaChecksum?: Checksum;
  uid: number;
  gid: number;
  /** Full st_mode. */
  mode: number;
  xattrs: Xattrs;
  /** Symlink target. */
  target?: string;
  /** Size in bytes of a regular file. */
  size: number;
}

/** A node without its metadata loaded: enough to diff and to plan union checkouts. */
export type RawNode =
  | { path: string; kind: 'dir'; tree: Checksum; meta: Checksum }
  | { path: string; kind: 'file'; csum: Checksum };

export function readDirTree(repo: Repo, csum: Checksum): DirTree {
  try {
    return repo.dirTree(csum);
  } catch (err) {
    if (err instanceof LayerError && err.code === 'LAYER_STORE_CORRUPT') {
      throw new LayerError(err.code, `dirtree ${csum}: ${err.message}`, { cause: err });
    }
    throw err;
  }
}

function join(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}/${name}`;
}

/** Pre-order: a directory, then its files, then its subdirectories, each sorted by name. */
export function* walkRaw(repo: Repo, tree: Checksum, meta: Checksum, prefix = ''): Generator<RawNode> {
  yield { path: prefix, kind: 'dir', tree, meta };
  const t = readDirTree(repo, tree);
  for (const [name, csum] of t.files) yield { path: join(prefix, name), kind: 'file', csum };
  for (const [name, sub, subMeta] of t.dirs) yield* walkRaw(repo, sub, subMeta, join(prefix, name));
}

/** Load the metadata of a raw node. */
export function describe(repo: Repo, node: RawNode): TreeEntry {
  if (node.kind === 'dir') {
    const m = decodeDirMeta(repo.readMetadata('dirmeta', node.meta), 'store');
    return { path: node.path, type: 'dir', checksum: node.tree, metaChecksum: node.meta, ...m, size: 0 };
  }
  const m = loadContentMeta(repo, node.csum);
  const type = (m.mode & S_IFMT) === S_IFLNK ? 'symlink' : 'file';
  const entry: TreeEntry = { path: node.path, type, checksum: node.csum, uid: m.uid, gid: m.gid, mode: m.mode, xattrs: m.xattrs, size: m.size };
  if (m.target !== undefined) entry.target = m.target;
  return entry;
}

/** Find `path` in the tree; undefined when absent. */
export function lookup(repo: Repo, tree: Checksum, meta: Checksum, path: string): RawNode | undefined {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let cur: RawNode = { path: '', kind: 'dir', tree, meta };
  for (const [i, name] of parts.entries()) {
    if (cur.kind !== 'dir') return undefined;
    const t = readDirTree(repo, cur.tree);
    const full = parts.slice(0, i + 1).join('/');
    const d = t.dirs.find(([n]) => n === name);
    if (d) {
      cur = { path: full, kind: 'dir', tree: d[1], meta: d[2] };
      continue;
    }
    const f = t.files.find(([n]) => n === name);
    if (!f) return undefined;
    cur = { path: full, kind: 'file', csum: f[1] };
  }
  return cur;
}

/** The bytes of the regular file at `path`. Throws LAYER_STORE for directories, symlinks, absent paths. */
export function readFileAt(repo: Repo, tree: Checksum, meta: Checksum, path: string, what: string): Buffer {
  const node = lookup(repo, tree, meta, path);
  if (!node) throw new LayerError('LAYER_STORE', `${what}: no such file '${path}'`);
  if (node.kind === 'dir') throw new LayerError('LAYER_STORE', `${what}: '${path}' is a directory`);
  const m = loadContentMeta(repo, node.csum);
  if ((m.mode & S_IFMT) === S_IFLNK) throw new LayerError('LAYER_STORE', `${what}: '${path}' is a symlink to ${m.target}`);
  return readFileSync(repo.objectPath(node.csum, 'file'));
}
