/**
 * Tar (POSIX pax / ustar) for OCI layers: a deterministic writer and a streaming reader.
 *
 * Writer: entries go out in the order given (the caller sorts), with fixed mtime, no user or
 * group names and the given uid/gid, so the same tree always gives the same bytes. A pax
 * extended header ('x') carries what ustar cannot: names or link targets over 100 bytes or not
 * ASCII, and xattrs as `SCHILY.xattr.NAME` records (what GNU tar, containers/storage and umoci
 * read and write).
 *
 * Reader: pulls bytes from an async iterator (a file, a gunzip stream) and yields one entry at a
 * time; an entry's body is an async iterable that must be consumed (or is skipped) before the
 * next entry is read. Nothing bigger than a pax header (capped) is held in memory.
 */
import { LayerError } from '../errors.js';

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink';

export interface TarHeader {
  path: string;
  type: TarType;
  /** Permission bits (and setuid/setgid/sticky), no file type bits. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Symlink target, or the path a hardlink names. */
  linkname?: string;
  xattrs?: ReadonlyArray<readonly [string, Uint8Array]>;
}

/** Most bytes of one pax extended header. */
const MAX_PAX = 1 << 20;
const BLOCK = 512;
const TYPEFLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', dir: '5' };

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function ascii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** One pax record: "LEN key=value\n", LEN counting itself. */
function paxRecord(key: string, value: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

function ustarHeader(name: string, h: { type: string; mode: number; uid: number; gid: number; size: number; linkname: string }): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(name, 0, 100, 'utf8');
  b.write(octal(h.mode & 0o7777, 8), 100, 'ascii');
  b.write(octal(h.uid, 8), 108, 'ascii');
  b.write(octal(h.gid, 8), 116, 'ascii');
  b.write(octal(h.size, 12), 124, 'ascii');
  b.write(octal(0, 12), 136, 'ascii'); // mtime: fixed, for reproducible layers
  b.write(h.type, 156, 'ascii');
  b.write(h.linkname, 157, 100, 'utf8');
  b.write('ustar\x0000', 257, 'ascii');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(octal(sum, 7) + ' ', 148, 'ascii');
  return b;
}

/** The header block(s) of one entry: a pax header first when ustar cannot carry it all. */
export function tarHeader(h: TarHeader): Buffer {
  const name = h.type === 'dir' && !h.path.endsWith('/') ? `${h.path}/` : h.path;
  const link = h.linkname ?? '';
  const records: Buffer[] = [];
  if (Buffer.byteLength(name) > 100 || !ascii(name)) records.push(paxRecord('path', Buffer.from(name)));
  if (Buffer.byteLength(link) > 100 || !ascii(link)) records.push(paxRecord('linkpath', Buffer.from(link)));
  for (const [k, v] of h.xattrs ?? []) records.push(paxRecord(`SCHILY.xattr.${k}`, v));
  if (h.uid > 0o7777777) records.push(paxRecord('uid', Buffer.from(String(h.uid))));
  if (h.gid > 0o7777777) records.push(paxRecord('gid', Buffer.from(String(h.gid))));
  const max = 0o7777777;
  const fields = { type: TYPEFLAG[h.type], mode: h.mode, uid: Math.min(h.uid, max), gid: Math.min(h.gid, max), size: h.size };
  const main = ustarHeader(ascii(name) ? name.slice(0, 100) : 'pax-named', { ...fields, linkname: link });
  if (records.length === 0) return main;
  const pax = Buffer.concat(records);
  const paxHead = ustarHeader('PaxHeader', { type: 'x', mode: 0o644, uid: 0, gid: 0, size: pax.length, linkname: '' });
  return Buffer.concat([paxHead, pax, padding(pax.length), main]);
}

export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The end of an archive: two zero blocks. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

function bad(what: string, msg: string): LayerError {
  return new LayerError('LAYER_OCI', `${what}: ${msg}`);
}

/** Exact-length reads over an async iterator of chunks. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private done = false;

  constructor(private readonly it: AsyncIterator<Buffer>) {}

  /** Up to `max` bytes (fewer only at the end of the input; empty at the end). */
  async some(max: number): Promise<Buffer> {
    if (this.buf.length === 0 && !this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
      else this.buf = Buffer.from(r.value);
    }
    const out = this.buf.subarray(0, max);
    this.buf = this.buf.subarray(out.length);
    return out;
  }

  async exact(n: number, what: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const b = await this.some(n - got);
      if (b.length === 0) throw bad(what, 'the tar stream ends in the middle of an entry');
      parts.push(b);
      got += b.length;
    }
    return parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }
}

function readNumber(b: Buffer, what: string): number {
  if ((b[0] ?? 0) & 0x80) {
    // base-256 (GNU): big-endian, the top bit of the first byte set.
    let n = (b[0] ?? 0) & 0x7f;
    for (const byte of b.subarray(1)) n = n * 256 + byte;
    if (!Number.isSafeInteger(n)) throw bad(what, 'a numeric field is too large');
    return n;
  }
  const s = b.toString('ascii').replace(/[\0 ]+$/, '').replace(/^ +/, '');
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw bad(what, `a numeric field is not octal ('${s}')`);
  return parseInt(s, 8);
}

