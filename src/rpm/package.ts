/**
 * Opening a package file (formats.md §4.1–4.3): lead, signature header, main header. Only the
 * headers are read here (a few kB); the payload is streamed later by `entries()`.
 */
import { formatNevra } from '../nevra.js';
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { LayerError } from '../errors.js';
import type { Nevra } from '../solver/types.js';
import { HEADER_MAGIC, parseHeaderBlob, type RpmHeader } from './header.js';
import { parsePgpSignature, type PgpSignatureInfo } from './pgp.js';
import { DIGEST_ALGOS, SIG, TAG } from './tags.js';

/** rpm's limits for the signature header (hdrblobRead: 32 tags, 64 MiB), and the main one's. */
const SIG_LIMITS = { maxTags: 32, maxData: 64 * 1024 * 1024 };
const MAIN_LIMITS = { maxTags: 0xffff, maxData: 0x0fffffff };
const LEAD_SIZE = 96;

export interface RpmSignatureInfo {
  /** Hex digests from the signature header, when present (all verified at open / payload end). */
  sha256?: string;
  sha1?: string;
  md5?: string;
  /** PAYLOADDIGEST from the main header and its algorithm (node hash name). */
  payloadDigest?: string;
  payloadDigestAlgo?: string;
  /** OpenPGP signatures present: header-only (RSA/DSA tags) and legacy header+payload (PGP/GPG). */
  signatures: PgpSignatureInfo[];
  /** Issuer key ids of all signatures, 16 lowercase hex digits, deduplicated. */
  keyIds: string[];
  /** Main header + compressed payload size, from SIZE or LONGSIZE. */
  size?: number;
  /** Uncompressed payload size, from PAYLOADSIZE or LONGARCHIVESIZE. */
  payloadSize?: number;
}

export interface RpmFileLayout {
  fileSize: number;
  signatureHeader: RpmHeader;
  header: RpmHeader;
  /** Offset of the main header's magic. */
  headerOffset: number;
  payloadOffset: number;
  lead: { major: number; minor: number; type: number; name: string };
}

function fmt(what: string, msg: string): LayerError {
  return new LayerError('LAYER_RPM_FORMAT', `${what}: ${msg}`);
}

/**
 * Reads of the lead and both headers, from one synchronous read of the file's first
 * `HEAD_READ` bytes: that covers both headers of almost every package, and a larger main header
 * costs one more read. Synchronous because each await was a round trip through libuv's pool:
 * eight of them per package (open, stat, lead, two reads per header, close) made the verify
 * step of an upgrade (35 packages) wait ~20 ms on a file already in the page cache.
 */
const HEAD_READ = 64 * 1024;

class HeadReader {
  private head: Buffer;
  constructor(private readonly fd: number, readonly fileSize: number, private readonly what: () => string) {
    this.head = Buffer.allocUnsafe(Math.min(fileSize, HEAD_READ));
    this.head = this.head.subarray(0, readSync(fd, this.head, 0, this.head.length, 0));
  }

  at(pos: number, len: number, part: string): Buffer {
    if (pos + len > this.fileSize) throw fmt(this.what(), `truncated in the ${part} (needs ${pos + len} bytes, file has ${this.fileSize})`);
    if (pos + len <= this.head.length) return this.head.subarray(pos, pos + len);
    const buf = Buffer.allocUnsafe(len);
    if (readSync(this.fd, buf, 0, len, pos) !== len) throw fmt(this.what(), `short read in the ${part}`);
    return buf;
  }

  header(pos: number, part: string, limits: { maxTags: number; maxData: number }): { header: RpmHeader; length: number } {
    const pre = this.at(pos, 16, part);
    const what = this.what();
    if (!pre.subarray(0, 8).equals(HEADER_MAGIC)) throw fmt(what, `bad ${part} magic ${pre.subarray(0, 8).toString('hex')}`);
    const il = pre.readUInt32BE(8);
    const dl = pre.readUInt32BE(12);
    // Bounds first, so an absurd il/dl never turns into a huge allocation.
    if (il < 1 || il > limits.maxTags) throw fmt(what, `${part}: index count ${il} out of range 1..${limits.maxTags}`);
    if (dl > limits.maxData) throw fmt(what, `${part}: data length ${dl} exceeds ${limits.maxData}`);
    const length = 16 + il * 16 + dl;
    const bytes = this.at(pos, length, part);
    const header = parseHeaderBlob(bytes.subarray(8), `${what}: ${part}`, limits);
    return { header, length };
  }
}

/** The main header is its immutable region and nothing else (what rpm signs and the rpmdb stores). */
function checkRegion(main: RpmHeader, what: string): void {
  const reg = main.region;
  if (reg && (reg.entries !== main.index.length || 8 + reg.entries * 16 + reg.dataLength !== main.blob.length)) {
    throw fmt(what, `main header has data outside its immutable region (${reg.entries} of ${main.index.length} entries)`);
  }
}

