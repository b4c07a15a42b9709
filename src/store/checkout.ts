/**
 * Checking commits out to directories: one commit (`checkout`) or several layered on each
 * other (`checkoutUnion`), by hardlinks when the repository mode allows it.
 *
 * In bare mode a hardlink gives the committed owner, mode and xattrs for free: the object is
 * the file. In bare-user mode objects are writer-owned with `user.ostreemeta`, so hardlinked
 * files carry the object's on-disk mode (like `ostree checkout -U`) and symlinks are always
 * recreated; a copy checkout (`hardlink: false`) applies the committed metadata instead.
 *
 * Crash safety: a checkout is not atomic. It writes into `dir`, which must be absent or empty;
 * after a failure or crash the partial directory is the caller's to remove (the sysroot stage
 * checks out into a staging directory and renames it).
 */
import {
  chmodSync, chownSync, copyFileSync, existsSync, lchownSync, linkSync, lutimesSync, mkdirSync,
  readdirSync, symlinkSync, utimesSync,
} from 'node:fs';
import * as xattr from 'fs-xattr';
import { LayerError, withContext } from '../errors.js';
import { loadContentMeta } from './content.js';
import { S_IFLNK, S_IFMT, decodeDirMeta, type Checksum, type DirMeta } from './objects.js';
import type { Repo } from './repo.js';
import { readDirTree, walkRaw, type RawNode } from './tree.js';
import { readable, type UnionDir } from './union.js';

export interface CheckoutOptions {
  /** Hardlink files from the object store instead of copying (default true). */
  hardlink?: boolean;
}

export interface UnionOptions extends CheckoutOptions {
  /** A later layer's different file at the same path replaces the earlier one instead of failing. */
  replaceFiles?: boolean;
}

/** Two layers ship different content at one path. */
export interface FileConflict {
  path: string;
  /** The owner already holding the path, then the one that also wants it. */
  owners: [string, string];
}

export class FileConflictError extends LayerError {
  constructor(readonly conflict: FileConflict) {
    super('LAYER_FILE_CONFLICT', `file conflict at /${conflict.path}: ${conflict.owners[0]} and ${conflict.owners[1]} both provide it with different content`, {
      hint: 'remove one of the packages, or allow replacing files',
    });
  }
}

const isRoot = process.getuid?.() === 0;

function prepareDest(dir: string): void {
  if (existsSync(dir)) {
    if (readdirSync(dir).length > 0) throw new LayerError('LAYER_STORE', `checkout destination ${dir} exists and is not empty`);
  } else {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
}

/** Create one file (regular or symlink) at `dest` from content object `csum`. */
export function placeFile(repo: Repo, csum: Checksum, dest: string, hardlink: boolean): void {
  try {
    placeObject(repo, csum, dest, hardlink);
  } catch (err) {
    const obj = repo.objectPath(csum, 'file');
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(obj)) {
      throw new LayerError('LAYER_STORE_CORRUPT', `content object ${csum} is missing from ${repo.path} (${obj}, needed for ${dest})`, {
        cause: err, hint: 'layer fsck --repair re-imports the packages that own missing objects',
      });
    }
    throw err;
  }
}

function placeObject(repo: Repo, csum: Checksum, dest: string, hardlink: boolean): void {
  const obj = repo.objectPath(csum, 'file');
  if (hardlink && repo.mode === 'bare') {
    try {
      linkSync(obj, dest);
      repo.linked.add(csum);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another filesystem, or the inode is at its link limit: copy instead.
      if (code !== 'EXDEV' && code !== 'EMLINK') throw err;
    }
  }
  const meta = loadContentMeta(repo, csum);
  if ((meta.mode & S_IFMT) === S_IFLNK) {
    symlinkSync(meta.target as string, dest);
    if (isRoot) lchownSync(dest, meta.uid, meta.gid);
    lutimesSync(dest, 0, 0);
    return;
  }
  if (hardlink) {
    linkSync(obj, dest);
    repo.linked.add(csum);
    return;
  }
  copyFileSync(obj, dest);
  if (isRoot) chownSync(dest, meta.uid, meta.gid);
  chmodSync(dest, meta.mode & 0o7777);
  for (const [name, value] of meta.xattrs) xattr.setAttributeSync(dest, name, Buffer.from(value));
  utimesSync(dest, 0, 0);
}

/** Applies dirmetas to created directories, after their children (the mode may forbid writes). */
class DirFinisher {
  private readonly pending: Array<[string, Checksum]> = [];
  private readonly metas = new Map<Checksum, DirMeta>();
  constructor(private readonly repo: Repo) {}

  add(dest: string, meta: Checksum): void {
    this.pending.push([dest, meta]);
  }

  finish(): void {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const [dest, csum] = this.pending[i] as [string, Checksum];
      let m = this.metas.get(csum);
      if (!m) {
        m = decodeDirMeta(this.repo.readMetadata('dirmeta', csum), 'store');
        this.metas.set(csum, m);
      }
      if (isRoot) chownSync(dest, m.uid, m.gid);
      chmodSync(dest, m.mode & 0o7777);
      for (const [name, value] of m.xattrs) xattr.setAttributeSync(dest, name, Buffer.from(value));
    }
  }
}

function place(repo: Repo, csum: Checksum, dest: string, hardlink: boolean, rel: string): void {
  try {
    placeFile(repo, csum, dest, hardlink);
  } catch (err) {
    throw withContext(`checking out /${rel}`, err);
  }
}

