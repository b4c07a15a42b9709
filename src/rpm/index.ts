/**
 * The RPM reader: package files (lead, signature header, main header, payload) as typed data.
 *
 * Contract for the store and rpmdb:
 * - `openRpm(path)` reads only the headers, validates their structure (bounds-checked:
 *   LAYER_RPM_FORMAT naming the package) and checks the header SHA256/SHA1 digests
 *   (LAYER_RPM_DIGEST). The payload is not read until `entries()`/`extractTo()`.
 * - `entries()` streams the payload in payload order. Each regular file with data has a one-shot
 *   `content` AsyncIterable<Uint8Array>; unread content is skipped when the iteration advances.
 *   File digests are checked as each file's last byte is read; PAYLOADDIGEST (compressed
 *   payload) and SIZE are checked after the cpio trailer, the legacy MD5 too when the package
 *   has no PAYLOADDIGEST, so a consumer must treat what it saw as provisional until the
 *   iteration completes without throwing. PAYLOADDIGESTALT (uncompressed) is not checked: the
 *   per-file digests cover the content. OpenPGP signatures are parsed (key ids) here and
 *   verified by src/trust (`verifyRpmSignature(pkg, keyring)`).
 *   Entry metadata (mode, owner names, mtime, caps, flags) comes from the header, as in rpm's
 *   fsm; `entry.file` is the full header record. A path through one of the package's own
 *   symlinks, `..`, or an absolute name is LAYER_UNSAFE_PATH. Hardlink members without data come
 *   first, with `hardlinkTo` naming the holder that follows. %ghost files never appear.
 * - `extractTo(dir)` is entries() into a temp dir inside `dir`, moved into place only after the
 *   whole payload verified.
 * - `parseHeaderBlob(bytes)` parses a bare header (no magic) as the rpmdb stores it;
 *   `pkg.header.blob` is exactly that form of the package's main header (its immutable region).
 */
import { basename } from 'node:path';
import { LayerError } from '../errors.js';
import type { Nevra, PackageRecord } from '../solver/types.js';
import { DEP_KINDS, readDeps, type DepKind, type RpmDep } from './deps.js';
import { headerToRecord } from './record.js';
import { extractEntries, type ExtractOptions } from './extract.js';
import { fileDigestAlgo, readFiles, type RpmFile } from './files.js';
import type { RpmHeader } from './header.js';
import { layoutFromHeaders, nevraOf, readLayout, signatureInfo, verifyHeaderDigests, type RpmFileLayout, type RpmSignatureInfo } from './package.js';
import { readPayload, type PayloadContext, type PayloadEntry } from './payload.js';
import { readScriptlets, type RpmScriptlet } from './scriptlets.js';
export { readScriptlets };
import { TAG } from './tags.js';

export { parseHeaderBlob, RpmHeader, HEADER_MAGIC, type HeaderEntry, type HeaderRegion } from './header.js';
export { TAG, SIG, SENSE, FILEFLAG, TagType } from './tags.js';
export { formatDep, isPreRequire, type RpmDep, type DepKind } from './deps.js';
export { headerToRecord } from './record.js';
export { capsToVfsCapData, parseCapText } from './caps.js';
export { normalizePayloadPath } from './safepath.js';
export type { RpmFile, FileType } from './files.js';
export type { RpmScriptlet, ScriptletKind, TriggerCondition } from './scriptlets.js';
export type { PgpSignatureInfo } from './pgp.js';
export type { RpmSignatureInfo } from './package.js';
export type { PayloadEntry } from './payload.js';
export type { ExtractOptions } from './extract.js';

export interface RpmPackage {
  path: string;
  nevra: Nevra;
  name: string;
  epoch: number;
  version: string;
  release: string;
  arch: string;
  /** Main header: typed accessors, and `header.blob` = the raw header without magic. */
  header: RpmHeader;
  signatureHeader: RpmHeader;
  signature: RpmSignatureInfo;
  files: RpmFile[];
  /** Node hash name of FILEDIGESTALGO ('md5' when absent). */
  fileDigestAlgo: string;
  scriptlets: RpmScriptlet[];
  /** PAYLOADCOMPRESSOR ('gzip' when absent), PAYLOADFORMAT ('cpio'), PAYLOADFLAGS. */
  payload: { format: string; compressor: string; flags: string; offset: number };
  deps(kind: DepKind): RpmDep[];
  toRecord(): PackageRecord;
  entries(): AsyncIterable<PayloadEntry>;
  extractTo(dir: string, opts?: ExtractOptions): Promise<void>;
}

export async function openRpm(path: string): Promise<RpmPackage> {
  return packageOf(await readLayout(path), path);
}

