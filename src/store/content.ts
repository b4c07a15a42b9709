/**
 * Content ("file") objects: writing and loading them in each repository mode (formats.md
 * §2.4.3). The checksum is always over the canonical stream of §2.4.1, whatever the mode.
 *
 * | mode | the `.file` | uid/gid/mode/xattrs |
 * | --- | --- | --- |
 * | bare | the file itself (real owner, mode, xattrs); symlinks are symlinks | the inode |
 * | bare-user | writer-owned, mode `(mode & 0775) \| 0400`; a symlink is a 0644 file holding target + NUL | `user.ostreemeta` xattr |
 *
 * Crash safety: built under `tmp/`, metadata applied, mtime set to 0, then renamed into place;
 * an interrupted write leaves only a stray temp file.
 */
import {
  closeSync, fchmodSync, fchownSync, futimesSync, lchownSync, lstatSync, lutimesSync, open, openSync,
  readFileSync, readSync, readlinkSync, symlinkSync, unlinkSync, writeSync,
} from 'node:fs';
import { createHash, type Hash } from 'node:crypto';
import { symlink } from 'node:fs/promises';
import * as xattr from 'fs-xattr';
import { LayerError } from '../errors.js';
import {
  S_IFLNK, S_IFMT, S_IFREG, contentChecksum, decodeBareUserMeta, encodeBareUserMeta, fileHeader,
  type Checksum, type FileMeta, type Xattrs,
} from './objects.js';
import type { Repo } from './repo.js';

const OSTREEMETA = 'user.ostreemeta';
const BIG = 1 << 20;

export interface LoadedMeta extends FileMeta {
  /** Content size in bytes (0 for symlinks). */
  size: number;
}

function isLink(meta: FileMeta): boolean {
  return (meta.mode & S_IFMT) === S_IFLNK;
}

export function checkFileMeta(meta: FileMeta, what: string): void {
  const fmt = meta.mode & S_IFMT;
  if ((fmt !== S_IFREG && fmt !== S_IFLNK) || (meta.mode & ~(S_IFMT | 0o7777)) !== 0) {
    throw new LayerError('LAYER_STORE', `${what}: mode 0${meta.mode.toString(8)} cannot be stored (only regular files and symlinks are content objects)`);
  }
  if (fmt === S_IFLNK && !meta.target) throw new LayerError('LAYER_STORE', `${what}: symlink without a target`);
}

/** Apply owner/mode/mtime on an open temp file, as the mode requires. */
function finishFd(repo: Repo, fd: number, meta: FileMeta): void {
  if (repo.mode === 'bare') {
    fchownSync(fd, meta.uid, meta.gid);
    // chmod after chown: chown clears setuid/setgid bits.
    fchmodSync(fd, meta.mode & 0o7777);
  } else {
    fchmodSync(fd, isLink(meta) ? 0o644 : (meta.mode & 0o775) | 0o400);
  }
  futimesSync(fd, 0, 0);
}

/** xattrs go on after chown, which clears security.capability. */
function finishXattrs(repo: Repo, tmp: string, meta: FileMeta): void {
  if (repo.mode === 'bare-user') {
    xattr.setAttributeSync(tmp, OSTREEMETA, encodeBareUserMeta(meta));
    return;
  }
  for (const [name, value] of meta.xattrs) xattr.setAttributeSync(tmp, name, Buffer.from(value));
}

function publishOrDrop(repo: Repo, tmp: string, csum: Checksum): void {
  if (repo.hasObject(csum, 'file')) unlinkSync(tmp);
  else repo.publish(tmp, csum, 'file');
}

/** A bare repo's symlink object, just created at `tmp`: its owner and the objects' mtime. */
function finishLink(tmp: string, meta: FileMeta): void {
  lchownSync(tmp, meta.uid, meta.gid);
  lutimesSync(tmp, 0, 0);
}

/**
 * The temp file of a content object, opened as `fd` (closed here): its body (a regular file's
 * bytes, or a bare-user symlink's target), then mode, owner, times and xattrs. Shared by the
 * sync and the async writer, which differ only in how they create the file and rename it in.
 */