function materialize(repo: Repo, nodes: Iterable<RawNode>, dir: string, hardlink: boolean): void {
  const dirs = new DirFinisher(repo);
  for (const node of nodes) {
    const dest = node.path === '' ? dir : `${dir}/${node.path}`;
    if (node.kind === 'file') {
      place(repo, node.csum, dest, hardlink, node.path);
      continue;
    }
    if (node.path !== '') mkdirSync(dest, { mode: 0o700 });
    dirs.add(dest, node.meta);
  }
  dirs.finish();
}

/** Check out the tree of a commit into `dir` (absent or empty). */
export function checkoutTree(repo: Repo, root: [Checksum, Checksum], dir: string, opts: CheckoutOptions = {}): void {
  prepareDest(dir);
  const hardlink = opts.hardlink ?? true;
  const dirs = new DirFinisher(repo);
  // Direct recursion rather than walkRaw: this is the hot loop of every deployment.
  const visit = (tree: Checksum, meta: Checksum, dest: string, rel: string): void => {
    dirs.add(dest, meta);
    const t = readDirTree(repo, tree);
    for (const [name, csum] of t.files) place(repo, csum, `${dest}/${name}`, hardlink, rel + name);
    for (const [name, sub, subMeta] of t.dirs) {
      mkdirSync(`${dest}/${name}`, { mode: 0o700 });
      visit(sub, subMeta, `${dest}/${name}`, `${rel}${name}/`);
    }
  };
  visit(root[0], root[1], dir, '');
  dirs.finish();
}

export interface UnionLayer {
  root: [Checksum, Checksum];
  owner: string;
}

/**
 * Layer several trees into `dir`. The plan is built and checked in memory first, so a conflict
 * is reported before anything is written. The first layer's directory metadata wins.
 */
export function checkoutUnionTrees(repo: Repo, layers: UnionLayer[], dir: string, opts: UnionOptions = {}): void {
  const plan = new Map<string, RawNode & { owner: string }>();
  for (const layer of layers) {
    for (const node of walkRaw(repo, layer.root[0], layer.root[1])) {
      const prev = plan.get(node.path);
      if (!prev) {
        plan.set(node.path, { ...node, owner: layer.owner });
        continue;
      }
      if (prev.kind === 'dir' && node.kind === 'dir') continue;
      if (prev.kind === 'file' && node.kind === 'file') {
        if (prev.csum === node.csum) continue;
        if (opts.replaceFiles) {
          plan.set(node.path, { ...node, owner: layer.owner });
          continue;
        }
      }
      throw new FileConflictError({ path: node.path, owners: [prev.owner, layer.owner] });
    }
  }
  prepareDest(dir);
  materialize(repo, plan.values(), dir, opts.hardlink ?? true);
}

/** Every file of a union (union.ts) by its path in the tree ('usr/lib/x/libz.so.1'), untouched directories read from their dirtrees. */
export function unionFiles(repo: Repo, root: UnionDir): Map<string, Checksum> {
  const out = new Map<string, Checksum>();
  const visit = (d: UnionDir, rel: string): void => {
    for (const [name, csum] of d.files) out.set(rel + name, csum);
    for (const [name, sub] of d.dirs) visit(readable(repo, sub), `${rel}${name}/`);
  };
  visit(root, '');
  return out;
}

type PartNode = { path: string; kind: 'dir'; meta: Checksum } | { path: string; kind: 'file'; csum: Checksum };

/** What checkoutUnionPart places, in checkout order (each directory before what it holds). */
function unionPartNodes(repo: Repo, root: UnionDir, want: (path: string) => boolean, anchor: (path: string) => boolean): PartNode[] {
  // Nodes of one directory (the directory first), or none when nothing in it is wanted.
  const visit = (d: UnionDir, rel: string): PartNode[] => {
    const out: PartNode[] = [];
    for (const [name, csum] of d.files) if (want(rel + name)) out.push({ path: rel + name, kind: 'file', csum });
    for (const [name, sub] of d.dirs) out.push(...visit(readable(repo, sub), `${rel}${name}/`));
    const self = rel.slice(0, -1);
    return out.length > 0 || rel === '' || anchor(self) ? [{ path: self, kind: 'dir', meta: d.meta }, ...out] : [];
  };
  return visit(root, '');
}

/** The paths checkoutUnionPart would place, without placing anything. */
export function unionPartPaths(
  repo: Repo, root: UnionDir, want: (path: string) => boolean, anchor: (path: string) => boolean,
): Set<string> {
  return new Set(unionPartNodes(repo, root, want, anchor).map((n) => n.path));
}

/**
 * Check out part of a union (union.ts): the files `want` accepts (by path), the directories on
 * the way to them, and the directories `anchor` names (each with its committed metadata, as a
 * full checkout gives it). Returns every path placed ('' is the root): what `overlayDirectory`
 * needs to tell an entry deleted in the tree from one never checked out. Bare mode only
 * (hardlinks; the caller checks).
 */
export function checkoutUnionPart(
  repo: Repo, root: UnionDir, dir: string, want: (path: string) => boolean, anchor: (path: string) => boolean,
): Set<string> {
  const nodes = unionPartNodes(repo, root, want, anchor);
  prepareDest(dir);
  const placedDirs = new DirFinisher(repo);
  for (const node of nodes) {
    const dest = node.path === '' ? dir : `${dir}/${node.path}`;
    if (node.kind === 'file') place(repo, node.csum, dest, true, node.path);
    else {
      if (node.path !== '') mkdirSync(dest, { mode: 0o700 });
      placedDirs.add(dest, node.meta);
    }
  }
  placedDirs.finish();
  return new Set(nodes.map((n) => n.path));
}
