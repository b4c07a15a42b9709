/**
 * OSTree repositories in **archive** mode (`archive-z2`, formats.md §2.1, §2.4.3): what a fleet
 * serves as plain static files. Content objects are `.filez` files: BE u32 length, 4 zero
 * bytes, the GVariant `(tuuuusa(ayay))` (size, uid, gid, mode, rdev = 0, symlink target,
 * xattrs; integers big-endian), then the content as a raw deflate stream (no zlib header).
 * Metadata objects (commit, dirtree, dirmeta) are byte-identical to the bare modes', so a commit
 * has the same checksum in every mode: `exportCommit` copies a commit of a bare / bare-user
 * `Store` here object by object, re-encoding only content objects, and checks each one's
 * checksum on the way.
 *
 * Crash safety: every object and ref goes to `tmp/` and is renamed into place; objects are
 * written children first (content, dirmeta, dirtree, then the commit), then the filesystem is
 * synced, then the ref is written. An interrupted export leaves stray temp files and unreferenced
 * objects, never a ref naming an incomplete commit. A second export of the same commit writes
 * only what is missing.
 *
 * Locking: none. One writer at a time (the compose server); readers (a web server, `ostree
 * pull`) need no lock because objects are immutable and refs are replaced atomically.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { LayerError } from '../errors.js';
import { deserialize, serialize, type GValue } from './gvariant/index.js';
import { loadContentMeta } from './content.js';
import {
  S_IFLNK, S_IFMT, S_IFREG, be32, decodeCommit, decodeDirTree, decodeXattrs, encodeXattrs, fileHeader, sha256,
  type Checksum, type Commit, type FileMeta, type ObjectType,
} from './objects.js';
import { isValidRef, readRefFile, renameIntoObjects, syncFilesystemOf, type Repo } from './repo.js';

/** Object kinds of an archive repo: the four of every mode plus detached commit metadata. */
export type ArchiveObjectType = ObjectType | 'commitmeta';

const EXT: Record<ArchiveObjectType, string> = {
  file: 'filez', dirtree: 'dirtree', dirmeta: 'dirmeta', commit: 'commit', commitmeta: 'commitmeta',
};

/** What `ostree init --mode=archive` (2022.7) writes, byte for byte. */
const CONFIG = '[core]\nrepo_version=1\nmode=archive-z2\nindexed-deltas=true\n';

const FILEZ_HEADER = '(tuuuusa(ayay))';

let tmpCounter = 0;

function be64(n: bigint): bigint {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b.readBigUInt64LE();
}

/** The `.filez` bytes of a content object (formats.md §2.4.3). Symlinks: size 0, no body. */
export function encodeFilez(meta: FileMeta, content: Uint8Array = new Uint8Array(0)): Buffer {
  const link = (meta.mode & S_IFMT) === S_IFLNK;
  const h = serialize(FILEZ_HEADER, [
    be64(BigInt(link ? 0 : content.length)), be32(meta.uid), be32(meta.gid), be32(meta.mode), 0,
    link ? (meta.target ?? '') : '', encodeXattrs(meta.xattrs),
  ]);
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32BE(h.length, 0);
  // zlib's default level (6), as ostree's GZlibCompressor uses.
  const body = link ? Buffer.alloc(0) : deflateRawSync(content, { level: 6 });
  return Buffer.concat([prefix, h, body]);
}

/** Decode a `.filez`: the metadata and the inflated content (`maxSize` bounds the inflation). */
export function decodeFilez(bytes: Uint8Array, maxSize = 1 << 30): { meta: FileMeta; content: Buffer } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bad = (what: string, cause?: unknown) => new LayerError('LAYER_STORE_CORRUPT', `.filez object: ${what}`, cause ? { cause } : {});
  if (buf.length < 8) throw bad('shorter than its 8-byte prefix');
  const len = buf.readUInt32BE(0);
  if (buf.readUInt32BE(4) !== 0 || 8 + len > buf.length) throw bad('bad header length');
  let fields: GValue[];
  try {
    fields = deserialize(FILEZ_HEADER, buf.subarray(8, 8 + len)) as GValue[];
  } catch (err) {
    throw bad(`header is not a ${FILEZ_HEADER}`, err);
  }
  const [size, uid, gid, mode, , target, xattrs] = fields as [bigint, number, number, number, number, string, GValue];
  const meta: FileMeta = { uid: be32(uid), gid: be32(gid), mode: be32(mode), xattrs: decodeXattrs(xattrs) };
  const fmt = meta.mode & S_IFMT;
  if ((fmt !== S_IFREG && fmt !== S_IFLNK) || (meta.mode & ~(S_IFMT | 0o7777)) !== 0) throw bad(`invalid mode 0${meta.mode.toString(8)}`);
  const expect = be64(size);
  if (fmt === S_IFLNK) {
    if (!target) throw bad('symlink without a target');
    return { meta: { ...meta, target }, content: Buffer.alloc(0) };
  }
  if (expect > BigInt(maxSize)) throw bad(`content of ${expect} bytes is over the ${maxSize}-byte limit`);
  let content: Buffer;
  try {
    content = inflateRawSync(buf.subarray(8 + len), { maxOutputLength: Math.max(1, Number(expect)) });
  } catch (err) {
    throw bad('content does not inflate to its recorded size', err);
  }
  if (BigInt(content.length) !== expect) throw bad(`content is ${content.length} bytes, the header says ${expect}`);
  return { meta, content };
}

