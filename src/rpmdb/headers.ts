/**
 * A header list: an rpmdb's `Packages` rows (header number, header blob) in one plain file,
 * kept beside a cached copy of a base's rpmdb so that reading the installed set needs no SQLite.
 *
 * Layout: "LYHDRS01", u32 count, then per row u32 hnum, u32 length, the blob; then a CRC-32 of
 * everything before it (all integers little-endian). Only a cache of a database that never
 * changes (a commit's): anything unexpected — short, long, a bad CRC — reads as "no list", and
 * the caller reads the database instead.
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

const MAGIC = 'LYHDRS01';

export interface HeaderRow {
  hnum: number;
  blob: Uint8Array;
}

/**
 * Write `rows` to `file` (a temp file renamed into place: readers see all of it or none). Not
 * fsynced: after a crash the CRC tells a torn list from a whole one.
 */
export function writeHeaderList(file: string, rows: readonly HeaderRow[]): void {
  const head = Buffer.alloc(MAGIC.length + 4);
  head.write(MAGIC, 0, 'latin1');
  head.writeUInt32LE(rows.length, MAGIC.length);
  const parts: Uint8Array[] = [head];
  for (const r of rows) {
    const len = Buffer.alloc(8);
    len.writeUInt32LE(r.hnum, 0);
    len.writeUInt32LE(r.blob.length, 4);
    parts.push(len, r.blob);
  }
  const body = Buffer.concat(parts);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(crc32(body), 0);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, 'w', 0o644);
    try {
      writeSync(fd, body);
      writeSync(fd, tail);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The rows of `file`, or undefined when it is missing or not an intact header list. */
export function readHeaderList(file: string): HeaderRow[] | undefined {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch {
    return undefined;
  }
  if (buf.length < MAGIC.length + 8 || buf.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
  const end = buf.length - 4;
  if (crc32(buf.subarray(0, end)) !== buf.readUInt32LE(end)) return undefined;
  const count = buf.readUInt32LE(MAGIC.length);
  const rows: HeaderRow[] = [];
  let at = MAGIC.length + 4;
  for (let i = 0; i < count; i++) {
    if (at + 8 > end) return undefined;
    const hnum = buf.readUInt32LE(at);
    const len = buf.readUInt32LE(at + 4);
    at += 8;
    if (at + len > end) return undefined;
    rows.push({ hnum, blob: buf.subarray(at, at + len) });
    at += len;
  }
  return at === end ? rows : undefined;
}