/** Reads and structurally validates lead and both headers. */
export async function readLayout(path: string): Promise<RpmFileLayout> {
  let what = path;
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new LayerError('LAYER_RPM_FORMAT', `cannot open package ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const r = new HeadReader(fd, fstatSync(fd).size, () => what);
    const lead = r.at(0, LEAD_SIZE, 'lead');
    if (lead.readUInt32BE(0) !== 0xedabeedb) throw fmt(what, 'not an RPM package (bad lead magic)');
    const major = lead[4] ?? 0;
    if (major !== 3 && major !== 4) throw fmt(what, `unsupported RPM major version ${major}`);
    if (lead.readUInt16BE(78) !== 5) throw fmt(what, `unsupported signature type ${lead.readUInt16BE(78)}`);
    const nameEnd = lead.indexOf(0, 10);
    const leadName = lead.toString('latin1', 10, nameEnd < 0 || nameEnd > 76 ? 76 : nameEnd);
    // Until the header is trusted, the lead's name-version-release is the best name we have.
    const printable = leadName.replace(/[^\x21-\x7e]/g, '?');
    if (printable) what = `${printable} (${basename(path)})`;
    const sig = r.header(LEAD_SIZE, 'signature header', SIG_LIMITS);
    const headerOffset = LEAD_SIZE + sig.length + ((8 - (sig.length % 8)) % 8);
    const main = r.header(headerOffset, 'main header', MAIN_LIMITS);
    checkRegion(main.header, what);
    return {
      fileSize: r.fileSize,
      signatureHeader: sig.header,
      header: main.header,
      headerOffset,
      payloadOffset: headerOffset + main.length,
      lead: { major, minor: lead[5] ?? 0, type: lead.readUInt16BE(6), name: leadName },
    };
  } finally {
    closeSync(fd);
  }
}

/**
 * The layout of a package whose file is not at hand, from its two headers as an import stored
 * them (`header.blob` of each): parsed with the limits a file's headers get, checked the same
 * way. There is no payload: `payloadOffset` is -1.
 */
export function layoutFromHeaders(signatureHeader: Uint8Array, header: Uint8Array, fileSize: number, what: string): RpmFileLayout {
  const sig = parseHeaderBlob(signatureHeader, `${what}: signature header`, SIG_LIMITS);
  const main = parseHeaderBlob(header, `${what}: main header`, MAIN_LIMITS);
  checkRegion(main, what);
  return { fileSize, signatureHeader: sig, header: main, headerOffset: -1, payloadOffset: -1, lead: { major: 3, minor: 0, type: 0, name: '' } };
}

/** Collects digests and signatures from the signature header (and PAYLOADDIGEST from the main one). */
export function signatureInfo(sig: RpmHeader, main: RpmHeader, what: string): RpmSignatureInfo {
  const info: RpmSignatureInfo = { signatures: [], keyIds: [] };
  const s256 = sig.string(SIG.SHA256);
  if (s256) info.sha256 = s256.toLowerCase();
  const s1 = sig.string(SIG.SHA1);
  if (s1) info.sha1 = s1.toLowerCase();
  const m5 = sig.bin(SIG.MD5);
  if (m5) info.md5 = Buffer.from(m5).toString('hex');
  const pd = main.string(TAG.PAYLOADDIGEST);
  if (pd) {
    info.payloadDigest = pd.toLowerCase();
    const id = main.number(TAG.PAYLOADDIGESTALGO) ?? 8;
    const algo = DIGEST_ALGOS[id];
    if (!algo) throw new LayerError('LAYER_RPM_FORMAT', `${what}: unknown payload digest algorithm ${id}`);
    info.payloadDigestAlgo = algo;
  }
  const size = sig.has(SIG.LONGSIZE) ? sig.number(SIG.LONGSIZE) : sig.number(SIG.SIZE);
  if (size !== undefined) info.size = size;
  const psize = sig.has(SIG.LONGARCHIVESIZE) ? sig.number(SIG.LONGARCHIVESIZE) : sig.number(SIG.PAYLOADSIZE);
  if (psize !== undefined) info.payloadSize = psize;
  const tags: [number, PgpSignatureInfo['tag']][] = [[SIG.RSA, 'rsa'], [SIG.DSA, 'dsa'], [SIG.PGP, 'pgp'], [SIG.GPG, 'gpg']];
  for (const [tag, name] of tags) {
    const b = sig.bin(tag);
    if (!b) continue;
    const p = parsePgpSignature(b, name);
    if (p) info.signatures.push(p);
  }
  info.keyIds = [...new Set(info.signatures.map((s) => s.keyId).filter((k): k is string => !!k))];
  return info;
}

/** Checks SHA256/SHA1 header digests over the main header with its magic (formats.md §4.3). */
export function verifyHeaderDigests(main: RpmHeader, info: RpmSignatureInfo, what: string): void {
  if (!info.sha256 && !info.sha1) return;
  const bytes = main.withMagic();
  for (const [algo, want] of [['sha256', info.sha256], ['sha1', info.sha1]] as const) {
    if (!want) continue;
    const got = createHash(algo).update(bytes).digest('hex');
    if (got !== want) throw new LayerError('LAYER_RPM_DIGEST', `${what}: header ${algo.toUpperCase()} digest mismatch (got ${got}, signature says ${want})`);
  }
}

export function nevraOf(name: string, epoch: number, version: string, release: string, arch: string): Nevra {
  return formatNevra({ name, epoch, version, release, arch });
}
