/**
 * Streaming payload reader: compressed bytes → digests → decompressor → cpio entries
 * (formats.md §4.5: newc "070701"/"070702" and stripped "07070X"). Entry metadata comes from the
 * header, as rpm's fsm does; the cpio fields only locate data. Nothing larger than one read
 * chunk is held in memory, except a payload that fits one chunk whole: gzip is inflated in one
 * call then, up to INFLATE_WHOLE_LIMIT.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { LayerError } from '../errors.js';
import { capsToVfsCapData } from './caps.js';
import { decompress, pickCompressor, type Compressor } from './decompress.js';
import { ByteReader } from './bytes.js';
import { hardlinkHolders, type FileType, type RpmFile } from './files.js';
import { normalizePayloadPath } from './safepath.js';

export interface PayloadEntry {
  /** Normalized relative path (`usr/bin/hello`): no leading `./` or `/`, no `.`/`..` components. */
  path: string;
  type: FileType;
  /** Full st_mode from the header, including the type bits. */
  mode: number;
  /** From the cpio header (0 in rpmbuild output and always in stripped archives). */
  uid: number;
  gid: number;
  /** Owner names from the header; map them against the target tree's passwd/group. */
  user: string;
  group: string;
  mtime: number;
  /** Header size: bytes of a regular file (also for hardlink members without data), symlink target length. */
  size: number;
  linkTarget?: string;
  /**
   * Set on hardlink-set members that carry no data: the path of the set's data holder, which
   * comes LATER in the payload (the last member in header order). Link them once it is written.
   */
  hardlinkTo?: string;
  /** `security.capability` value (vfs_cap_data rev 2) built from the header's FILECAPS text. */
  caps?: Uint8Array;
  /** RPMFILE_* bits. */
  fileFlags: number;
  /** The header's file record. */
  file: RpmFile;
  /**
   * Regular files holding data: an async iterable of chunks, readable once. Content not read
   * when the iteration advances is skipped (and still verified). The file digest is checked
   * when the last chunk has been read: a mismatch throws LAYER_RPM_DIGEST from the iterator.
   */
  content?: AsyncIterable<Uint8Array>;
}

/** What the payload reader needs to know about its package (filled by openRpm). */
export interface PayloadContext {
  path: string;
  /** Names the package in errors (`hello-2.0-1.x86_64 (/path/hello.rpm)`). */
  what: string;
  payloadOffset: number;
  compressor: string | undefined;
  files: readonly RpmFile[];
  fileDigestAlgo: string;
  /** Stripped cpio (LONGFILESIZES present). */
  stripped: boolean;
  /** Expected hex digest of the compressed payload and its node hash name. */
  payloadDigest?: { algo: string; hex: string };
  /** Legacy MD5 over main header + payload, and the header bytes it starts with. */
  md5?: { hex: string; headerWithMagic: Uint8Array };
  /** Expected main header + payload size (signature SIZE/LONGSIZE). */
  sizeWithHeader?: { expected: number; headerLength: number };
}

const digestError = (what: string, msg: string): LayerError => new LayerError('LAYER_RPM_DIGEST', `${what}: ${msg}`);

function hexField(buf: Buffer, i: number, what: string): number {
  const s = buf.toString('latin1', 6 + i * 8, 14 + i * 8);
  if (!/^[0-9a-fA-F]{8}$/.test(s)) throw new LayerError('LAYER_RPM_FORMAT', `${what}: bad cpio header field '${s}'`);
  return parseInt(s, 16);
}