/** The content checksum of a decoded `.filez` (formats.md §2.4.1). */
export function filezChecksum(meta: FileMeta, content: Uint8Array): Checksum {
  return (meta.mode & S_IFMT) === S_IFLNK ? sha256(fileHeader(meta)) : sha256(fileHeader(meta), content);
}

export interface ArchiveOptions {
  /** Sync the filesystem before writing a ref (default true). */
  fsync?: boolean;
}

/** An archive-mode OSTree repository on disk: objects, refs, config. */
export class ArchiveRepo {
  readonly path: string;

  private constructor(path: string, readonly fsync: boolean) {
    this.path = resolve(path);
  }

  /** Open an existing archive (`archive` or `archive-z2`) repository. */
  static open(path: string, opts: ArchiveOptions = {}): ArchiveRepo {
    let text: string;
    try {
      text = readFileSync(join(path, 'config'), 'utf8');
    } catch (err) {
      throw new LayerError('LAYER_STORE', `${path} is not an OSTree repository (no readable config)`, { cause: err });
    }
    const mode = /^\s*mode\s*=\s*(\S+)\s*$/m.exec(text)?.[1];
    if (mode !== 'archive-z2' && mode !== 'archive') {
      throw new LayerError('LAYER_STORE', `repository ${path} has mode '${mode ?? '(none)'}', not archive-z2`);
    }
    return new ArchiveRepo(path, opts.fsync ?? true);
  }

  /** Create an archive repository, or open the one already at `path`. */
  static init(path: string, opts: ArchiveOptions = {}): ArchiveRepo {
    if (existsSync(join(path, 'config'))) return ArchiveRepo.open(path, opts);
    if (existsSync(path) && readdirSync(path).length > 0) {
      throw new LayerError('LAYER_STORE', `cannot create a repository in ${path}: directory not empty`);
    }
    // fsck needs refs/remotes and refs/mirrors (formats.md §2.1).
    for (const d of ['objects', 'refs/heads', 'refs/remotes', 'refs/mirrors', 'state', 'tmp', 'extensions']) {
      mkdirSync(join(path, d), { recursive: true });
    }
    writeFileSync(join(path, 'config'), CONFIG);
    return new ArchiveRepo(path, opts.fsync ?? true);
  }

  objectPath(csum: Checksum, type: ArchiveObjectType): string {
    return `${this.path}/objects/${csum.slice(0, 2)}/${csum.slice(2)}.${EXT[type]}`;
  }

  hasObject(csum: Checksum, type: ArchiveObjectType): boolean {
    return existsSync(this.objectPath(csum, type));
  }

  readObject(csum: Checksum, type: ArchiveObjectType): Buffer {
    try {
      return readFileSync(this.objectPath(csum, type));
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw new LayerError(missing ? 'LAYER_STORE_CORRUPT' : 'LAYER_STORE', `${type} object ${csum} ${missing ? 'is missing from' : 'cannot be read in'} ${this.path}`, { cause: err });
    }
  }

  /** A commit object of this repo, decoded. */
  readCommit(csum: Checksum): Commit {
    return decodeCommit(this.readObject(csum, 'commit'));
  }

  /** Write an object's bytes under its name (temp file + rename); the caller checked the name. */
  writeObject(csum: Checksum, type: ArchiveObjectType, bytes: Uint8Array): void {
    const tmp = this.tmpPath('obj');
    writeFileSync(tmp, bytes, { mode: 0o644 });
    renameIntoObjects(tmp, this.objectPath(csum, type));
  }

  tmpPath(tag: string): string {
    return join(this.path, 'tmp', `${tag}-${process.pid}-${++tmpCounter}`);
  }

  /** syncfs(2) on the archive's filesystem (see syncFilesystemOf). */
  syncFilesystem(): void {
    if (this.fsync) syncFilesystemOf(this.path);
  }