function fillFile(repo: Repo, tmp: string, fd: number, meta: FileMeta, content: Uint8Array): void {
  try {
    const body = isLink(meta) ? Buffer.from(`${meta.target}\0`) : content;
    let off = 0;
    while (off < body.length) off += writeSync(fd, body, off);
    finishFd(repo, fd, meta);
  } finally {
    closeSync(fd);
  }
  finishXattrs(repo, tmp, meta);
}

/** A bare repo stores a symlink as a symlink, which cannot carry xattrs here. */
function bareLink(repo: Repo, meta: FileMeta): boolean {
  if (!isLink(meta) || repo.mode !== 'bare') return false;
  if (meta.xattrs.length > 0) throw new LayerError('LAYER_STORE', `symlink → ${meta.target}: xattrs on symlinks are not supported`);
  return true;
}

/** Write a content object whose bytes are in memory. Returns its checksum. */
export function writeContentBuffer(repo: Repo, meta: FileMeta, content: Uint8Array = new Uint8Array(0)): Checksum {
  checkFileMeta(meta, 'content object');
  const csum = contentChecksum(meta, content);
  if (repo.hasObject(csum, 'file')) return csum;
  const tmp = repo.tmpPath('file');
  if (bareLink(repo, meta)) {
    symlinkSync(meta.target as string, tmp);
    finishLink(tmp, meta);
  } else {
    fillFile(repo, tmp, openSync(tmp, 'wx', 0o600), meta, content);
  }
  repo.publish(tmp, csum, 'file');
  return csum;
}

/**
 * writeContentBuffer for callers with many writes in flight (a pull): the two calls that take
 * a directory lock and can wait on the kernel (creating the temp file: `open` with O_CREAT cost
 * ~1 ms of kernel time per object on the shared test disk; the rename into objects/) go through
 * libuv's threadpool, so responses keep being read meanwhile. The calls in between (write into
 * the page cache, fchmod, futimes, close, setxattr: ~10 µs each) run on this thread: each
 * threadpool round trip costs the event loop ~25 µs, more than the call itself. Writes nothing
 * when `expect` is given and the content's checksum is not it (the caller reports the mismatch);
 * returns the checksum.
 */
export async function writeContentAsync(repo: Repo, meta: FileMeta, content: Uint8Array, expect?: Checksum): Promise<Checksum> {
  checkFileMeta(meta, 'content object');
  const csum = contentChecksum(meta, content);
  if ((expect !== undefined && csum !== expect) || repo.hasObject(csum, 'file')) return csum;
  const tmp = repo.tmpPath('file');
  if (bareLink(repo, meta)) {
    await symlink(meta.target as string, tmp);
    finishLink(tmp, meta);
  } else {
    fillFile(repo, tmp, await openFd(tmp), meta, content);
  }
  await repo.publishAsync(tmp, csum, 'file');
  return csum;
}

/** A new file (O_EXCL, 0600) opened through the threadpool: a plain fd, no FileHandle. */
function openFd(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'wx', 0o600, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** Write a regular file's content streamed from `chunks`, hashing as it goes. */
export async function writeContentStream(repo: Repo, meta: FileMeta, chunks: AsyncIterable<Uint8Array>): Promise<Checksum> {
  checkFileMeta(meta, 'content object');
  if (isLink(meta)) return writeContentBuffer(repo, meta);
  const h = createHash('sha256').update(fileHeader(meta));
  const tmp = repo.tmpPath('file');
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    for await (const chunk of chunks) {
      h.update(chunk);
      let off = 0;
      while (off < chunk.length) off += writeSync(fd, chunk, off);
    }
  } catch (err) {
    dropTemp(tmp, fd);
    throw err;
  }
  return settleTemp(repo, tmp, fd, meta, h);
}

/** A temp object given up: its fd closed, the file removed. */
function dropTemp(tmp: string, fd: number): void {
  closeSync(fd);
  unlinkSync(tmp);
}

/**
 * The end of a temp content object written (or read) through `fd`: the object's metadata, then
 * renamed in under the checksum `h` gives, or dropped when the store has it already. The temp
 * file is removed on a failure.
 */
function settleTemp(repo: Repo, tmp: string, fd: number, meta: FileMeta, h: Hash): Checksum {
  try {
    finishFd(repo, fd, meta);
  } catch (err) {
    dropTemp(tmp, fd);
    throw err;
  }
  closeSync(fd);
  const csum = h.digest('hex') as Checksum;
  if (!repo.hasObject(csum, 'file')) finishXattrs(repo, tmp, meta);
  publishOrDrop(repo, tmp, csum);
  return csum;
}

