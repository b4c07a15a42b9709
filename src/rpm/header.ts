/**
 * RPM header structure parser (formats.md §4.1, §4.2; rpm's lib/header.c).
 *
 * A header is `il`, `dl`, `il` 16-byte index entries and `dl` bytes of data. In a package file
 * it is preceded by an 8-byte magic; in the rpmdb (`Packages.blob`) it is not. Every offset and
 * count is checked against `dl` before anything is decoded, so a hostile header can neither make
 * us read out of bounds nor allocate more than the bytes it actually has.
 */
import { LayerError } from '../errors.js';
import { TAG_HEADERIMMUTABLE, TAG_HEADERSIGNATURES, TAG_I18NTABLE, TagType } from './tags.js';

export const HEADER_MAGIC = Uint8Array.of(0x8e, 0xad, 0xe8, 0x01, 0, 0, 0, 0);

/** rpm's own limits (header_internal.h hdrchkTags / hdrchkData). */
export const MAX_TAGS = 0xffff;
export const MAX_DATA = 0x0fffffff;

export interface HeaderEntry {
  tag: number;
  type: TagType;
  /** Offset into the data store. */
  offset: number;
  count: number;
  /** Byte length of the item's data (validated to fit in the store). */
  length: number;
}

/** The immutable region described by the first index entry (tag 62 or 63), when present. */
export interface HeaderRegion {
  tag: number;
  /** Number of index entries in the region, the region entry included. */
  entries: number;
  /** Bytes of data store the region covers (trailer included). */
  dataLength: number;
}

const TYPE_SIZE: Record<number, number> = { 0: 0, 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 };

function formatError(what: string, msg: string): LayerError {
  return new LayerError('LAYER_RPM_FORMAT', `${what}: bad header: ${msg}`);
}

export class RpmHeader {
  /** `il`, `dl`, index and data, without the 8-byte magic: exactly what the rpmdb stores. */
  readonly blob: Uint8Array;
  readonly region: HeaderRegion | undefined;
  /** Entries in index order. */
  readonly index: readonly HeaderEntry[];
  private readonly byTag = new Map<number, HeaderEntry>();
  private readonly view: DataView;
  private readonly dataStart: number;
  /** The blob as a Buffer (its strings are sliced from it), made on first use. */
  #text: Buffer | undefined;
  private readonly what: string;

  /** Use {@link parseHeaderBlob}; this only wires validated parts together. */
  constructor(blob: Uint8Array, index: HeaderEntry[], region: HeaderRegion | undefined, what: string) {
    this.blob = blob;
    this.index = index;
    this.region = region;
    this.what = what;
    this.view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
    this.dataStart = 8 + index.length * 16;
    // Later entries win, as with dribbles that override region tags in the rpmdb.
    for (const e of index) this.byTag.set(e.tag, e);
  }

  /** The header as it appears in a package file: magic + blob. */
  withMagic(): Uint8Array {
    const out = new Uint8Array(8 + this.blob.length);
    out.set(HEADER_MAGIC, 0);
    out.set(this.blob, 8);
    return out;
  }

