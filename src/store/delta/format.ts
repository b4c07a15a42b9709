/**
 * OSTree static deltas on disk (ostree-repo-static-delta-private.h, 2022.7): names, the
 * superblock, part files and delta indexes, as plain data.
 *
 * - Paths use OSTree's "modified base64" of the 32-byte checksums ('/' → '_', no '='):
 *   `deltas/FF/ROM-TO/superblock` (from the first two characters of FROM), or
 *   `deltas/TO[0:2]/TO[2:]/superblock` for a delta from nothing; parts are `0`, `1`, … beside it.
 * - Superblock: `(a{sv}tayay(COMMIT)aya(uayttay)a(yaytt))`: metadata (`ostree.endianness` 'l'
 *   or 'B' says how the part headers' integers are stored), timestamp (big-endian), from, to,
 *   the new commit object itself, an unused dependency array, one header per part (version 0,
 *   SHA-256 of the part file, its size, the size of what it produces, and the objects it
 *   produces as packed `(type byte, 32-byte checksum)`), and fallback objects fetched one by one.
 * - Part file: one compression byte (0 = none, 'x' = xz) and the payload
 *   `(a(uuu)aa(ayay)ayay)`: modes (big-endian uid, gid, mode), xattr sets, raw data, ops.
 * - `delta-indexes/TO[0:2]/TO[2:].index`: `a{sv}` with `ostree.static-deltas` → `a{sv}` of
 *   "FROM-TO" (or "TO") → SHA-256 of the superblock. What ostree 2022.7 fetches when the summary
 *   says `ostree.summary.indexed-deltas`.
 */
import { LayerError } from '../../errors.js';
import { Variant, deserialize, serialize, type GValue } from '../gvariant/index.js';
import { isChecksum, sha256, type Checksum, type ObjectType } from '../objects.js';

const COMMIT_T = '(a{sv}aya(say)sstayay)';
export const SUPERBLOCK_T = `(a{sv}tayay${COMMIT_T}aya(uayttay)a(yaytt))`;
export const PART_T = '(a(uuu)aa(ayay)ayay)';
const INDEX_T = 'a{sv}';
export const STATIC_DELTAS_KEY = 'ostree.static-deltas';

/** OSTree's object type numbers (OstreeObjectType). */
const TYPE_NUM: Record<ObjectType, number> = { file: 1, dirtree: 2, dirmeta: 3, commit: 4 };
const NUM_TYPE = new Map<number, ObjectType>(Object.entries(TYPE_NUM).map(([k, v]) => [v, k as ObjectType]));

export interface DeltaObject { type: ObjectType; csum: Checksum }

export interface PartHeader {
  checksum: Checksum;
  /** Bytes of the part file, and of the objects it produces. */
  size: number;
  usize: number;
  objects: DeltaObject[];
}

export interface Fallback extends DeltaObject { size: number; usize: number }

export interface Superblock {
  metadata: GValue[][];
  timestamp: bigint;
  from?: Checksum;
  to: Checksum;
  /** The serialized commit object (its SHA-256 is `to`). */
  commit: Buffer;
  parts: PartHeader[];
  fallbacks: Fallback[];
}

export interface PartPayload {
  modes: [uid: number, gid: number, mode: number][];
  xattrs: [Uint8Array, Uint8Array][][];
  raw: Uint8Array;
  ops: Uint8Array;
}

function corrupt(what: string, cause?: unknown): LayerError {
  return new LayerError('LAYER_REPO_CORRUPT', `static delta: ${what}`, cause ? { cause } : {});
}