function cstring(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
}

function parsePax(bytes: Buffer, what: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < bytes.length) {
    const sp = bytes.indexOf(0x20, off);
    const len = sp < 0 ? NaN : Number(bytes.subarray(off, sp).toString('ascii'));
    if (!Number.isInteger(len) || len <= 0 || off + len > bytes.length) throw bad(what, 'malformed pax header');
    const rec = bytes.subarray(sp + 1, off + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw bad(what, 'malformed pax record');
    out.set(rec.subarray(0, eq).toString('utf8'), rec.subarray(eq + 1));
    off += len;
  }
  return out;
}

export interface TarEntry {
  header: TarHeader;
  /** The entry's bytes, in chunks; consume it before asking for the next entry (or leave it: it is skipped). */
  body: AsyncIterable<Buffer>;
}

const TYPES: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'dir' };

function checkHeader(head: Buffer, what: string): void {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (head[i] ?? 0);
  if (sum !== readNumber(head.subarray(148, 156), what)) throw bad(what, 'a tar header fails its checksum');
}

interface Extended {
  pax: Map<string, Buffer>;
  longName: string | undefined;
  longLink: string | undefined;
}

/** An entry's header from its ustar block and the extended headers before it. */
function entryHeader(head: Buffer, flag: string, size: number, ext: Extended, what: string): TarHeader {
  const { pax } = ext;
  const type = TYPES[flag];
  const prefix = cstring(head.subarray(345, 500));
  const short = cstring(head.subarray(0, 100));
  const path = pax.get('path')?.toString('utf8') ?? ext.longName ?? (prefix ? `${prefix}/${short}` : short);
  if (type === undefined) throw bad(what, `entry '${path}' has tar type '${flag}' (device, fifo or unknown): an OSTree tree cannot hold it`);
  const header: TarHeader = {
    path, type, size: type === 'file' ? size : 0,
    mode: readNumber(head.subarray(100, 108), what) & 0o7777,
    uid: pax.has('uid') ? Number(pax.get('uid')?.toString()) : readNumber(head.subarray(108, 116), what),
    gid: pax.has('gid') ? Number(pax.get('gid')?.toString()) : readNumber(head.subarray(116, 124), what),
  };
  const link = pax.get('linkpath')?.toString('utf8') ?? ext.longLink ?? cstring(head.subarray(157, 257));
  if (type === 'symlink' || type === 'hardlink') header.linkname = link;
  const xattrs = [...pax].filter(([k]) => k.startsWith('SCHILY.xattr.')).map(([k, v]) => [k.slice(13), Uint8Array.from(v)] as const);
  if (xattrs.length > 0) header.xattrs = xattrs;
  return header;
}

/** The entries of a tar stream. Device nodes, fifos and unknown types are refused (OSTree cannot hold them). */
export async function* readTar(chunks: AsyncIterable<Buffer>, what: string): AsyncGenerator<TarEntry> {
  const r = new ByteReader(chunks[Symbol.asyncIterator]());
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.some(BLOCK);
    if (block.length === 0) return; // no end marker: tolerated, as GNU tar does
    const head = block.length === BLOCK ? block : Buffer.concat([block, await r.exact(BLOCK - block.length, what)]);
    if (head.every((x) => x === 0)) return;
    checkHeader(head, what);
    const flag = String.fromCharCode(head[156] ?? 0);
    const size = pax.has('size') ? Number(pax.get('size')?.toString()) : readNumber(head.subarray(124, 136), what);
    if (!Number.isSafeInteger(size) || size < 0) throw bad(what, 'bad entry size');
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > MAX_PAX) throw bad(what, `an extended header of ${size} bytes is over the ${MAX_PAX}-byte limit`);
      const data = await r.exact(size, what);
      await r.exact(padding(size).length, what);
      if (flag === 'x') pax = new Map([...pax, ...parsePax(data, what)]);
      else if (flag === 'L') longName = cstring(data);
      else if (flag === 'K') longLink = cstring(data);
      continue; // 'g' (global) carries nothing layer uses
    }
    const header = entryHeader(head, flag, size, { pax, longName, longLink }, what);
    const rawName = header.path;
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    let left = size;
    const body = (async function* () {
      while (left > 0) {
        const b = await r.some(Math.min(left, 1 << 20));
        if (b.length === 0) throw bad(what, `the tar stream ends inside '${rawName}'`);
        left -= b.length;
        yield b;
      }
    })();
    yield { header, body };
    while (left > 0) {
      const b = await r.some(left);
      if (b.length === 0) throw bad(what, `the tar stream ends inside '${rawName}'`);
      left -= b.length;
    }
    await r.exact(padding(size).length, what);
  }
}
