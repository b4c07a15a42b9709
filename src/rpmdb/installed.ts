/**
 * Builds the header rpm stores in `Packages.blob` for a package it installs (formats.md §5.3,
 * rpm:lib/package.c headerMergeLegacySigs + applyRetrofits, lib/psm.c dbAdd,
 * lib/relocation.c): the package's immutable region unchanged, plus dribbles for the
 * translated signature tags, SOURCERPM "(none)" on ancient packages, FILESTATES,
 * INSTALLTIME, INSTALLCOLOR, INSTALLTID and INSTPREFIXES.
 */
import { LayerError } from '../errors.js';
import type { RpmHeader } from '../rpm/index.js';
import { appendDribbles, DribbleType, type Dribble } from './dribble.js';

/** Install-time facts rpm records in every header of one transaction. */
export interface InstallStamp {
  /** Transaction id (rpm uses the transaction's start time); also the Installtid index key. */
  installTid: number;
  /** Seconds since the epoch; defaults to installTid so a compose is reproducible. */
  installTime?: number;
  /** Transaction colour: rpm on x86_64/aarch64 records 3 (the default here); 0 is also accepted by rpm. */
  installColor?: number;
}

export interface PackageInstall {
  /** Per-file states (0 normal, 2 not installed, ...); default all 0. Must match the file count. */
  fileStates?: readonly number[];
}

/** Signature tag → the tag rpm stores it as, with rpm's count check (0 = any) and quirk flag. */
const XLATE: readonly { sig: number; tag: number; count: number; quirk: boolean }[] = [
  { sig: 1000, tag: 257, count: 1, quirk: false }, // SIZE → SIGSIZE
  { sig: 1002, tag: 259, count: 0, quirk: false }, // PGP → SIGPGP
  { sig: 1004, tag: 261, count: 16, quirk: false }, // MD5 → SIGMD5
  { sig: 1005, tag: 262, count: 0, quirk: false }, // GPG → SIGGPG
  { sig: 1007, tag: 1046, count: 1, quirk: true }, // PAYLOADSIZE → ARCHIVESIZE
  { sig: 274, tag: 5090, count: 0, quirk: true }, // FILESIGNATURES
  { sig: 275, tag: 5091, count: 1, quirk: true }, // FILESIGNATURELENGTH
  { sig: 276, tag: 276, count: 0, quirk: false }, // VERITYSIGNATURES
  { sig: 277, tag: 277, count: 1, quirk: false }, // VERITYSIGNATUREALGO
  { sig: 269, tag: 269, count: 1, quirk: false }, // SHA1 → SHA1HEADER
  { sig: 273, tag: 273, count: 1, quirk: false }, // SHA256 → SHA256HEADER
  { sig: 267, tag: 267, count: 0, quirk: false }, // DSA → DSAHEADER
  { sig: 268, tag: 268, count: 0, quirk: false }, // RSA → RSAHEADER
  { sig: 270, tag: 270, count: 1, quirk: false }, // LONGSIZE → LONGSIGSIZE
  { sig: 271, tag: 271, count: 1, quirk: true }, // LONGARCHIVESIZE
];

const TAG = {
  INSTALLTIME: 1008,
  FILESTATES: 1029,
  SOURCERPM: 1044,
  PREFIXES: 1098,
  INSTPREFIXES: 1099,
  SOURCEPACKAGE: 1106,
  BASENAMES: 1117,
  OLDFILENAMES: 1027,
  INSTALLCOLOR: 1127,
  INSTALLTID: 1128,
} as const;

/** The raw bytes of a tag's data, for copying a signature tag with its exact type. */
function rawEntry(h: RpmHeader, tag: number): { type: number; count: number; bytes: Uint8Array } | undefined {
  const e = h.entry(tag);
  if (!e) return undefined;
  const start = 8 + h.index.length * 16 + e.offset;
  return { type: e.type, count: e.count, bytes: h.blob.subarray(start, start + e.length) };
}

function signatureDribbles(main: RpmHeader, sig: RpmHeader, what: string): Dribble[] {
  // rpm merges nothing when the main header already carries a translated tag (a quirk tag may
  // live in either header, but never both).
  for (const x of XLATE) {
    if (main.has(x.tag) && !(x.quirk && !sig.has(x.sig))) return [];
  }
  const out: Dribble[] = [];
  for (const x of XLATE) {
    const raw = rawEntry(sig, x.sig);
    if (!raw) continue;
    if (x.count !== 0 && raw.count !== x.count) {
      throw new LayerError('LAYER_RPMDB', `${what}: signature tag ${x.sig} has count ${raw.count}, expected ${x.count}`);
    }
    out.push({ tag: x.tag, type: DribbleType.Raw, rawType: raw.type, count: raw.count, value: raw.bytes });
  }
  return out;
}

/**
 * The `Packages.blob` for a package being installed: `main` is its main header (a bare blob
 * whose entries all sit in the immutable region), `signature` its signature header.
 * Throws LAYER_RPMDB naming `what` for headers rpm itself would have to rewrite (no region,
 * legacy OLDFILENAMES) or a FILESTATES list of the wrong length.
 */
export function installedHeaderBlob(
  main: RpmHeader,
  signature: RpmHeader | undefined,
  stamp: InstallStamp,
  what: string,
  pkg: PackageInstall = {},
): Uint8Array {
  const region = main.region;
  if (!region || region.tag !== 63) {
    throw new LayerError('LAYER_RPMDB', `${what}: main header has no immutable region (pre-rpm-4 package); not supported`);
  }
  if (region.entries !== main.index.length) {
    throw new LayerError('LAYER_RPMDB', `${what}: header already has entries outside its region (an installed header, not a package's)`);
  }
  if (main.has(TAG.OLDFILENAMES)) {
    throw new LayerError('LAYER_RPMDB', `${what}: legacy OLDFILENAMES file list; not supported`);
  }

  const dribbles: Dribble[] = signature ? signatureDribbles(main, signature, what) : [];
  if (!main.has(TAG.SOURCERPM) && !main.has(TAG.SOURCEPACKAGE)) {
    dribbles.push({ tag: TAG.SOURCERPM, type: DribbleType.String, value: '(none)' });
  }
  const fileCount = main.entry(TAG.BASENAMES)?.count ?? 0;
  if (pkg.fileStates && pkg.fileStates.length !== fileCount) {
    throw new LayerError('LAYER_RPMDB', `${what}: ${pkg.fileStates.length} file states given for ${fileCount} files`);
  }
  if (fileCount > 0) {
    dribbles.push({ tag: TAG.FILESTATES, type: DribbleType.Char, value: pkg.fileStates ?? new Array<number>(fileCount).fill(0) });
  }
  dribbles.push({ tag: TAG.INSTALLTIME, type: DribbleType.Int32, value: [stamp.installTime ?? stamp.installTid] });
  dribbles.push({ tag: TAG.INSTALLCOLOR, type: DribbleType.Int32, value: [stamp.installColor ?? 3] });
  dribbles.push({ tag: TAG.INSTALLTID, type: DribbleType.Int32, value: [stamp.installTid] });
  const prefixes = main.strings(TAG.PREFIXES);
  if (prefixes.length > 0) {
    // Not relocated: rpm records the original prefixes, trailing slashes stripped.
    const inst = prefixes.map((p) => (p.length > 1 ? p.replace(/\/+$/, '') : p));
    dribbles.push({ tag: TAG.INSTPREFIXES, type: DribbleType.StringArray, value: inst });
  }
  return appendDribbles(main.blob, dribbles, what);
}