/** OSTree's modified base64 of a checksum: 43 characters, '_' for '/'. */
export function checksumToB64(csum: Checksum): string {
  return Buffer.from(csum, 'hex').toString('base64').replace(/=+$/, '').replace(/\//g, '_');
}

export function b64ToChecksum(s: string): Checksum | undefined {
  if (!/^[A-Za-z0-9+_]{43}$/.test(s)) return undefined;
  const hex = Buffer.from(`${s.replace(/_/g, '/')}=`, 'base64').toString('hex');
  return isChecksum(hex) ? hex : undefined;
}

/** `deltas/…` directory of the delta from `from` (undefined: from nothing) to `to`. */
export function deltaDir(from: Checksum | undefined, to: Checksum): string {
  const t = checksumToB64(to);
  if (!from) return `deltas/${t.slice(0, 2)}/${t.slice(2)}`;
  const f = checksumToB64(from);
  return `deltas/${f.slice(0, 2)}/${f.slice(2)}-${t}`;
}

export function indexPath(to: Checksum): string {
  const t = checksumToB64(to);
  return `delta-indexes/${t.slice(0, 2)}/${t.slice(2)}.index`;
}

/** "FROM-TO" or "TO", the delta's name in indexes and summaries. */
export function deltaName(from: Checksum | undefined, to: Checksum): string {
  return from ? `${from}-${to}` : to;
}

export function parseDeltaName(name: string): { from?: Checksum; to: Checksum } | undefined {
  const [a, b, ...rest] = name.split('-');
  if (rest.length > 0 || a === undefined || !isChecksum(a)) return undefined;
  if (b === undefined) return { to: a };
  return isChecksum(b) ? { from: a, to: b } : undefined;
}

/** Unsigned LEB128, as ostree-varint.c writes it. */
export function writeVarint(out: number[], n: number): void {
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}

/** Read a varint at `pos`: [value, next position]. */
export function readVarint(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let p = pos; p < b.length && p < pos + 10; p++) {
    const c = b[p] ?? 0;
    v += (c & 0x7f) * mul;
    if (c < 0x80) {
      if (!Number.isSafeInteger(v)) throw corrupt('varint out of range');
      return [v, p + 1];
    }
    mul *= 0x80;
  }
  throw corrupt('truncated varint in the operations');
}

function packObjects(objs: readonly DeltaObject[]): Buffer {
  const out = Buffer.alloc(objs.length * 33);
  objs.forEach((o, i) => {
    out[i * 33] = TYPE_NUM[o.type];
    Buffer.from(o.csum, 'hex').copy(out, i * 33 + 1);
  });
  return out;
}

export function unpackObjects(b: Uint8Array): DeltaObject[] {
  if (b.length % 33 !== 0) throw corrupt('object list is not a whole number of 33-byte entries');
  const out: DeltaObject[] = [];
  for (let i = 0; i < b.length; i += 33) {
    const type = NUM_TYPE.get(b[i] ?? 0);
    if (!type) throw corrupt(`unknown object type ${b[i]}`);
    out.push({ type, csum: Buffer.from(b.subarray(i + 1, i + 33)).toString('hex') as Checksum });
  }
  return out;
}

function csumBytes(b: Uint8Array, what: string): Checksum {
  const hex = Buffer.from(b).toString('hex');
  if (!isChecksum(hex)) throw corrupt(`${what} is not a 32-byte checksum`);
  return hex;
}

function swap32(v: number): number {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b.readUInt32BE();
}

function swap64(v: bigint): bigint {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b.readBigUInt64BE();
}

/** Serialize a superblock; part header integers little-endian, marked `ostree.endianness` 'l'. */
export function encodeSuperblock(s: Superblock): Buffer {
  const commit = deserialize(COMMIT_T, s.commit);
  const md: GValue[][] = [...s.metadata, ['ostree.endianness', new Variant('y', 'l'.charCodeAt(0))]];
  return serialize(SUPERBLOCK_T, [
    md, swap64(s.timestamp), s.from ? Buffer.from(s.from, 'hex') : new Uint8Array(0), Buffer.from(s.to, 'hex'), commit,
    new Uint8Array(0),
    s.parts.map((p) => [0, Buffer.from(p.checksum, 'hex'), BigInt(p.size), BigInt(p.usize), packObjects(p.objects)]),
    s.fallbacks.map((f) => [TYPE_NUM[f.type], Buffer.from(f.csum, 'hex'), BigInt(f.size), BigInt(f.usize)]),
  ]);
}

