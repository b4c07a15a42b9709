/**
 * The on-disk OSTree repository (formats.md §2.1, §2.2, §2.7): config, loose-object paths,
 * metadata objects and refs. Content objects live in content.ts; the verbs users call are on
 * `Store` (store.ts), which builds on this.
 *
 * Crash safety: every object and ref is written to `tmp/` and renamed into place, so a crash
 * leaves at worst a stray file in `tmp/` (ignored by readers, removed by `prune`). A ref is
 * written only after the objects it points to, with a filesystem sync in between when `fsync`
 * is on (the default), so a ref never names a commit whose objects are not durable.
 *
 * Locking: none inside the repository. One process writes a repository at a time; the engine
 * holds the sysroot lock around every write (readers need no lock: objects are immutable).
 */
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { rename } from 'node:fs/promises';
import { LayerError, type ErrorCode } from '../errors.js';
import { writeDirTreeBytes } from './dirtree-codec.js';
import { decodeCommit, decodeDirTree, isChecksum, sha256, sortedDirTree, type Checksum, type DirTree, type ObjectType } from './objects.js';

export type RepoMode = 'bare' | 'bare-user';

const EXT: Record<ObjectType, string> = { file: 'file', dirtree: 'dirtree', dirmeta: 'dirmeta', commit: 'commit' };

/** OSTREE_REF_REGEXP (formats.md §2.1). */
const REF_RE = /^(?:[\w\d][-._\w\d]*\/)*[\w\d][-._\w\d]*$/;

export function isValidRef(ref: string): boolean {
  return REF_RE.test(ref);
}

export interface RepoOptions {
  /**
   * Sync the filesystem (`sync -f`, i.e. syncfs) before writing a ref, as ostree does at the end
   * of a transaction. Default true; tests and benchmarks of throwaway repos may turn it off.
   */
  fsync?: boolean;
}

let tmpCounter = 0;

/**
 * Dirtrees kept decoded per repository (Repo.dirTree): an upgrade reads ~280, ~80 of them more
 * than once (the base's union, then the layered union on it, the ldconfig inputs), and checks
 * out the trees it has just written. Past this many the map starts again (~1 KB each).
 */
const TREES_KEPT = 8192;

export class Repo {
  /** Metadata objects known to exist, so hot loops skip the stat. */
  private readonly known = new Set<string>();
  /**
   * Content objects this process hardlinked into checkouts: where a re-commit looks for the
   * inode of a hardlinked file (commit-tree.ts DevinoIndex) instead of stat-ing every object.
   */
  readonly linked = new Set<Checksum>();
  /**
   * Directory trees that exist only in memory: the directories above a commit's root that its
   * metadata describes (tree-prefix.ts), put there when the commit is read. Readable like any
   * object; written to disk when an object written to disk refers to one (`writeMetadata`).
   */
  private readonly virtual = new Map<Checksum, Uint8Array>();
  /** Dirtrees decoded or written by this process (TREES_KEPT); objects never change, so neither do these. */
  private readonly trees = new Map<Checksum, DirTree>();

  readonly path: string;

  protected constructor(
    path: string,
    readonly mode: RepoMode,
    readonly fsync: boolean,
  ) {
    this.path = resolve(path);
  }

  /** Read `config` and return the mode, refusing modes layer does not write. */
  protected static readMode(path: string): RepoMode {
    let text: string;
    try {
      text = readFileSync(join(path, 'config'), 'utf8');
    } catch (err) {
      throw new LayerError('LAYER_STORE', `${path} is not an OSTree repository (no readable config)`, { cause: err, hint: 'create one with Store.init' });
    }
    const mode = /^\s*mode\s*=\s*(\S+)\s*$/m.exec(text)?.[1];
    if (mode !== 'bare' && mode !== 'bare-user') {
      throw new LayerError('LAYER_STORE', `repository ${path} has mode '${mode ?? '(none)'}'; layer reads and writes only bare and bare-user`);
    }
    return mode;
  }

  /** Create the layout ostree expects; fsck fails without refs/remotes (formats.md §2.1). */
  protected static createLayout(path: string, mode: RepoMode): void {
    for (const d of ['objects', 'refs/heads', 'refs/remotes', 'refs/mirrors', 'state', 'tmp', 'extensions']) {
      mkdirSync(join(path, d), { recursive: true });
    }
    writeFileSync(join(path, 'config'), `[core]\nrepo_version=1\nmode=${mode}\n`);
  }

  /** Hot path (once per file in commits and checkouts): plain concatenation, no path.join. */
  objectPath(csum: Checksum, type: ObjectType): string {
    return `${this.path}/objects/${csum.slice(0, 2)}/${csum.slice(2)}.${EXT[type]}`;
  }

  hasObject(csum: Checksum, type: ObjectType): boolean {
    if (type !== 'file' && this.known.has(csum + type)) return true;
    // lstat, not exists: a bare-mode symlink object points nowhere useful.
    return lstatSync(this.objectPath(csum, type), { throwIfNoEntry: false }) !== undefined;
  }

