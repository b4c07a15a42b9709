/**
 * Committing: a directory on disk (`commitDirectory`) or a tree built in memory
 * (`MutableTree`, used by RPM import) becomes dirtrees, dirmetas and a commit object, written
 * leaves first and the commit last (formats.md §2.7). The ref, if any, is set by the caller
 * afterwards.
 *
 * Re-commit fast path: in a bare repository an object file *is* the checked-out file when a
 * checkout used hardlinks. A file with more than one link on the repository's device is looked
 * up by inode among the objects, and its checksum is taken from the object's name instead of
 * re-reading and hashing it (ostree's "devino cache"). As with ostree, editing a hardlinked
 * checkout in place edits the object itself (fsck then reports it): trees meant to be modified
 * must be checked out with `hardlink: false`.
 */
import { lstatSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { LayerError, withContext } from '../errors.js';
import type { Report } from '../report.js';
import type { Variant } from './gvariant/index.js';
import { readXattrs, writeContentBuffer, writeContentFromPath } from './content.js';
import {
  S_IFDIR, encodeCommit, encodeDirMeta, type Checksum, type DirMeta, type DirTree,
} from './objects.js';
import type { Repo } from './repo.js';
import { UnionDir } from './union.js';

export interface CommitOptions {
  /** Parent commit. Default: the current value of `ref` when given, else none. `null`: none. */
  parent?: Checksum | null;
  /** Ref to point at the new commit once it is written. */
  ref?: string;
  subject?: string;
  body?: string;
  /** Commit metadata `a{sv}`; insertion order is kept and is part of the checksum. */
  metadata?: Readonly<Record<string, Variant>> | ReadonlyArray<readonly [string, Variant]>;
  /** Seconds since the epoch (bigint) or a Date. Default: now. */
  timestamp?: bigint | Date;
  /** Record every file and directory with this owner instead of the one on disk. */
  owner?: { uid: number; gid: number };
  /** Take checksums of files hardlinked from this repository's objects. Default true. */
  reuseHardlinks?: boolean;
  /** Progress in files committed (nothing is printed by the store itself). */
  report?: Report;
}

/**
 * Maps inode → checksum of the repository's content objects; built on first need. From the
 * objects this process hardlinked into checkouts (Repo.linked) when there are any: a tree it
 * checked out itself can only share inodes with those, and a store holds many more objects
 * than a tree (stat-ing all of them took 34 ms of an upgrade on the benches' small store, and
 * grows with the store). A file linked to any other object (a checkout by another process)
 * is then hashed, as a file without a link is: slower, same checksum.
 */
class DevinoIndex {
  private byIno: Map<number, Checksum> | undefined;
  private readonly dev: number;
  constructor(private readonly repo: Repo) {
    this.dev = lstatSync(join(repo.path, 'objects')).dev;
  }

  lookup(st: Stats): Checksum | undefined {
    if (st.nlink < 2 || st.dev !== this.dev) return undefined;
    this.byIno ??= this.build();
    return this.byIno.get(st.ino);
  }

  private build(): Map<number, Checksum> {
    const map = new Map<number, Checksum>();
    if (this.repo.linked.size > 0) {
      for (const csum of this.repo.linked) {
        const st = lstatSync(this.repo.objectPath(csum, 'file'), { throwIfNoEntry: false });
        if (st) map.set(st.ino, csum);
      }
      return map;
    }
    const objects = join(this.repo.path, 'objects');
    for (const xx of readdirSync(objects)) {
      if (xx.length !== 2) continue;
      for (const name of readdirSync(join(objects, xx))) {
        if (!name.endsWith('.file')) continue;
        map.set(lstatSync(join(objects, xx, name)).ino, (xx + name.slice(0, -5)) as Checksum);
      }
    }
    return map;
  }
}

/** Write the tree rooted at `dir`; returns [root dirtree, root dirmeta]. */
export function commitDirectory(repo: Repo, dir: string, opts: CommitOptions = {}): [Checksum, Checksum] {
  const owner = opts.owner;
  const progress = opts.report?.progress('commit', undefined, 'items');
  const fileChecksum = fileChecksums(repo, opts.reuseHardlinks === false || owner ? undefined : new DevinoIndex(repo), owner);

  const visit = (abs: string, st: Stats): [Checksum, Checksum] => {
    const tree: DirTree = { files: [], dirs: [] };
    for (const name of readdirSync(abs)) {
      const path = `${abs}/${name}`;
      const cst = lstatSync(path);
      if (cst.isDirectory()) tree.dirs.push([name, ...visit(path, cst)]);
      else if (cst.isFile() || cst.isSymbolicLink()) {
        tree.files.push([name, fileChecksum(path, cst)]);
        progress?.tick(1);
      }
      else throw new LayerError('LAYER_STORE', `cannot commit ${path}: device nodes, FIFOs and sockets cannot be stored in OSTree`);
    }
    return [repo.writeDirTree(tree), writeDirMetaObject(repo, abs, st, owner)];
  };

  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) throw new LayerError('LAYER_STORE', `${dir} is not a directory`);
    return visit(dir.endsWith('/') && dir.length > 1 ? dir.slice(0, -1) : dir, st);
  } catch (err) {
    throw withContext(`committing ${dir}`, err);
  } finally {
    progress?.done();
  }
}