/** Parse a superblock, checking that its commit object is the `to` commit. */
export function decodeSuperblock(bytes: Uint8Array): Superblock {
  let v: GValue[];
  try {
    v = deserialize(SUPERBLOCK_T, bytes) as GValue[];
  } catch (err) {
    throw corrupt(`superblock is not a ${SUPERBLOCK_T}`, err);
  }
  type Fields = [GValue[][], bigint, Uint8Array, Uint8Array, GValue, Uint8Array, GValue[][], GValue[][]];
  const [md, ts, from, to, commitV, , parts, fallbacks] = v as Fields;
  const endian = (md.find(([k]) => k === 'ostree.endianness')?.[1] as Variant | undefined)?.value;
  // Without the key, ostree guesses; layer reads such deltas as little-endian (ostree's own default here).
  const swap = endian === 'B'.charCodeAt(0);
  const u32 = (n: number) => (swap ? swap32(n) : n);
  const u64 = (n: bigint) => Number(swap ? swap64(n) : n);
  const toCsum = csumBytes(to, 'the to checksum');
  const commit = serialize(COMMIT_T, commitV);
  if (sha256(commit) !== toCsum) throw corrupt(`the commit object in the superblock is not commit ${toCsum}`);
  const headers = parts.map(([version, csum, size, usize, objs], i) => {
    if (u32(version as number) !== 0) throw corrupt(`part ${i} has version ${u32(version as number)}; only version 0 exists`);
    return { checksum: csumBytes(csum as Uint8Array, `part ${i} checksum`), size: u64(size as bigint), usize: u64(usize as bigint), objects: unpackObjects(objs as Uint8Array) };
  });
  const fb = fallbacks.map(([t, csum, size, usize]) => {
    const type = NUM_TYPE.get(t as number);
    if (!type) throw corrupt(`fallback of unknown type ${String(t)}`);
    return { type, csum: csumBytes(csum as Uint8Array, 'fallback checksum'), size: u64(size as bigint), usize: u64(usize as bigint) };
  });
  return {
    metadata: md, timestamp: swap64(ts), to: toCsum, commit, parts: headers, fallbacks: fb,
    ...(from.length > 0 ? { from: csumBytes(from, 'the from checksum') } : {}),
  };
}

/** The part file: compression byte + payload. `compressed` is the payload already compressed ('x'). */
export function encodePartFile(payload: Buffer, comp: 'none' | 'xz'): Buffer {
  return Buffer.concat([Buffer.from([comp === 'xz' ? 0x78 : 0]), payload]);
}

export function encodePartPayload(p: PartPayload): Buffer {
  return serialize(PART_T, [p.modes, p.xattrs, p.raw, p.ops]);
}

export function decodePartPayload(bytes: Uint8Array): PartPayload {
  try {
    const [modes, xattrs, raw, ops] = deserialize(PART_T, bytes) as [PartPayload['modes'], PartPayload['xattrs'], Uint8Array, Uint8Array];
    return { modes, xattrs, raw, ops };
  } catch (err) {
    throw corrupt(`part payload is not a ${PART_T}`, err);
  }
}

/** A delta index: delta name → SHA-256 of its superblock. */
export function encodeIndex(deltas: ReadonlyMap<string, Checksum>): Buffer {
  const entries = [...deltas].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, digest]) => [name, new Variant('ay', Buffer.from(digest, 'hex'))]);
  return serialize(INDEX_T, [[STATIC_DELTAS_KEY, new Variant('a{sv}', entries)]]);
}

export function decodeIndex(bytes: Uint8Array): Map<string, Checksum> {
  let v: GValue[][];
  try {
    v = deserialize(INDEX_T, bytes) as GValue[][];
  } catch (err) {
    throw corrupt('delta index is not an a{sv}', err);
  }
  const out = new Map<string, Checksum>();
  const deltas = (v.find(([k]) => k === STATIC_DELTAS_KEY)?.[1] as Variant | undefined);
  if (!deltas || deltas.type !== 'a{sv}') return out;
  for (const [name, digest] of deltas.value as GValue[][]) {
    const d = (digest as Variant).value;
    if (d instanceof Uint8Array) out.set(name as string, csumBytes(d, `digest of delta ${String(name)}`));
  }
  return out;
}