  /**
   * The exact immutable region as a stand-alone blob (no magic): the region's index entries and
   * data, unchanged. For a package's main header this equals `blob`.
   */
  regionBlob(): Uint8Array {
    const r = this.region;
    if (!r) return this.blob;
    const out = new Uint8Array(8 + r.entries * 16 + r.dataLength);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, r.entries);
    dv.setUint32(4, r.dataLength);
    out.set(this.blob.subarray(8, 8 + r.entries * 16), 8);
    out.set(this.blob.subarray(this.dataStart, this.dataStart + r.dataLength), 8 + r.entries * 16);
    return out;
  }

  has(tag: number): boolean {
    return this.byTag.has(tag);
  }

  entry(tag: number): HeaderEntry | undefined {
    return this.byTag.get(tag);
  }

  /** A STRING (or the first of an array / the C locale of an I18N string). */
  string(tag: number): string | undefined {
    const e = this.byTag.get(tag);
    if (!e) return undefined;
    this.expect(e, [TagType.String, TagType.StringArray, TagType.I18nString]);
    return this.readStrings(e, 1)[0];
  }

  /** A STRING_ARRAY (a STRING is returned as a one-element array). */
  strings(tag: number): string[] {
    const e = this.byTag.get(tag);
    if (!e) return [];
    this.expect(e, [TagType.String, TagType.StringArray, TagType.I18nString]);
    return this.readStrings(e, e.type === TagType.String ? 1 : e.count);
  }

  /** All locales of an I18N string, keyed by the locale names of HEADERI18NTABLE. */
  i18n(tag: number): Map<string, string> {
    const out = new Map<string, string>();
    const values = this.strings(tag);
    const locales = this.strings(TAG_I18NTABLE);
    values.forEach((v, i) => out.set(locales[i] ?? 'C', v));
    return out;
  }

  /** CHAR/INT8/INT16/INT32 arrays, read unsigned (rpm's convention). INT64 goes through {@link bigints}. */
  numbers(tag: number): number[] {
    const e = this.byTag.get(tag);
    if (!e) return [];
    this.expect(e, [TagType.Char, TagType.Int8, TagType.Int16, TagType.Int32, TagType.Int64]);
    if (e.type === TagType.Int64) return this.bigints(tag).map((b) => this.safe(b, tag));
    const out = new Array<number>(e.count);
    const base = this.dataStart + e.offset;
    for (let i = 0; i < e.count; i++) {
      if (e.type === TagType.Int32) out[i] = this.view.getUint32(base + i * 4);
      else if (e.type === TagType.Int16) out[i] = this.view.getUint16(base + i * 2);
      else out[i] = this.view.getUint8(base + i);
    }
    return out;
  }

  number(tag: number): number | undefined {
    return this.has(tag) ? this.numbers(tag)[0] : undefined;
  }

  bigints(tag: number): bigint[] {
    const e = this.byTag.get(tag);
    if (!e) return [];
    if (e.type !== TagType.Int64) return this.numbers(tag).map((n) => BigInt(n));
    const out = new Array<bigint>(e.count);
    const base = this.dataStart + e.offset;
    for (let i = 0; i < e.count; i++) out[i] = this.view.getBigUint64(base + i * 8);
    return out;
  }

  /** BIN data (a view into the blob; copy before mutating). */
  bin(tag: number): Uint8Array | undefined {
    const e = this.byTag.get(tag);
    if (!e) return undefined;
    this.expect(e, [TagType.Bin]);
    const start = this.dataStart + e.offset;
    return this.blob.subarray(start, start + e.count);
  }

  private safe(b: bigint, tag: number): number {
    if (b > BigInt(Number.MAX_SAFE_INTEGER)) throw formatError(this.what, `tag ${tag} value ${b} too large`);
    return Number(b);
  }

  private expect(e: HeaderEntry, types: TagType[]): void {
    if (!types.includes(e.type)) throw formatError(this.what, `tag ${e.tag} has type ${e.type}, expected ${types.join('/')}`);
  }

  /**
   * The first `n` strings of `e`, bytes as UTF-8 (invalid sequences become U+FFFD, a leading
   * BOM stays, as rpm keeps the bytes). A whole array is decoded in one call and split at its
   * NULs: one decode per string cost ~6 ms of an upgrade (its packages' file lists).
   */
  private readStrings(e: HeaderEntry, n: number): string[] {
    const buf = (this.#text ??= Buffer.from(this.blob.buffer, this.blob.byteOffset, this.blob.byteLength));
    let p = this.dataStart + e.offset;
    const end = p + e.length;
    if (n > 1 && n === e.count && buf[end - 1] === 0) {
      const out = buf.toString('utf8', p, end - 1).split('\0');
      if (out.length === n) return out;
    }
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const z = buf.indexOf(0, p);
      // Validated at parse time; a miss here would be a parser bug.
      if (z < 0 || z >= end) throw formatError(this.what, `tag ${e.tag} string ${i} unterminated`);
      out.push(buf.toString('utf8', p, z));
      p = z + 1;
    }
    return out;
  }
}

/**
 * Parses a bare header blob (no magic), as stored in the rpmdb or following the magic in a
 * package. `what` names the package or file in errors. The blob may be longer than the header;
 * use {@link headerLength} to learn where it ends. Throws LAYER_RPM_FORMAT on anything malformed.
 */