  /** Write a file of the repo (ref, summary) atomically: temp file, fsync, rename. */
  writeFileAtomic(rel: string, bytes: Uint8Array | string): void {
    const tmp = this.tmpPath('file');
    const fd = openSync(tmp, 'w', 0o644);
    try {
      const b = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off);
      if (this.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const dest = join(this.path, rel);
    mkdirSync(dirname(dest), { recursive: true });
    renameSync(tmp, dest);
  }

  /** Point refs/heads/`ref` at `csum`, after syncing the objects it names. */
  setRef(ref: string, csum: Checksum): void {
    if (!isValidRef(ref)) throw new LayerError('LAYER_STORE', `invalid ref name '${ref}'`, { hint: 'refs match [\\w\\d][-._\\w\\d]* separated by /' });
    if (!this.hasObject(csum, 'commit')) throw new LayerError('LAYER_STORE', `setRef ${ref}: commit ${csum} is not in ${this.path}`);
    this.syncFilesystem();
    this.writeFileAtomic(`refs/heads/${ref}`, `${csum}\n`);
  }

  readRef(ref: string): Checksum | undefined {
    if (!isValidRef(ref)) throw new LayerError('LAYER_STORE', `invalid ref name '${ref}'`);
    return readRefFile(join(this.path, 'refs/heads', ref), ref, this.path);
  }

  /** Every ref under refs/heads, sorted by name bytes (ostree's order). */
  listRefs(): Map<string, Checksum> {
    const out: [string, Checksum][] = [];
    const base = join(this.path, 'refs', 'heads');
    const visit = (rel: string): void => {
      for (const e of readdirSync(rel ? join(base, rel) : base, { withFileTypes: true })) {
        const name = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) visit(name);
        else {
          const c = this.readRef(name);
          if (c) out.push([name, c]);
        }
      }
    };
    if (existsSync(base) && statSync(base).isDirectory()) visit('');
    return new Map(out.sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  }
}

export interface ExportResult {
  commit: Checksum;
  /** Objects written, and objects the archive already had. */
  written: number;
  present: number;
  /** Bytes of the objects written. */
  bytes: number;
}

/**
 * Copy commit `commit` of a bare / bare-user repo into `archive` (children first, the commit
 * last), then point `ref` at it when given. Content objects are re-encoded as `.filez` and
 * their checksum recomputed from what was read (a corrupt source object is refused, not
 * copied); metadata objects are copied verbatim after checking their SHA-256. Objects the
 * archive already has are skipped, so exporting the next commit of a ref writes only what
 * changed, and an interrupted export resumes.
 */
export function exportCommit(source: Repo, commit: Checksum, archive: ArchiveRepo, opts: { ref?: string } = {}): ExportResult {
  const res: ExportResult = { commit, written: 0, present: 0, bytes: 0 };
  const seen = new Set<string>();
  const meta = (type: 'dirtree' | 'dirmeta' | 'commit', csum: Checksum): Buffer | undefined => {
    if (archive.hasObject(csum, type)) {
      res.present++;
      return undefined;
    }
    const bytes = source.readMetadata(type, csum);
    if (sha256(bytes) !== csum) throw new LayerError('LAYER_STORE_CORRUPT', `${type} ${csum} in ${source.path} does not match its checksum`);
    return bytes;
  };
  const put = (csum: Checksum, type: ArchiveObjectType, bytes: Uint8Array): void => {
    archive.writeObject(csum, type, bytes);
    res.written++;
    res.bytes += bytes.length;
  };
  const file = (csum: Checksum): void => {
    if (seen.has(csum)) return;
    seen.add(csum);
    if (archive.hasObject(csum, 'file')) {
      res.present++;
      return;
    }
    const m = loadContentMeta(source, csum);
    const content = (m.mode & S_IFMT) === S_IFREG ? readFileSync(source.objectPath(csum, 'file')) : Buffer.alloc(0);
    const fm: FileMeta = { uid: m.uid, gid: m.gid, mode: m.mode, xattrs: m.xattrs };
    if (m.target !== undefined) fm.target = m.target;
    if (filezChecksum(fm, content) !== csum) throw new LayerError('LAYER_STORE_CORRUPT', `content object ${csum} in ${source.path} does not match its checksum`);
    put(csum, 'file', encodeFilez(fm, content));
  };
  const tree = (treeCsum: Checksum, metaCsum: Checksum): void => {
    if (!seen.has(`m${metaCsum}`)) {
      seen.add(`m${metaCsum}`);
      const m = meta('dirmeta', metaCsum);
      if (m) put(metaCsum, 'dirmeta', m);
    }
    if (seen.has(`t${treeCsum}`)) return;
    seen.add(`t${treeCsum}`);
    // A dirtree already in the archive was written after all its children: nothing below it is missing.
    const bytes = meta('dirtree', treeCsum);
    if (!bytes) return;
    const t = decodeDirTree(bytes);
    for (const [, c] of t.files) file(c);
    for (const [, sub, subMeta] of t.dirs) tree(sub, subMeta);
    put(treeCsum, 'dirtree', bytes);
  };
  const commitBytes = meta('commit', commit);
  if (commitBytes) {
    const c = decodeCommit(commitBytes);
    tree(c.rootTree, c.rootMeta);
    put(commit, 'commit', commitBytes);
  }
  if (opts.ref) archive.setRef(opts.ref, commit);
  return res;
}