/**
 * A package whose file is not at hand, from the two headers an import stored (`header.blob`
 * of `signatureHeader` and `header`): checked as openRpm checks a file's (header digests,
 * structure), its `path` only naming it. Its payload cannot be read: `entries()` throws.
 */
export function packageFromHeaders(stored: StoredHeaders, path: string): RpmPackage {
  return packageOf(layoutFromHeaders(stored.signatureHeader, stored.header, stored.fileSize, basename(path)), path);
}

/** What packageFromHeaders takes: the two header blobs an import stored, and the file's size. */
export interface StoredHeaders {
  signatureHeader: Uint8Array;
  header: Uint8Array;
  fileSize: number;
}

function packageOf(layout: RpmFileLayout, path: string): RpmPackage {
  const h = layout.header;
  const file = basename(path);
  const name = h.string(TAG.NAME) ?? '';
  const version = h.string(TAG.VERSION) ?? '';
  const release = h.string(TAG.RELEASE) ?? '';
  const epoch = h.number(TAG.EPOCH) ?? 0;
  const isSource = layout.lead.type === 1 || h.has(1106);
  const arch = isSource ? 'src' : (h.string(TAG.ARCH) ?? 'noarch');
  const nevra = nevraOf(name, epoch, version, release, arch);
  const what = `${nevra} (${file})`;
  if (!name || !version || !release) {
    throw new LayerError('LAYER_RPM_FORMAT', `${file}: header lacks name/version/release`);
  }
  const signature = signatureInfo(layout.signatureHeader, h, what);
  verifyHeaderDigests(h, signature, what);
  const files = readFiles(h, what);
  const scriptlets = readScriptlets(h, what);
  const digestAlgo = fileDigestAlgo(h, what);
  const payload = {
    format: h.string(TAG.PAYLOADFORMAT) ?? 'cpio',
    compressor: h.string(TAG.PAYLOADCOMPRESSOR) ?? 'gzip',
    flags: h.string(TAG.PAYLOADFLAGS) ?? '',
    offset: layout.payloadOffset,
  };
  const ctx: PayloadContext = {
    path,
    what,
    payloadOffset: layout.payloadOffset,
    compressor: h.string(TAG.PAYLOADCOMPRESSOR),
    files,
    fileDigestAlgo: digestAlgo,
    stripped: h.has(TAG.LONGFILESIZES),
  };
  if (signature.payloadDigest && signature.payloadDigestAlgo) ctx.payloadDigest = { algo: signature.payloadDigestAlgo, hex: signature.payloadDigest };
  // The legacy MD5 (header + payload) is only checked when there is no PAYLOADDIGEST: with one,
  // SHA-256 already covers the same bytes, and MD5 was the slowest pass (~250 MB/s).
  if (signature.md5 && !ctx.payloadDigest) ctx.md5 = { hex: signature.md5, headerWithMagic: h.withMagic() };
  if (signature.size !== undefined) ctx.sizeWithHeader = { expected: signature.size, headerLength: layout.payloadOffset - layout.headerOffset };
  const deps = (kind: DepKind): RpmDep[] => readDeps(h, kind, what);
  const pkg: RpmPackage = {
    path, nevra, name, epoch, version, release, arch,
    header: h,
    signatureHeader: layout.signatureHeader,
    signature,
    files,
    fileDigestAlgo: digestAlgo,
    scriptlets,
    payload,
    deps,
    toRecord: () => toRecord(pkg, what, layout.fileSize),
    entries: () => payloadOf(ctx, payload.format),
    extractTo: (dir, opts) => extractEntries(payloadOf(ctx, payload.format), dir, what, opts),
  };
  if (layout.payloadOffset < 0) withoutPayload(pkg, what);
  // Fail at open, not later, if a dependency array is malformed.
  for (const k of DEP_KINDS) deps(k);
  return pkg;
}

function payloadOf(ctx: PayloadContext, format: string): AsyncGenerator<PayloadEntry> {
  if (format !== 'cpio') throw new LayerError('LAYER_RPM_FORMAT', `${ctx.what}: unsupported payload format '${format}'`);
  return readPayload(ctx);
}

/** A package from stored headers (packageFromHeaders): reading its payload is a bug. */
function withoutPayload(pkg: RpmPackage, what: string): void {
  const none = (): never => {
    throw new LayerError('LAYER_INTERNAL', `assertion failed: ${what}: the payload of a package read from its stored headers`);
  };
  pkg.entries = none;
  pkg.extractTo = none;
}

/** The solver's view of a package file: its header's record plus the file's size. */
function toRecord(pkg: RpmPackage, what: string, fileSize: number): PackageRecord {
  return { ...headerToRecord(pkg.header, what), arch: pkg.arch, downloadSize: fileSize };
}