export async function* readPayload(ctx: PayloadContext): AsyncGenerator<PayloadEntry> {
  const { what } = ctx;
  const byPath = new Map<string, RpmFile>();
  for (const f of ctx.files) byPath.set(f.path, f);
  const holders = hardlinkHolders(ctx.files);
  const seen = new Set<number>();
  // A path below one of the package's own symlinks would be written through that link.
  const symlinks = new Set(ctx.files.filter((f) => f.type === 'symlink').map((f) => f.path));
  const throughSymlink = (p: string): string | undefined => {
    for (let i = p.indexOf('/', 1); i > 0; i = p.indexOf('/', i + 1)) if (symlinks.has(p.slice(0, i))) return p.slice(0, i);
    return undefined;
  };

  const pd = ctx.payloadDigest ? createHash(ctx.payloadDigest.algo) : undefined;
  const md5 = ctx.md5 ? createHash('md5').update(ctx.md5.headerWithMagic) : undefined;
  let compressedBytes = 0;
  // The first chunk is read synchronously: most packages' payloads fit in it whole (the file
  // is then never opened as a stream), and a whole gzip payload is inflated in one call below.
  // Either saves the round trips through libuv's pool that dominated small packages' imports.
  const head = readHead(ctx.path, ctx.payloadOffset);
  const whole = head.length < CHUNK;
  const stream = whole ? undefined : createReadStream(ctx.path, { start: ctx.payloadOffset + head.length, highWaterMark: CHUNK });
  const it = stream ? (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]() : undefined;
  let compressor: ReturnType<typeof pickCompressor>;
  try {
    if (head.length === 0) throw new LayerError('LAYER_RPM_FORMAT', `${what}: no payload after the header`);
    compressor = pickCompressor(ctx.compressor, head, what);
  } catch (err) {
    stream?.destroy();
    throw err;
  }
  // Every compressed byte passes here once: the payload digests and the size check.
  const tap = (chunk: Buffer): Buffer => {
    pd?.update(chunk);
    md5?.update(chunk);
    compressedBytes += chunk.length;
    return chunk;
  };
  async function* tapped(): AsyncGenerator<Buffer> {
    let chunk: Buffer | undefined = head;
    while (chunk) {
      yield tap(chunk);
      const r = it ? await it.next() : undefined;
      chunk = r && !r.done ? r.value : undefined;
    }
  }
  const inflated = whole ? inflateWhole(compressor, head, what) : undefined;
  if (inflated) tap(head);
  const decoded = inflated ? once(inflated) : decompress(compressor, tapped(), what);
  const reader = new ByteReader(decoded, what);
  try {
    for (;;) {
      const magic = (await reader.read(6)).toString('latin1');
      let file: RpmFile | undefined;
      let rel: string;
      let dataSize: number;
      let uid = 0;
      let gid = 0;
      if (magic === '070701' || magic === '070702') {
        const hdr = Buffer.concat([Buffer.from(magic, 'latin1'), await reader.read(104)]);
        const mode = hexField(hdr, 1, what);
        uid = hexField(hdr, 2, what);
        gid = hexField(hdr, 3, what);
        dataSize = hexField(hdr, 6, what);
        const nameSize = hexField(hdr, 11, what);
        if (nameSize < 1 || nameSize > 65536) throw new LayerError('LAYER_RPM_FORMAT', `${what}: cpio name size ${nameSize} out of range`);
        const rawName = (await reader.read(nameSize)).subarray(0, nameSize - 1).toString('utf8');
        await reader.align4();
        if (rawName === 'TRAILER!!!') break;
        rel = normalizePayloadPath(rawName, what);
        file = byPath.get('/' + rel);
        if (!file) throw new LayerError('LAYER_RPM_FORMAT', `${what}: payload entry '${rawName}' is not in the header`);
        if ((mode & 0o170000) !== (file.mode & 0o170000)) {
          throw new LayerError('LAYER_RPM_FORMAT', `${what}: payload entry '${rawName}' has type ${(mode & 0o170000).toString(8)}, header says ${(file.mode & 0o170000).toString(8)}`);
        }
      } else if (magic === '07070X') {
        if (!ctx.stripped) throw new LayerError('LAYER_RPM_FORMAT', `${what}: stripped cpio entry in a package without LONGFILESIZES`);
        const idxHex = (await reader.read(8)).toString('latin1');
        if (!/^[0-9a-fA-F]{8}$/.test(idxHex)) throw new LayerError('LAYER_RPM_FORMAT', `${what}: bad stripped cpio index '${idxHex}'`);
        await reader.align4();
        const idx = parseInt(idxHex, 16);
        if (idx === 0xffffffff) break;
        file = ctx.files[idx];
        if (!file) throw new LayerError('LAYER_RPM_FORMAT', `${what}: stripped cpio index ${idx} beyond ${ctx.files.length} files`);
        rel = normalizePayloadPath('.' + file.path, what);
        const holder = holders.get(idx);
        dataSize = file.type === 'dir' || (holder !== undefined && holder !== idx) ? 0 : file.size;
      } else {
        throw new LayerError('LAYER_RPM_FORMAT', `${what}: bad cpio magic '${magic.replace(/[^\x20-\x7e]/g, '?')}' at payload byte ${reader.position - 6}`);
      }
      const via = symlinks.size ? throughSymlink(file.path) : undefined;
      if (via) throw new LayerError('LAYER_UNSAFE_PATH', `${what}: unsafe payload path '${rel}': passes through the package's symlink '${via}'`);
      if (seen.has(file.index)) throw new LayerError('LAYER_RPM_FORMAT', `${what}: payload has '${file.path}' twice`);
      seen.add(file.index);
      if (file.isGhost) throw new LayerError('LAYER_RPM_FORMAT', `${what}: %ghost file '${file.path}' present in payload`);

      const entry: PayloadEntry = {
        path: rel,
        type: file.type,
        mode: file.mode,
        uid,
        gid,
        user: file.user,
        group: file.group,
        mtime: file.mtime,
        size: file.size,
        fileFlags: file.flags,
        file,
      };
      if (file.caps) {
        try {
          entry.caps = capsToVfsCapData(file.caps);
        } catch (err) {
          throw new LayerError('LAYER_RPM_FORMAT', `${what}: ${file.path}: ${(err as Error).message}`, { cause: err });
        }
      }
      let pending: (() => Promise<void>) | undefined;
      if (file.type === 'symlink') {
        if (dataSize > 65536) throw new LayerError('LAYER_RPM_FORMAT', `${what}: symlink '${file.path}' target of ${dataSize} bytes`);
        const target = (await reader.read(dataSize)).toString('utf8');
        if (file.linkTarget && target !== file.linkTarget) {
          throw new LayerError('LAYER_RPM_FORMAT', `${what}: symlink '${file.path}' points to '${target}' in the payload but '${file.linkTarget}' in the header`);
        }
        entry.linkTarget = target;
        entry.size = Buffer.byteLength(target);
      } else if (file.type === 'file') {
        const holder = holders.get(file.index);
        if (holder !== undefined && holder !== file.index) {
          entry.hardlinkTo = (ctx.files[holder] as RpmFile).path.replace(/^\/+/, '');
          if (dataSize !== 0) throw new LayerError('LAYER_RPM_FORMAT', `${what}: hardlink member '${file.path}' carries data`);
        } else {
          if (dataSize !== file.size) throw new LayerError('LAYER_RPM_FORMAT', `${what}: '${file.path}' has ${dataSize} bytes in the payload, header says ${file.size}`);
          const c = fileContent(reader, file, dataSize, ctx.fileDigestAlgo, what);
          entry.content = c.iterable;
          pending = c.drain;
        }
      } else if (dataSize !== 0) {
        throw new LayerError('LAYER_RPM_FORMAT', `${what}: ${file.type} '${file.path}' carries ${dataSize} bytes of data`);
      }
      yield entry;
      if (pending) await pending();
      await reader.align4();
    }
    const missing = ctx.files.filter((f) => !f.isGhost && !seen.has(f.index));
    if (missing.length) {
      throw new LayerError('LAYER_RPM_FORMAT', `${what}: payload lacks ${missing.length} file(s) listed in the header, e.g. '${missing[0]?.path}'`);
    }
    await reader.drain();
  } finally {
    // Stops the decoder and closes the file when the consumer breaks out early or we threw.
    await decoded.return(undefined).catch(() => {});
    stream?.destroy();
  }
  if (ctx.sizeWithHeader && ctx.sizeWithHeader.headerLength + compressedBytes !== ctx.sizeWithHeader.expected) {
    throw digestError(what, `header+payload is ${ctx.sizeWithHeader.headerLength + compressedBytes} bytes, signature says ${ctx.sizeWithHeader.expected}`);
  }
  if (pd && ctx.payloadDigest) {
    const got = pd.digest('hex');
    if (got !== ctx.payloadDigest.hex.toLowerCase()) throw digestError(what, `payload digest mismatch (${ctx.payloadDigest.algo} ${got}, header says ${ctx.payloadDigest.hex})`);
  }
  if (md5 && ctx.md5) {
    const got = md5.digest('hex');
    if (got !== ctx.md5.hex) throw digestError(what, `MD5 digest mismatch (got ${got}, signature says ${ctx.md5.hex})`);
  }
}

