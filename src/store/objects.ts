/**
 * OSTree object formats and checksums (formats.md §2.2–§2.6): content-object headers, dirmeta,
 * dirtree and commit, built on the GVariant codec. Pure functions, no I/O.
 *
 * OSTree stores its `u` and `t` fields big-endian inside little-endian GVariants
 * (`GUINT32_TO_BE` in ostree-core.c), so they are byteswapped here and nowhere else.
 */
import { createHash } from 'node:crypto';
import { LayerError } from '../errors.js';
import { Variant, deserialize, serialize, type GValue } from './gvariant/index.js';
import { readDirTreeBytes, writeDirTreeBytes } from './dirtree-codec.js';

/** A lowercase hex SHA-256 naming an OSTree object. */
export type Checksum = string & { readonly __brand: 'Checksum' };
export type ObjectType = 'file' | 'dirtree' | 'dirmeta' | 'commit';

/** xattrs as (name without NUL, value); canonical order is strcmp of names (formats.md §2.4.2). */
export type Xattrs = ReadonlyArray<readonly [name: string, value: Uint8Array]>;

/** What the checksum of a content object covers besides its bytes. */
export interface FileMeta {
  uid: number;
  gid: number;
  /** Full st_mode: S_IFREG or S_IFLNK plus permission bits. */
  mode: number;
  /** Symlink target; only for S_IFLNK. */
  target?: string;
  xattrs: Xattrs;
}

export interface DirMeta {
  uid: number;
  gid: number;
  /** Full st_mode including S_IFDIR. */
  mode: number;
  xattrs: Xattrs;
}

export interface DirTree {
  /** (name, content checksum), any order: encoding sorts. */
  files: Array<readonly [string, Checksum]>;
  /** (name, dirtree checksum, dirmeta checksum). */
  dirs: Array<readonly [string, Checksum, Checksum]>;
}

export interface Commit {
  metadata: Array<readonly [string, Variant]>;
  parent: Checksum | undefined;
  subject: string;
  body: string;
  /** Seconds since the epoch, UTC. */
  timestamp: bigint;
  rootTree: Checksum;
  rootMeta: Checksum;
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;

const HEX64 = /^[0-9a-f]{64}$/;

export function isChecksum(s: string): s is Checksum {
  return HEX64.test(s);
}

export function sha256(...parts: Uint8Array[]): Checksum {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex') as Checksum;
}

/** Byteswap a u32: OSTree's `u` fields are big-endian inside little-endian GVariants. */
export function be32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}

function be64(n: bigint): bigint {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b.readBigUInt64LE();
}

function csumBytes(c: Checksum): Uint8Array {
  return Buffer.from(c, 'hex');
}

function csumHex(b: GValue, what: string): Checksum {
  if (!(b instanceof Uint8Array) || b.length !== 32) {
    throw new LayerError('LAYER_STORE_CORRUPT', `${what}: checksum is not 32 bytes`);
  }
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') as Checksum;
}

const utf8 = new TextEncoder();

/** strcmp order of the UTF-8 bytes. */
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

const ASCII = /^[\x00-\x7f]*$/;

/** `a(ayay)`: names carry their NUL, entries sorted by name bytes (formats.md §2.4.2). */
export function encodeXattrs(x: Xattrs): GValue[] {
  return byName(x).map(([name, value]) => [Buffer.concat([utf8.encode(name), Buffer.from([0])]), value]);
}

export function decodeXattrs(v: GValue): Xattrs {
  return (v as GValue[][]).map(([name, value]) => {
    const n = Buffer.from(name as Uint8Array);
    return [n.subarray(0, n.length - 1).toString('utf8'), value as Uint8Array] as const;
  });
}

/**
 * The canonical content-stream prefix (formats.md §2.4.1): BE u32 length, 4 zero bytes, then
 * the `(uuuusa(ayay))` header. The checksum is SHA-256 of this followed by the content.
 */
export function fileHeader(meta: FileMeta): Buffer {
  const h = serialize('(uuuusa(ayay))', [
    be32(meta.uid), be32(meta.gid), be32(meta.mode), 0,
    (meta.mode & S_IFMT) === S_IFLNK ? (meta.target ?? '') : '',
    encodeXattrs(meta.xattrs),
  ]);
  const prefix = Buffer.alloc(8 + h.length);
  prefix.writeUInt32BE(h.length, 0);
  h.copy(prefix, 8);
  return prefix;
}

/** Checksum of a content object whose content is already in memory. */
export function contentChecksum(meta: FileMeta, content: Uint8Array = new Uint8Array(0)): Checksum {
  return (meta.mode & S_IFMT) === S_IFLNK ? sha256(fileHeader(meta)) : sha256(fileHeader(meta), content);
}

/** The `user.ostreemeta` xattr of bare-user mode: `(uuua(ayay))`, uid/gid/mode BE. */
export function encodeBareUserMeta(meta: FileMeta): Buffer {
  return serialize('(uuua(ayay))', [be32(meta.uid), be32(meta.gid), be32(meta.mode), encodeXattrs(meta.xattrs)]);
}

export function decodeBareUserMeta(bytes: Uint8Array): Omit<FileMeta, 'target'> {
  const [uid, gid, mode, x] = deserialize('(uuua(ayay))', bytes) as [number, number, number, GValue];
  return { uid: be32(uid), gid: be32(gid), mode: be32(mode), xattrs: decodeXattrs(x) };
}

export function encodeDirMeta(m: DirMeta): Buffer {
  return serialize('(uuua(ayay))', [be32(m.uid), be32(m.gid), be32(m.mode), encodeXattrs(m.xattrs)]);
}