  /** A fresh path in `tmp/` for building one object or ref. */
  tmpPath(tag: string): string {
    return join(this.path, 'tmp', `${tag}-${process.pid}-${++tmpCounter}`);
  }

  /** Rename a finished temp file to its object path, creating `objects/XX` when missing. */
  publish(tmp: string, csum: Checksum, type: ObjectType): void {
    renameIntoObjects(tmp, this.objectPath(csum, type));
  }

  /** publish() through the threadpool. */
  async publishAsync(tmp: string, csum: Checksum, type: ObjectType): Promise<void> {
    const dest = this.objectPath(csum, type);
    try {
      await rename(tmp, dest);
    } catch (err) {
      // As renameIntoObjects: ENOENT means mkdir -p and one more rename.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      mkdirSync(dirname(dest), { recursive: true });
      await rename(tmp, dest);
    }
  }

  /**
   * Write a metadata object (commit, dirtree, dirmeta): its name is SHA-256 of its bytes.
   * `below`: the dirtrees it names, when the caller knows them (else they are decoded from
   * `bytes` when materializeBelow needs them).
   */
  writeMetadata(type: Exclude<ObjectType, 'file'>, bytes: Uint8Array, below?: readonly Checksum[]): Checksum {
    const csum = sha256(bytes);
    if (this.hasObject(csum, type)) return csum;
    if (this.virtual.size > 0) this.materializeBelow(type, bytes, below);
    const tmp = this.tmpPath('meta');
    writeFileSync(tmp, bytes, { mode: 0o644 });
    this.publish(tmp, csum, type);
    this.known.add(csum + type);
    return csum;
  }