/** Compressed bytes read at a time (and the most read synchronously, for the first chunk). */
const CHUNK = 256 * 1024;
/**
 * The most a whole in-memory gzip payload may inflate to in one call (more: it is streamed,
 * as every larger payload is). Bounds what one package holds in memory at once.
 */
const INFLATE_WHOLE_LIMIT = 8 * 1024 * 1024;

/** Up to CHUNK bytes of the payload at `offset`, read synchronously (fewer: that is all of it). */
function readHead(path: string, offset: number): Buffer {
  // A system error stays one: callers add their context (withContext makes it LAYER_IO).
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    let got = 0;
    for (let n = -1; n !== 0 && got < CHUNK; got += n) n = readSync(fd, buf, got, CHUNK - got, offset + got);
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/**
 * A whole payload held in memory, inflated in one synchronous call when it is gzip (or not
 * compressed) and inflates to at most INFLATE_WHOLE_LIMIT; otherwise undefined (stream it).
 * zlib's one-shot and streaming inflate are the same code: same results, same errors.
 */
function inflateWhole(c: Compressor, data: Buffer, what: string): Buffer | undefined {
  if (c === 'none') return data;
  if (c !== 'gzip') return undefined;
  try {
    return gunzipSync(data, { maxOutputLength: INFLATE_WHOLE_LIMIT });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    throw new LayerError('LAYER_RPM_FORMAT', `${what}: gzip payload: ${(err as Error).message}`, { cause: err });
  }
}

async function* once(b: Buffer): AsyncGenerator<Buffer> {
  yield b;
}

/** One file's data as a one-shot iterable plus a drain that skips (and still verifies) the rest. */
function fileContent(reader: ByteReader, file: RpmFile, size: number, algo: string, what: string) {
  let remaining = size;
  const hash: Hash | undefined = file.digest ? createHash(algo) : undefined;
  let checked = false;
  const check = (): void => {
    if (checked || !hash) return;
    checked = true;
    const got = hash.digest('hex');
    if (got !== file.digest) throw digestError(what, `file '${file.path}' digest mismatch (${algo} ${got}, header says ${file.digest})`);
  };
  const pull = async (): Promise<Buffer | undefined> => {
    if (remaining === 0) {
      check();
      return undefined;
    }
    const c = await reader.readSome(remaining);
    remaining -= c.length;
    hash?.update(c);
    return c;
  };
  const iterable: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const c = await pull();
        return c ? { value: c, done: false } : { value: undefined, done: true };
      },
      // Leaving early keeps the position; the drain below finishes the file.
      return: async () => ({ value: undefined, done: true }),
    }),
  };
  const drain = async (): Promise<void> => {
    while (await pull()) { /* skip */ }
  };
  return { iterable, drain };
}
