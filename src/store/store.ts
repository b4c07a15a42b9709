/**
 * `Store`: layer's OSTree repository, the verbs other stages call. Revisions (`rev`) are a ref
 * name or a 64-hex commit checksum everywhere.
 */
import { existsSync, lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { LayerError, withContext } from '../errors.js';
import type { Variant } from './gvariant/index.js';
import { adoptContentFile, loadContentMeta, readXattrs, writeContentAsync, writeContentBuffer, writeContentStream } from './content.js';
import { commitDirectory, overlayDirectory, writeCommitObject, writeDirMetaObject, writeEntryObject, type CommitOptions, type MutableTree } from './commit-tree.js';
import { checkoutTree, checkoutUnionPart, checkoutUnionTrees, placeFile, unionFiles, unionPartPaths, type CheckoutOptions, type UnionOptions } from './checkout.js';
import { diffTrees, fsckRepo, pruneRepo, type FsckResult, type PruneOptions, type PruneResult, type TreeDiff } from './maintenance.js';
import { decodeCommit, isChecksum, type Checksum, type Commit, type FileMeta } from './objects.js';
import { Repo, type RepoMode, type RepoOptions } from './repo.js';
import { describe, lookup, readFileAt, walkRaw, type TreeEntry } from './tree.js';
import { unionTrees, type UnionDir } from './union.js';
import { expandedRoot, prefixMetadata, splitPrefix } from './tree-prefix.js';

export interface InitOptions extends RepoOptions {
  /** Default: `bare` when running as root (real owners, modes, xattrs), else `bare-user`. */
  mode?: RepoMode;
}

export interface CommitInfo extends Commit {
  checksum: Checksum;
}

/**
 * Commits read, kept by checksum (a commit never changes): an upgrade reads each package commit
 * in three steps (taken from the store, unioned for the base, unioned for the layered tree),
 * and a package commit holds its whole header, ~0.2 ms to read and decode. Bounded: a store's
 * package commits are a few hundred; past this many, the memory starts again.
 */
const COMMITS_KEPT = 1024;

export class Store extends Repo {
  private readonly commits = new Map<Checksum, CommitInfo>();

  /** Open an existing bare or bare-user repository. */
  static open(path: string, opts: RepoOptions = {}): Store {
    return new Store(path, Repo.readMode(path), opts.fsync ?? true);
  }

  /** Create a repository (or open it if one with the same mode is already there). */
  static init(path: string, opts: InitOptions = {}): Store {
    const mode = opts.mode ?? (process.getuid?.() === 0 ? 'bare' : 'bare-user');
    if (existsSync(`${path}/config`)) {
      const store = Store.open(path, opts);
      if (store.mode !== mode) throw new LayerError('LAYER_STORE', `${path} is already a ${store.mode} repository, not ${mode}`);
      return store;
    }
    if (existsSync(path) && readdirSync(path).length > 0) {
      throw new LayerError('LAYER_STORE', `cannot create a repository in ${path}: directory not empty`);
    }
    Repo.createLayout(path, mode);
    return new Store(path, mode, opts.fsync ?? true);
  }

  /** Store one content object (regular file or symlink) and return its checksum. */
  async writeContent(meta: FileMeta, content?: Uint8Array | AsyncIterable<Uint8Array>): Promise<Checksum> {
    if (content === undefined || content instanceof Uint8Array) return writeContentBuffer(this, meta, content);
    return writeContentStream(this, meta, content);
  }

  /**
   * Store one content object whose bytes are in memory with its system calls off the event
   * loop (content.ts writeContentAsync), for callers with many objects in flight (a pull).
   * With `expect`, nothing is written unless the checksum is `expect`. Returns the checksum.
   */
  writeContentAsync(meta: FileMeta, content: Uint8Array, expect?: Checksum): Promise<Checksum> {
    return writeContentAsync(this, meta, content, expect);
  }

  /**
   * Commit the directory tree at `dir`. Files hardlinked from this store's objects are not
   * re-read (see commit-tree.ts). Sets `opts.ref` afterwards when given.
   */
  async commitTree(dir: string, opts: CommitOptions = {}): Promise<Checksum> {
    const root = commitDirectory(this, dir, opts);
    return this.finishCommit(root, opts);
  }

  /**
   * Commit a tree assembled in memory (RPM import). With `rootBelow`, the top directories that
   * hold nothing but the next one are named in the metadata instead of written (tree-prefix.ts);
   * readCommit gives the whole tree back either way.
   */
  async commitMutableTree(tree: MutableTree, opts: CommitOptions & { rootBelow?: boolean } = {}): Promise<Checksum> {
    if (!opts.rootBelow) return this.finishCommit(tree.write(this), opts);
    const { root, prefix } = splitPrefix(this, tree);
    const md = opts.metadata ?? [];
    const metadata = [...(Array.isArray(md) ? md : Object.entries(md)) as Array<readonly [string, Variant]>, ...prefixMetadata(prefix)];
    return this.finishCommit(root.write(this), { ...opts, metadata });
  }

  /**
   * The union of several commits built from their tree objects (union.ts): what
   * `checkoutUnion` then `commitTree` would commit, without the checkout. Undefined on a file
   * conflict (the checkout reports it). Edit it, then `commitUnion` it.
   */
  unionOf(commits: readonly string[], opts: UnionOptions = {}): UnionDir | undefined {
    const roots = commits.map((rev) => {
      const c = this.readCommit(rev);
      return [c.rootTree, c.rootMeta] as const;
    });
    return unionTrees(this, roots, opts.replaceFiles ? { replaceFiles: true } : {});
  }

  /**
   * Check out the files of a union `want` accepts (with the directories on their way and those
   * `anchor` names) into `dir`, by hardlinks (bare mode); returns the paths placed. Change the
   * tree, then `overlayTree` it onto the union and `commitUnion` that.
   */
  checkoutUnionPart(root: UnionDir, dir: string, want: (path: string) => boolean, anchor: (path: string) => boolean): Set<string> {
    if (this.mode !== 'bare') throw new LayerError('LAYER_INTERNAL', 'assertion failed: a partial checkout needs a bare repository');
    return checkoutUnionPart(this, root, dir, want, anchor);
  }

  /** The paths `checkoutUnionPart` would place, without placing anything. */
  unionPartPaths(root: UnionDir, want: (path: string) => boolean, anchor: (path: string) => boolean): Set<string> {
    return unionPartPaths(this, root, want, anchor);
  }

  /** Every file of a union by its path in the tree, with its content checksum. */
  unionFiles(root: UnionDir): Map<string, Checksum> {
    return unionFiles(this, root);
  }

  /** The target of a symlink content object, or undefined when the object is not a symlink. */
  symlinkTarget(csum: Checksum): string | undefined {
    if (this.mode !== 'bare') return loadContentMeta(this, csum).target;
    const path = this.objectPath(csum, 'file');
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : undefined;
  }

  /** Lay `dir`, partly checked out from `root` (`placed`), over `root` (commit-tree.ts overlayDirectory). */
  overlayTree(root: UnionDir, dir: string, placed: ReadonlySet<string>): void {
    overlayDirectory(this, root, dir, placed);
  }

  /** Commit a union from `unionOf` (its untouched directories' objects are reused). */
  async commitUnion(root: UnionDir, opts: CommitOptions = {}): Promise<Checksum> {
    return this.finishCommit(root.write(this), opts);
  }

  /**
   * Store the file or symlink at `path` as a content object, as `commitTree` of a directory
   * holding it would (with `owner`, as that owner). Returns its checksum.
   */
  writeEntry(path: string, owner?: { uid: number; gid: number }): Checksum {
    return writeEntryObject(this, path, lstatSync(path), owner);
  }

  /** Store the metadata of the directory at `path` as a dirmeta object, as committing it would; returns its checksum. */
  writeDirMeta(path: string): Checksum {
    return writeDirMetaObject(this, path, lstatSync(path));
  }

  /** Place content object `csum` at `dest`, as a checkout places a file (a hardlink in bare mode). */
  checkoutFile(csum: Checksum, dest: string): void {
    placeFile(this, csum, dest, true);
  }

  /** writeEntry for a regular file written at a tmpPath() of this store: renamed in, not copied. */
  adoptEntry(tmp: string, owner?: { uid: number; gid: number }): Checksum {
    const st = lstatSync(tmp);
    return adoptContentFile(this, tmp, { uid: owner?.uid ?? st.uid, gid: owner?.gid ?? st.gid, mode: st.mode, xattrs: readXattrs(tmp) });
  }

  private finishCommit(root: [Checksum, Checksum], opts: CommitOptions): Checksum {
    const csum = writeCommitObject(this, root, opts);
    if (opts.ref) this.setRef(opts.ref, csum);
    return csum;
  }

  /** A commit checksum for a ref name or checksum; LAYER_STORE when the ref does not exist. */
  resolveRef(rev: string): Checksum {
    if (isChecksum(rev)) return rev;
    const c = this.readRef(rev);
    if (!c) throw new LayerError('LAYER_STORE', `no ref '${rev}' in ${this.path}`);
    return c;
  }

  readCommit(rev: string): CommitInfo {
    const checksum = this.resolveRef(rev);
    const known = this.commits.get(checksum);
    if (known) return known;
    try {
      const c = decodeCommit(this.readMetadata('commit', checksum), 'store');
      // A commit rooted below `/` is read as its whole tree (tree-prefix.ts).
      const [rootTree, rootMeta] = expandedRoot(this, c);
      const info: CommitInfo = Object.freeze({ checksum, ...c, rootTree, rootMeta });
      if (this.commits.size >= COMMITS_KEPT) this.commits.clear();
      this.commits.set(checksum, info);
      return info;
    } catch (err) {
      throw withContext(`reading commit ${checksum}`, err);
    }
  }

  /** Every entry of a commit's tree, pre-order (directory, its files, its subdirectories), by name. */
  *walk(rev: string): Generator<TreeEntry> {
    const c = this.readCommit(rev);
    for (const node of walkRaw(this, c.rootTree, c.rootMeta)) yield describe(this, node);
  }

  /**
   * Content checksum → tree paths of a commit's files and symlinks, from its dirtrees alone
   * (the content objects are not opened: this is how fsck finds who owns a missing one).
   */
  contentOf(rev: string): Map<Checksum, string[]> {
    const c = this.readCommit(rev);
    const out = new Map<Checksum, string[]>();
    for (const node of walkRaw(this, c.rootTree, c.rootMeta)) {
      if (node.kind !== 'file') continue;
      const list = out.get(node.csum);
      if (list) list.push(node.path);
      else out.set(node.csum, [node.path]);
    }
    return out;
  }

  /** Whether a content object is in the repo. */
  hasContent(csum: Checksum): boolean {
    return this.hasObject(csum, 'file');
  }

  /** The entry at `path`, or undefined. */
  stat(rev: string, path: string): TreeEntry | undefined {
    const c = this.readCommit(rev);
    const node = lookup(this, c.rootTree, c.rootMeta, path);
    return node && describe(this, node);
  }

  /** Bytes of the regular file at `path` in the commit. */
  readFile(rev: string, path: string): Buffer {
    const c = this.readCommit(rev);
    return readFileAt(this, c.rootTree, c.rootMeta, path, `commit ${c.checksum}`);
  }

  /** Check out a commit into `dir` (absent or empty); hardlinks by default. */
  async checkout(rev: string, dir: string, opts: CheckoutOptions = {}): Promise<void> {
    const c = this.readCommit(rev);
    try {
      checkoutTree(this, [c.rootTree, c.rootMeta], dir, opts);
    } catch (err) {
      throw withContext(`checking out ${c.checksum} to ${dir}`, err);
    }
  }

  /**
   * Check out several commits layered in order into `dir`. The same content at the same path
   * is fine; different content is a FileConflictError ('LAYER_FILE_CONFLICT') naming both
   * owners and the path, unless `replaceFiles` (then the later layer wins). Conflicts are
   * found before anything is written.
   */
  async checkoutUnion(layers: ReadonlyArray<{ commit: string; owner: string }>, dir: string, opts: UnionOptions = {}): Promise<void> {
    const trees = layers.map((l) => {
      const c = this.readCommit(l.commit);
      return { root: [c.rootTree, c.rootMeta] as [Checksum, Checksum], owner: l.owner };
    });
    checkoutUnionTrees(this, trees, dir, opts);
  }

  diff(a: string, b: string): TreeDiff {
    const ca = this.readCommit(a);
    const cb = this.readCommit(b);
    return diffTrees(this, [ca.rootTree, ca.rootMeta], [cb.rootTree, cb.rootMeta]);
  }

  /** Re-hash every object; report corrupt, invalid and missing ones as records. */
  fsck(): FsckResult {
    return fsckRepo(this);
  }

  /** Delete objects no kept ref reaches, and stale temp files. See PruneOptions. */
  prune(opts: PruneOptions = {}): PruneResult {
    const r = pruneRepo(this, opts);
    this.forgetObjects();
    this.commits.clear();
    return r;
  }
}

/** The value of commit metadata key `key`, or undefined. */
export function commitMetadata(commit: Commit, key: string): Variant | undefined {
  return commit.metadata.find(([k]) => k === key)?.[1];
}