export function parseHeaderBlob(bytes: Uint8Array, what = 'header', opts: { maxTags?: number; maxData?: number } = {}): RpmHeader {
  if (bytes.length < 8) throw formatError(what, `truncated (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const il = dv.getUint32(0);
  const dl = dv.getUint32(4);
  const maxTags = opts.maxTags ?? MAX_TAGS;
  const maxData = opts.maxData ?? MAX_DATA;
  if (il < 1 || il > maxTags) throw formatError(what, `index count ${il} out of range 1..${maxTags}`);
  if (dl > maxData) throw formatError(what, `data length ${dl} exceeds ${maxData}`);
  const total = 8 + il * 16 + dl;
  if (total > bytes.length) throw formatError(what, `truncated: needs ${total} bytes, has ${bytes.length}`);
  const blob = bytes.subarray(0, total);
  const dataStart = 8 + il * 16;
  const index: HeaderEntry[] = [];
  for (let i = 0; i < il; i++) {
    const p = 8 + i * 16;
    const tag = dv.getUint32(p);
    const type = dv.getUint32(p + 4);
    const offset = dv.getInt32(p + 8);
    const count = dv.getUint32(p + 12);
    const where = `index entry ${i} (tag ${tag})`;
    if (type < TagType.Char || type > TagType.I18nString) throw formatError(what, `${where}: bad type ${type}`);
    if (count === 0) throw formatError(what, `${where}: zero count`);
    if (offset < 0 || offset >= dl) throw formatError(what, `${where}: offset ${offset} outside data (${dl} bytes)`);
    let length: number;
    if (type === TagType.String || type === TagType.StringArray || type === TagType.I18nString) {
      if (type === TagType.String && count !== 1) throw formatError(what, `${where}: STRING with count ${count}`);
      // Each string takes at least its NUL, so a count beyond the remaining bytes is absurd.
      if (count > dl - offset) throw formatError(what, `${where}: count ${count} exceeds data`);
      let q = dataStart + offset;
      const end = dataStart + dl;
      for (let k = 0; k < count; k++) {
        const z = blob.indexOf(0, q);
        if (z < 0 || z >= end) throw formatError(what, `${where}: string ${k} runs past the data`);
        q = z + 1;
      }
      length = q - (dataStart + offset);
    } else {
      const size = TYPE_SIZE[type] ?? 1;
      if (count > (dl - offset) / size) throw formatError(what, `${where}: ${count} items of ${size} bytes exceed data`);
      if (size > 1 && offset % size !== 0) throw formatError(what, `${where}: offset ${offset} misaligned`);
      length = count * size;
    }
    index.push({ tag, type, offset, count, length });
  }
  const region = parseRegion(blob, index, dataStart, dl, what);
  return new RpmHeader(blob, index, region, what);
}

/** Total byte length (without magic) of the header at the start of `bytes`, from il/dl alone. */
export function headerLength(il: number, dl: number): number {
  return 8 + il * 16 + dl;
}

function parseRegion(blob: Uint8Array, index: HeaderEntry[], dataStart: number, dl: number, what: string): HeaderRegion | undefined {
  const first = index[0];
  if (!first || (first.tag !== TAG_HEADERIMMUTABLE && first.tag !== TAG_HEADERSIGNATURES)) return undefined;
  if (first.type !== TagType.Bin || first.count !== 16) throw formatError(what, `region tag ${first.tag} is not BIN[16]`);
  const dv = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const t = dataStart + first.offset;
  const trailerTag = dv.getUint32(t);
  const trailerOffset = dv.getInt32(t + 8);
  if (trailerTag !== first.tag) throw formatError(what, `region trailer tag ${trailerTag} != ${first.tag}`);
  if (trailerOffset >= 0 || -trailerOffset % 16 !== 0) throw formatError(what, `region trailer offset ${trailerOffset} invalid`);
  const entries = -trailerOffset / 16;
  if (entries > index.length) throw formatError(what, `region claims ${entries} entries of ${index.length}`);
  const dataLength = first.offset + 16;
  if (dataLength > dl) throw formatError(what, `region data ${dataLength} exceeds ${dl}`);
  return { tag: first.tag, entries, dataLength };
}
