/**
 * A dirtree object `(a(say)a(sayay))` read straight off its bytes, for the store's own objects
 * (objects.ts decodeDirTree with source 'store'): names and checksums are sliced out of the one
 * buffer, where the generic GVariant reader builds a value tree first (an array per entry, a
 * copy per checksum, then a copy of that for its hex). An upgrade reads ~280 dirtrees (unions,
 * the ldconfig inputs, the deployment's checkout): the generic path cost ~17 ms of its CPU.
 *
 * It validates what the generic reader does (framing offsets in bounds and in order, NUL-
 * terminated names without inner NULs, 32-byte checksums, UTF-8 names) and gives up on the first
 * thing it does not like: the caller then runs the generic reader, which names the fault. So a
 * damaged object fails with the same error either way.
 */
import type { Checksum, DirTree } from './objects.js';

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** GVariant's framing offset width for a container of `size` bytes (formats.md §1.2). */
function widthOf(size: number): number {
  return size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
}

function offsetAt(b: Buffer, at: number, w: number): number {
  return w === 1 ? (b[at] as number) : w === 2 ? b.readUInt16LE(at) : b.readUInt32LE(at);
}

/** The dirtree in `b`, or undefined when anything in it is not as expected (see the module comment). */
export function readDirTreeBytes(b: Buffer): DirTree | undefined {
  const n = b.length;
  // Past 4 GiB offsets are 8 bytes wide; no dirtree is that large, and the generic reader copes.
  if (n === 0 || n > 0xffffffff) return undefined;
  const w = widthOf(n);
  if (n < w) return undefined;
  const filesEnd = offsetAt(b, n - w, w);
  if (filesEnd > n - w) return undefined;
  const files: Array<readonly [string, Checksum]> = [];
  const dirs: Array<readonly [string, Checksum, Checksum]> = [];
  const fileOk = eachElement(b, 0, filesEnd, (s, e) => {
    const ew = widthOf(e - s);
    if (e - s < ew) return false;
    const nameEnd = s + offsetAt(b, e - ew, ew);
    const name = nameAt(b, s, nameEnd, e - ew);
    if (name === undefined || e - ew - nameEnd !== 32) return false;
    files.push([name, b.toString('hex', nameEnd, nameEnd + 32) as Checksum]);
    return true;
  });
  if (!fileOk) return undefined;
  const dirOk = eachElement(b, filesEnd, n - w, (s, e) => {
    const ew = widthOf(e - s);
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
  const w = widthOf(e - s);
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