/**
 * The content checksum of each file committed: the object's own when the file is a hardlink of
 * one (`devino`), else the file stored as an object; hardlinks inside the tree are stored once.
 */
function fileChecksums(
  repo: Repo, devino: DevinoIndex | undefined, owner?: { uid: number; gid: number },
): (path: string, st: Stats) => Checksum {
  const local = new Map<string, Checksum>();
  return (path, st) => {
    const reused = devino?.lookup(st);
    if (reused) return reused;
    const key = st.nlink > 1 ? `${st.dev}:${st.ino}` : undefined;
    const seen = key === undefined ? undefined : local.get(key);
    if (seen) return seen;
    const csum = writeEntryObject(repo, path, st, owner);
    if (key !== undefined) local.set(key, csum);
    return csum;
  };
}

/**
 * Lay the tree at `dir` over `root`, a union (union.ts) part of which `checkoutUnionPart`
 * checked out there (`placed`): afterwards the union is what `commitDirectory` would give for a
 * full checkout of it changed as `dir` was. Entries in `dir` replace the union's (files by their
 * checksums, as commitDirectory takes them; directories by their metadata on disk when they
 * were checked out or are new); a placed entry missing from `dir` was deleted; everything never
 * checked out stays as it is.
 */
export function overlayDirectory(repo: Repo, root: UnionDir, dir: string, placed: ReadonlySet<string>): void {
  const fileChecksum = fileChecksums(repo, new DevinoIndex(repo));
  const visit = (abs: string, rel: string, u: UnionDir, st: Stats, fresh: boolean): void => {
    if (fresh || placed.has(rel)) {
      u.meta = writeDirMetaObject(repo, abs, st);
    }
    const seen = new Set<string>();
    for (const name of readdirSync(abs)) {
      seen.add(name);
      const path = `${abs}/${name}`;
      const sub = rel === '' ? name : `${rel}/${name}`;
      const cst = lstatSync(path);
      if (cst.isDirectory()) {
        u.files.delete(name);
        const have = u.dir(repo, name);
        const d = have ?? new UnionDir(u.meta);
        if (!have) u.dirs.set(name, d);
        visit(path, sub, d, cst, !have);
      } else if (cst.isFile() || cst.isSymbolicLink()) {
        u.dirs.delete(name);
        u.files.set(name, fileChecksum(path, cst));
      } else throw new LayerError('LAYER_STORE', `cannot commit ${path}: device nodes, FIFOs and sockets cannot be stored in OSTree`);
    }
    for (const name of [...u.files.keys(), ...u.dirs.keys()]) {
      if (seen.has(name) || !placed.has(rel === '' ? name : `${rel}/${name}`)) continue;
      u.files.delete(name);
      u.dirs.delete(name);
    }
  };
  try {
    visit(dir, '', root, lstatSync(dir), true);
  } catch (err) {
    throw withContext(`committing ${dir}`, err);
  }
}