  readMetadata(type: Exclude<ObjectType, 'file'>, csum: Checksum): Buffer {
    // Held in memory: the same bytes as the object on disk, if it was written since.
    const held = type === 'dirtree' ? this.virtual.get(csum) : undefined;
    if (held) return Buffer.from(held);
    try {
      return readFileSync(this.objectPath(csum, type));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new LayerError('LAYER_STORE_CORRUPT', `${type} object ${csum} is missing from ${this.path}`, { cause: err });
      }
      throw new LayerError('LAYER_STORE', `reading ${type} ${csum}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * The dirtree `csum`, decoded once per process (TREES_KEPT). Shared by every caller: read it,
   * never change it. Throws as readMetadata and decodeDirTree do.
   */
  dirTree(csum: Checksum): DirTree {
    let t = this.trees.get(csum);
    if (t === undefined) {
      t = decodeDirTree(this.readMetadata('dirtree', csum), 'store');
      this.keepTree(csum, t);
    }
    return t;
  }

  /** Write the dirtree `t` (any entry order) and keep it decoded: a checkout of what was just committed reads it back. */
  writeDirTree(t: DirTree): Checksum {
    const sorted = sortedDirTree(t);
    const csum = this.writeMetadata('dirtree', writeDirTreeBytes(sorted), sorted.dirs.map(([, tree]) => tree));
    this.keepTree(csum, sorted);
    return csum;
  }

  private keepTree(csum: Checksum, t: DirTree): void {
    if (this.trees.size >= TREES_KEPT) this.trees.clear();
    this.trees.set(csum, t);
  }

  /** Hold the dirtree `bytes` in memory only (tree-prefix.ts); returns its checksum. */
  holdDirTree(bytes: Uint8Array): Checksum {
    const csum = sha256(bytes);
    if (!this.virtual.has(csum)) this.virtual.set(csum, bytes);
    return csum;
  }

  /**
   * Before a dirtree or commit object is written: the in-memory dirtrees it refers to are
   * written first (children before parents, as every writer here does), so nothing on disk
   * ever names an object that is not there.
   */
  private materializeBelow(type: Exclude<ObjectType, 'file'>, bytes: Uint8Array, below: readonly Checksum[] | undefined): void {
    const refs = below ?? (type === 'dirtree' ? decodeDirTree(bytes, 'store').dirs.map(([, tree]) => tree)
      : type === 'commit' ? [decodeCommit(bytes, 'store').rootTree] : []);
    for (const tree of refs) {
      const held = this.virtual.get(tree);
      if (held && !this.hasObject(tree, 'dirtree')) this.writeMetadata('dirtree', held);
    }
  }

  /** Forget cached knowledge of objects (after prune removed some). */
  protected forgetObjects(): void {
    this.known.clear();
    this.trees.clear();
  }

  /** syncfs(2) on the repository's filesystem (see syncFilesystemOf). */
  syncFilesystem(): void {
    if (this.fsync) syncFilesystemOf(this.path);
  }

  private refPath(ref: string): string {
    if (!isValidRef(ref)) throw new LayerError('LAYER_STORE', `invalid ref name '${ref}'`, { hint: 'refs match [\\w\\d][-._\\w\\d]* separated by /' });
    return join(this.path, 'refs', 'heads', ref);
  }

  /**
   * Point `ref` at `csum` (or delete it with `null`).
   * Crash safety: syncfs first so the objects are durable, then temp file + fsync + rename: a
   * reader sees the old or the new value, never a torn one. `synced`: the caller made the
   * objects durable itself (one syncFilesystem after writing many commits, then their refs).
   * The ref file itself is always fsynced: a ref renamed in unsynced would be found empty after
   * a power loss (delayed allocation), and an empty ref breaks every reader, `ostree fsck` too.
   */
  setRef(ref: string, csum: Checksum | null, opts: { synced?: boolean } = {}): void {
    const path = this.refPath(ref);
    if (csum === null) {
      try {
        unlinkSync(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new LayerError('LAYER_STORE', `deleting ref ${ref}`, { cause: err });
      }
      return;
    }
    if (!isChecksum(csum)) throw new LayerError('LAYER_STORE', `setRef ${ref}: '${csum}' is not a checksum`);
    if (!this.hasObject(csum, 'commit')) throw new LayerError('LAYER_STORE', `setRef ${ref}: commit ${csum} is not in ${this.path}`);
    if (!opts.synced) this.syncFilesystem();
    const tmp = this.tmpPath('ref');
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, `${csum}\n`);
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    mkdirSync(dirname(path), { recursive: true });
    renameSync(tmp, path);
  }

  /**
   * The first half of setRef for a caller about to syncfs anyway: `ref`'s new value is written
   * to a temp file, neither fsynced nor renamed. After the caller's syncFilesystem (which makes
   * the objects and this file durable), `publishRef` renames it in: a power loss can then lose
   * the rename, never leave an empty ref. A crash before it leaves a temp file prune removes.
   */
  stageRef(ref: string, csum: Checksum): StagedRef {
    const path = this.refPath(ref);
    if (!isChecksum(csum)) throw new LayerError('LAYER_STORE', `stageRef ${ref}: '${csum}' is not a checksum`);
    if (!this.hasObject(csum, 'commit')) throw new LayerError('LAYER_STORE', `stageRef ${ref}: commit ${csum} is not in ${this.path}`);
    const tmp = this.tmpPath('ref');
    writeFileSync(tmp, `${csum}\n`, { mode: 0o644 });
    return { path, tmp };
  }

  /** Rename a staged ref in (after the syncfs that covered its temp file). */
  publishRef(staged: StagedRef): void {
    mkdirSync(dirname(staged.path), { recursive: true });
    renameSync(staged.tmp, staged.path);
  }

  /** The commit `ref` points at, or undefined when there is no such ref. */
  readRef(ref: string): Checksum | undefined {
    return readRefFile(this.refPath(ref), ref, this.path);
  }

  /** All local refs (refs/heads), sorted by name. */
  listRefs(prefix = ''): Map<string, Checksum> {
    const out = new Map<string, Checksum>();
    const base = join(this.path, 'refs', 'heads');
    const visit = (rel: string): void => {
      const abs = rel ? join(base, rel) : base;
      for (const e of readdirSync(abs, { withFileTypes: true })) {
        const name = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) visit(name);
        else if (name.startsWith(prefix)) {
          const c = this.readRef(name);
          if (c) out.set(name, c);
        }
      }
    };
    // Only the directory the prefix names is walked: the package refs (layer/pkg/…, one
    // directory per package name) are most of a store's refs, and the deployment refs' cleanup
    // (twice per transaction) walked all of them.
    const slash = prefix.lastIndexOf('/');
    const start = slash > 0 ? prefix.slice(0, slash) : '';
    const dir = start ? join(base, start) : base;
    if (existsSync(dir) && statSync(dir).isDirectory()) visit(start);
    return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

/** A ref value written by stageRef, waiting for publishRef. */
export interface StagedRef {
  readonly path: string;
  readonly tmp: string;
}

/** The checksum a ref file holds (any repo mode); undefined when the ref does not exist. */
export function readRefFile(file: string, ref: string, repoPath: string): Checksum | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
    throw new LayerError('LAYER_STORE', `reading ref ${ref}`, { cause: err });
  }
  const csum = text.trim();
  if (!isChecksum(csum)) throw new LayerError('LAYER_STORE_CORRUPT', `ref ${ref} in ${repoPath} does not hold a checksum`);
  return csum;
}

/**
 * Rename a finished temp file to an object path, creating `objects/XX` when it is missing (any
 * mode). The rename comes first: in a used repository the directory is there, and a mkdir that
 * fails with EEXIST cost ~55 us each, once per directory and process (97 of them in an install).
 */
export function renameIntoObjects(tmp: string, dest: string): void {
  try {
    renameSync(tmp, dest);
  } catch (err) {
    // Whatever made the directory meanwhile (another write in flight, another process), a
    // missing temp file fails the second rename the same way: no bookkeeping of made directories.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(tmp, dest);
  }
}

/**
 * syncfs(2) on `path`'s filesystem: Node has no binding, coreutils `sync -f` does it. One call
 * makes a whole transaction's objects and checkouts durable. A failure is `code`'s error.
 */
export function syncFilesystemOf(path: string, code: ErrorCode = 'LAYER_STORE'): void {
  try {
    execFileSync('sync', ['-f', path], { stdio: 'ignore' });
  } catch (err) {
    throw new LayerError(code, `syncing ${path} failed`, { cause: err, hint: 'coreutils `sync` must be on PATH' });
  }
}