/** Write the regular file at `src` (of `size` bytes) as a content object with `meta`. */
export function writeContentFromPath(repo: Repo, src: string, meta: FileMeta, size: number): Checksum {
  if (size <= BIG) return writeContentBuffer(repo, meta, readFileSync(src));
  const h = createHash('sha256').update(fileHeader(meta));
  const tmp = repo.tmpPath('file');
  const buf = Buffer.allocUnsafe(BIG);
  const inFd = openSync(src, 'r');
  const outFd = openSync(tmp, 'wx', 0o600);
  try {
    for (;;) {
      const n = readSync(inFd, buf, 0, BIG, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      let off = 0;
      while (off < n) off += writeSync(outFd, buf, off, n - off);
    }
  } catch (err) {
    dropTemp(tmp, outFd);
    throw err;
  } finally {
    closeSync(inFd);
  }
  return settleTemp(repo, tmp, outFd, meta, h);
}

/**
 * The regular file the caller wrote at `tmp` (a path from repo.tmpPath) becomes a content object
 * with `meta`: hashed in place, given the object's owner, mode and times, and renamed in. What
 * writeContentFromPath stores for the same file, without a second file (a new inode: ~0.4 ms on
 * the bench disk) and a copy. `tmp` is gone afterwards either way.
 */
export function adoptContentFile(repo: Repo, tmp: string, meta: FileMeta): Checksum {
  checkFileMeta(meta, 'content object');
  if (isLink(meta)) throw new LayerError('LAYER_STORE', `${tmp}: only regular files are adopted`);
  const h = createHash('sha256').update(fileHeader(meta));
  const buf = Buffer.allocUnsafe(BIG);
  const fd = openSync(tmp, 'r+');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, BIG, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } catch (err) {
    dropTemp(tmp, fd);
    throw err;
  }
  return settleTemp(repo, tmp, fd, meta, h);
}

/** Read every xattr of a path (bare mode objects, trees being committed). Symlinks: none. */
export function readXattrs(path: string): Xattrs {
  const names = xattr.listAttributesSync(path);
  if (names.length === 0) return [];
  return names.map((n: string) => [n, new Uint8Array(xattr.getAttributeSync(path, n))] as const);
}

/** Load uid/gid/mode/target/xattrs/size of a stored content object. */
export function loadContentMeta(repo: Repo, csum: Checksum): LoadedMeta {
  const path = repo.objectPath(csum, 'file');
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    throw new LayerError('LAYER_STORE_CORRUPT', `content object ${csum} is missing from ${repo.path}`, { cause: err });
  }
  if (repo.mode === 'bare') {
    if (st.isSymbolicLink()) return { uid: st.uid, gid: st.gid, mode: st.mode, target: readlinkSync(path), xattrs: [], size: 0 };
    return { uid: st.uid, gid: st.gid, mode: st.mode, xattrs: readXattrs(path), size: st.size };
  }
  let raw: Buffer;
  try {
    raw = xattr.getAttributeSync(path, OSTREEMETA);
  } catch (err) {
    throw new LayerError('LAYER_STORE_CORRUPT', `content object ${csum} has no user.ostreemeta xattr`, { cause: err });
  }
  const meta = decodeBareUserMeta(raw);
  if ((meta.mode & S_IFMT) === S_IFLNK) {
    const body = readFileSync(path);
    if (body[body.length - 1] !== 0) throw new LayerError('LAYER_STORE_CORRUPT', `bare-user symlink object ${csum} lacks its NUL`);
    return { ...meta, target: body.subarray(0, body.length - 1).toString('utf8'), size: 0 };
  }
  return { ...meta, size: st.size };
}

/** Recompute a content object's checksum from what is on disk (fsck). */
export function recomputeContent(repo: Repo, csum: Checksum): Checksum {
  const meta = loadContentMeta(repo, csum);
  const h = createHash('sha256').update(fileHeader(meta));
  if ((meta.mode & S_IFMT) === S_IFREG) h.update(readFileSync(repo.objectPath(csum, 'file')));
  return h.digest('hex') as Checksum;
}
