/**
 * Dirtree objects `(a(say)a(sayay))` read straight off their bytes and written straight into
 * them, without the generic GVariant codec: names and checksums are sliced out of (and written
 * into) one buffer, where the generic reader builds a value tree first (an array per entry, a
 * copy per checksum, then a copy of that for its hex) and the generic writer the reverse. An
 * upgrade reads ~280 dirtrees (unions, the ldconfig inputs, the deployment's checkout) and
 * writes ~100: the generic codec cost ~25 ms of its CPU.
 *
 * The reader serves the store's own objects (objects.ts decodeDirTree with source 'store'). It
 * validates what the generic reader does (framing offsets in bounds and in order, NUL-terminated
 * names without inner NULs, 32-byte checksums, UTF-8 names) and gives up on the first thing it
 * does not like: the caller then runs the generic reader, which names the fault. So a damaged
 * object fails with the same error either way. The writer gives the generic writer's bytes.
 */
import { LayerError } from '../errors.js';
import { framingWidth, offsetWidth } from './gvariant/index.js';
import type { Checksum, DirTree } from './objects.js';

// ignoreBOM: a name's leading U+FEFF is part of the name (the default drops it).
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A framing offset of width `w` (1, 2 or 4 here: readDirTreeBytes takes nothing past 4 GiB). */
function offsetAt(b: Buffer, at: number, w: number): number {
  return b.readUIntLE(at, w);
}

/** The dirtree in `b`, or undefined when anything in it is not as expected (see the module comment). */
export function readDirTreeBytes(b: Buffer): DirTree | undefined {
  const n = b.length;
  // Past 4 GiB offsets are 8 bytes wide; no dirtree is that large, and the generic reader copes.
  if (n === 0 || n > 0xffffffff) return undefined;
  const w = offsetWidth(n);
  if (n < w) return undefined;
  const filesEnd = offsetAt(b, n - w, w);
  if (filesEnd > n - w) return undefined;
  const files: Array<readonly [string, Checksum]> = [];
  const dirs: Array<readonly [string, Checksum, Checksum]> = [];
  const fileOk = eachElement(b, 0, filesEnd, (s, e) => {
    if (e === s) return false;
    const ew = offsetWidth(e - s);
    if (e - s < ew) return false;
    const nameEnd = s + offsetAt(b, e - ew, ew);
    const name = nameAt(b, s, nameEnd, e - ew);
    if (name === undefined || e - ew - nameEnd !== 32) return false;
    files.push([name, b.toString('hex', nameEnd, nameEnd + 32) as Checksum]);
    return true;
  });
  if (!fileOk) return undefined;
  const dirOk = eachElement(b, filesEnd, n - w, (s, e) => {
    if (e === s) return false;
    const ew = offsetWidth(e - s);
    if (e - s < 2 * ew) return false;
    const nameEnd = s + offsetAt(b, e - ew, ew);
    const treeEnd = s + offsetAt(b, e - 2 * ew, ew);
    const name = nameAt(b, s, nameEnd, e - 2 * ew);
    if (name === undefined || treeEnd - nameEnd !== 32 || e - 2 * ew - treeEnd !== 32) return false;
    dirs.push([name, b.toString('hex', nameEnd, treeEnd) as Checksum, b.toString('hex', treeEnd, treeEnd + 32) as Checksum]);
    return true;
  });
  return dirOk ? { files, dirs } : undefined;
}

/** Calls `each(start, end)` for every element of the array of variable-size elements in [s, e). */
function eachElement(b: Buffer, s: number, e: number, each: (start: number, end: number) => boolean): boolean {
  if (e === s) return true;
  const w = offsetWidth(e - s);
  if (e - s < w) return false;
  const last = offsetAt(b, e - w, w);
  const count = (e - s - last) / w;
  if (last > e - s || !Number.isInteger(count) || count <= 0) return false;
  let pos = s;
  for (let i = 0; i < count; i++) {
    const end = s + offsetAt(b, s + last + i * w, w);
    if (end < pos || end > s + last) return false;
    if (!each(pos, end)) return false;
    pos = end;
  }
  return true;
}