export function decodeDirMeta(bytes: Uint8Array, from: Source = 'outside'): DirMeta {
  const [uid, gid, mode, x] = decodeMetadata('dirmeta', bytes, from) as [number, number, number, GValue];
  const out = { uid: be32(uid), gid: be32(gid), mode: be32(mode), xattrs: decodeXattrs(x) };
  if ((out.mode & S_IFMT) !== S_IFDIR || (out.mode & ~(S_IFMT | 0o7777)) !== 0) {
    throw new LayerError('LAYER_STORE_CORRUPT', `dirmeta has invalid mode 0${out.mode.toString(8)}`);
  }
  return out;
}

/** `t` with its entries in the order an encoded dirtree holds them (and decodes to). */
export function sortedDirTree(t: DirTree): DirTree {
  return { files: byName(t.files), dirs: byName(t.dirs) };
}

/** Entries sorted by name bytes; names all ASCII (nearly always) compare as strings, tested once, not per comparison. */
function byName<T extends readonly [string, ...unknown[]]>(entries: readonly T[]): T[] {
  const out = [...entries];
  if (out.every(([n]) => ASCII.test(n))) return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return out.sort((a, b) => byteCompare(a[0], b[0]));
}

/** Sorted by name bytes: ostree looks names up by binary search (formats.md §2.5). */
export function encodeDirTree(t: DirTree): Buffer {
  return writeDirTreeBytes(sortedDirTree(t));
}

export function decodeDirTree(bytes: Uint8Array, from: Source = 'outside'): DirTree {
  if (from === 'store') {
    // The direct reader; on anything it does not expect, the generic one below names the fault.
    const direct = readDirTreeBytes(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    if (direct) return direct;
  }
  const [files, dirs] = decodeMetadata('dirtree', bytes, from) as [GValue[][], GValue[][]];
  return {
    files: files.map(([n, c]) => [validName(n as string), csumHex(c as GValue, 'dirtree file')] as const),
    dirs: dirs.map(([n, t, m]) => [validName(n as string), csumHex(t as GValue, 'dirtree'), csumHex(m as GValue, 'dirmeta')] as const),
  };
}

function validName(n: string): string {
  if (n === '' || n === '.' || n === '..' || n.includes('/')) {
    throw new LayerError('LAYER_STORE_CORRUPT', `dirtree holds invalid file name '${n}'`);
  }
  return n;
}

export function encodeCommit(c: Commit): Buffer {
  // Byte values (a package's headers) are most of a package commit: the buffer starts past them.
  let hint = 512 + c.subject.length + c.body.length;
  for (const [k, v] of c.metadata) hint += k.length + 16 + (v.value instanceof Uint8Array ? v.value.length : 64);
  return serialize('(a{sv}aya(say)sstayay)', [
    c.metadata.map(([k, v]) => [k, v]),
    c.parent ? csumBytes(c.parent) : new Uint8Array(0),
    [],
    c.subject,
    c.body,
    be64(c.timestamp),
    csumBytes(c.rootTree),
    csumBytes(c.rootMeta),
  ], hint);
}

export function decodeCommit(bytes: Uint8Array, from: Source = 'outside'): Commit {
  const [md, parent, , subject, body, ts, tree, meta] = decodeMetadata('commit', bytes, from) as GValue[];
  const metadata = (md as GValue[][]).map(([k, v]) => {
    if (k === '') throw new LayerError('LAYER_STORE_CORRUPT', 'commit metadata has an empty key');
    return [k as string, v as Variant] as const;
  });
  const p = parent as Uint8Array;
  return {
    metadata,
    parent: p.length === 0 ? undefined : csumHex(p, 'commit parent'),
    subject: subject as string,
    body: body as string,
    timestamp: be64(ts as bigint),
    rootTree: csumHex(tree as GValue, 'commit root dirtree'),
    rootMeta: csumHex(meta as GValue, 'commit root dirmeta'),
  };
}

const SIGS: Record<'commit' | 'dirtree' | 'dirmeta', string> = {
  commit: '(a{sv}aya(say)sstayay)',
  dirtree: '(a(say)a(sayay))',
  dirmeta: '(uuua(ayay))',
};

/**
 * Where metadata bytes come from. 'outside' (a pull, an import, fsck's read): normal form is
 * checked by re-serialising. 'store': read back from the local store, where every object was
 * checked when it entered (written here in normal form; pulled, imported from OCI or an archive
 * through the 'outside' path) and fsck checks them again; the re-serialisation (more than half
 * of a decode: ~20 ms of an upgrade's checkouts and unions) is skipped. The structure is still
 * fully validated either way.
 */
export type Source = 'outside' | 'store';

/** Decode a metadata object, refusing anything not in normal form, as ostree does (§1.3). */
function decodeMetadata(type: 'commit' | 'dirtree' | 'dirmeta', bytes: Uint8Array, from: Source): GValue {
  const sig = SIGS[type];
  const bad = () => new LayerError('LAYER_STORE_CORRUPT', `${type} object is not a normal-form ${sig}`);
  let value: GValue;
  try {
    value = deserialize(sig, bytes);
  } catch (err) {
    throw new LayerError('LAYER_STORE_CORRUPT', `${type} object is not a valid ${sig}`, { cause: err });
  }
  // Normal form: the canonical re-serialisation is byte-identical.
  if (from === 'outside' && !serialize(sig, value).equals(bytes)) throw bad();
  return value;
}

/** `ostree log`'s ContentChecksum: SHA-256(root dirtree ‖ root dirmeta), raw bytes. */
export function contentChecksumOfCommit(c: Commit): Checksum {
  return sha256(csumBytes(c.rootTree), csumBytes(c.rootMeta));
}

export const EMPTY_DIRTREE = '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d' as Checksum;