/**
 * Store the metadata of the directory at `path` (its lstat `st`) as a dirmeta object, exactly
 * as committing it would (with `owner`, as that owner); returns its checksum.
 */
export function writeDirMetaObject(repo: Repo, path: string, st: Stats, owner?: { uid: number; gid: number }): Checksum {
  const meta: DirMeta = { uid: owner ? owner.uid : st.uid, gid: owner ? owner.gid : st.gid, mode: st.mode, xattrs: readXattrs(path) };
  return repo.writeMetadata('dirmeta', encodeDirMeta(meta));
}

/**
 * Store the file or symlink at `path` (its lstat `st`) as a content object, exactly as
 * committing a directory holding it would; returns its checksum.
 */
export function writeEntryObject(repo: Repo, path: string, st: Stats, owner?: { uid: number; gid: number }): Checksum {
  const uid = owner ? owner.uid : st.uid;
  const gid = owner ? owner.gid : st.gid;
  if (st.isSymbolicLink()) return writeContentBuffer(repo, { uid, gid, mode: st.mode, target: readlinkSync(path), xattrs: [] });
  return writeContentFromPath(repo, path, { uid, gid, mode: st.mode, xattrs: readXattrs(path) }, st.size);
}

/** A directory tree assembled in memory: names → content checksums and subtrees. */
export class MutableTree {
  readonly files = new Map<string, Checksum>();
  readonly dirs = new Map<string, MutableTree>();
  meta: DirMeta;

  constructor(meta: DirMeta = { uid: 0, gid: 0, mode: S_IFDIR | 0o755, xattrs: [] }) {
    this.meta = meta;
  }

  /** The directory at `path` ("a/b"), created (0755 root) with its parents when missing. */
  ensureDir(path: string): MutableTree {
    // A cursor walking down from this node, not an alias kept around.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    let t: MutableTree = this;
    for (const part of path.split('/').filter((p) => p !== '')) {
      if (t.files.has(part)) throw new LayerError('LAYER_STORE', `'${path}': '${part}' is a file, not a directory`);
      let next = t.dirs.get(part);
      if (!next) {
        next = new MutableTree();
        t.dirs.set(part, next);
      }
      t = next;
    }
    return t;
  }

  setFile(path: string, csum: Checksum): void {
    const i = path.lastIndexOf('/');
    const dir = this.ensureDir(i < 0 ? '' : path.slice(0, i));
    const name = path.slice(i + 1);
    if (dir.dirs.has(name)) throw new LayerError('LAYER_STORE', `'${path}' is a directory, cannot be a file`);
    dir.files.set(name, csum);
  }

  /** Write dirtrees and dirmetas leaves first; returns [root dirtree, root dirmeta]. */
  write(repo: Repo): [Checksum, Checksum] {
    const tree: DirTree = { files: [...this.files], dirs: [] };
    for (const [name, sub] of this.dirs) tree.dirs.push([name, ...sub.write(repo)]);
    return [repo.writeDirTree(tree), repo.writeMetadata('dirmeta', encodeDirMeta(this.meta))];
  }
}

/** Write the commit object for a root written by one of the above. */
export function writeCommitObject(repo: Repo, root: [Checksum, Checksum], opts: CommitOptions): Checksum {
  let parent = opts.parent;
  if (parent === undefined) parent = opts.ref ? repo.readRef(opts.ref) : undefined;
  const md = opts.metadata ?? [];
  const metadata = (Array.isArray(md) ? md : Object.entries(md)) as Array<readonly [string, Variant]>;
  for (const [k] of metadata) if (k === '') throw new LayerError('LAYER_STORE', 'commit metadata keys must not be empty');
  const ts = opts.timestamp instanceof Date ? BigInt(Math.floor(opts.timestamp.getTime() / 1000))
    : opts.timestamp ?? BigInt(Math.floor(Date.now() / 1000));
  return repo.writeMetadata('commit', encodeCommit({
    metadata, parent: parent ?? undefined, subject: opts.subject ?? '', body: opts.body ?? '',
    timestamp: ts, rootTree: root[0], rootMeta: root[1],
  }), [root[0]]);
}