/** The NUL-terminated name in [s, end) (end ≤ limit), or undefined when it is not a valid entry name. */
function nameAt(b: Buffer, s: number, end: number, limit: number): string | undefined {
  if (end <= s || end > limit || b[end - 1] !== 0) return undefined;
  let ascii = true;
  for (let i = s; i < end - 1; i++) {
    const c = b[i] as number;
    if (c === 0 || c === 0x2f) return undefined;
    if (c >= 0x80) ascii = false;
  }
  let name: string;
  if (ascii) name = b.toString('latin1', s, end - 1);
  else {
    try {
      name = utf8Strict.decode(b.subarray(s, end - 1));
    } catch {
      return undefined;
    }
  }
  return name === '' || name === '.' || name === '..' ? undefined : name;
}

/**
 * The bytes of the dirtree `t`, whose entries are already in encoded order (sortedDirTree):
 * what the generic serializer gives for `(a(say)a(sayay))`, written straight into one buffer
 * sized up front (the generic writer built an array per entry and a Buffer per checksum, and
 * grew its buffer by doubling).
 */
export function writeDirTreeBytes(t: DirTree): Buffer {
  const fileNames = t.files.map(([n]) => Buffer.byteLength(n, 'utf8'));
  const dirNames = t.dirs.map(([n]) => Buffer.byteLength(n, 'utf8'));
  // Each element: name, NUL, checksum(s), then its framing offset(s).
  const fileSizes = fileNames.map((len) => elementSize(len + 1 + 32, 1));
  const dirSizes = dirNames.map((len) => elementSize(len + 1 + 64, 2));
  const filesBody = sum(fileSizes);
  const dirsBody = sum(dirSizes);
  const filesW = fileSizes.length === 0 ? 0 : framingWidth(filesBody, fileSizes.length);
  const dirsW = dirSizes.length === 0 ? 0 : framingWidth(dirsBody, dirSizes.length);
  const filesLen = filesBody + filesW * fileSizes.length;
  const dirsLen = dirsBody + dirsW * dirSizes.length;
  const topW = framingWidth(filesLen + dirsLen, 1);
  const b = Buffer.allocUnsafe(filesLen + dirsLen + topW);
  let p = 0;
  const ends: number[] = [];
  t.files.forEach(([name, csum], i) => {
    const s = p;
    p = putName(b, p, name);
    const nameEnd = p - s;
    p = putChecksum(b, p, csum);
    p = putOffset(b, p, nameEnd, (fileSizes[i] as number) - (p - s));
    ends.push(p);
  });
  for (const end of ends) p = putOffset(b, p, end, filesW);
  const dirsStart = p;
  ends.length = 0;
  t.dirs.forEach(([name, tree, meta], i) => {
    const s = p;
    p = putName(b, p, name);
    const nameEnd = p - s;
    p = putChecksum(b, p, tree);
    const treeEnd = p - s;
    p = putChecksum(b, p, meta);
    const w = ((dirSizes[i] as number) - (p - s)) / 2;
    // A struct's framing offsets are written last member first.
    p = putOffset(b, p, treeEnd, w);
    p = putOffset(b, p, nameEnd, w);
    ends.push(p - dirsStart);
  });
  for (const end of ends) p = putOffset(b, p, end, dirsW);
  p = putOffset(b, p, filesLen, topW);
  return b;
}

/** Size of a container of `body` bytes with `n` framing offsets of the width GVariant picks. */
function elementSize(body: number, n: number): number {
  return body + n * framingWidth(body, n);
}

/** A GVariant string: its UTF-8 bytes and a NUL (one inside it is refused, as the generic writer does). */
function putName(b: Buffer, p: number, name: string): number {
  if (name.includes('\0')) throw new LayerError('LAYER_INTERNAL', `GVariant: bad string ${name}`);
  // What a reader refuses is never written (and so never kept decoded by Repo.writeDirTree).
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new LayerError('LAYER_INTERNAL', `dirtree: invalid entry name '${name}'`);
  const at = p + b.write(name, p, 'utf8');
  b[at] = 0;
  return at + 1;
}

function putChecksum(b: Buffer, p: number, csum: Checksum): number {
  if (!HEX64.test(csum)) throw new LayerError('LAYER_INTERNAL', `dirtree: '${csum}' is not a checksum`);
  b.write(csum, p, 'hex');
  return p + 32;
}

const HEX64 = /^[0-9a-f]{64}$/;

function putOffset(b: Buffer, p: number, value: number, w: number): number {
  if (w === 8) b.writeBigUInt64LE(BigInt(value), p);
  else b.writeUIntLE(value, p, w);
  return p + w;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}
