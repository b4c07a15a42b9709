/**
 * The header *writer* side: appends "dribble" entries after a header's immutable region, the
 * way rpm's headerExport lays out tags added at install time (formats.md §4.2, §5.3).
 *
 * The region's index entries and data are copied byte for byte (its digests and signatures
 * cover them); dribbles follow in tag order, each item aligned to its type's size relative to
 * the start of the data store, so offsets keep increasing as rpm's hdrblobVerifyInfo demands.
 */
import { LayerError, assert } from '../errors.js';

/** Header data types used by dribbles (rpmtag.h rpmTagType). */
export const enum DribbleType {
  Char = 1,
  Int32 = 4,
  Int64 = 5,
  String = 6,
  Bin = 7,
  StringArray = 8,
  /** Already-encoded data copied from another header, with its own type (`rawType`). */
  Raw = -1,
}

export type Dribble =
  | { tag: number; type: DribbleType.Char | DribbleType.Int32; value: readonly number[] }
  | { tag: number; type: DribbleType.Int64; value: readonly bigint[] }
  | { tag: number; type: DribbleType.String; value: string }
  | { tag: number; type: DribbleType.StringArray; value: readonly string[] }
  | { tag: number; type: DribbleType.Bin; value: Uint8Array }
  | { tag: number; type: DribbleType.Raw; rawType: number; count: number; value: Uint8Array };

const ALIGN: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 1, 9: 1 };

function encodeData(d: Dribble): { bytes: Uint8Array; count: number; type: number } {
  if (d.type === DribbleType.Raw) return { bytes: d.value, count: d.count, type: d.rawType };
  return { ...encodeTyped(d), type: d.type };
}

function encodeTyped(d: Exclude<Dribble, { type: DribbleType.Raw }>): { bytes: Uint8Array; count: number } {
  const enc = new TextEncoder();
  switch (d.type) {
    case DribbleType.Char:
      return { bytes: Uint8Array.from(d.value, (v) => v & 0xff), count: d.value.length };
    case DribbleType.Int32: {
      const out = new Uint8Array(d.value.length * 4);
      const dv = new DataView(out.buffer);
      d.value.forEach((v, i) => dv.setUint32(i * 4, v >>> 0));
      return { bytes: out, count: d.value.length };
    }
    case DribbleType.Int64: {
      const out = new Uint8Array(d.value.length * 8);
      const dv = new DataView(out.buffer);
      d.value.forEach((v, i) => dv.setBigUint64(i * 8, v));
      return { bytes: out, count: d.value.length };
    }
    case DribbleType.String:
      return { bytes: enc.encode(`${d.value}\0`), count: 1 };
    case DribbleType.StringArray:
      return { bytes: enc.encode(d.value.map((s) => `${s}\0`).join('')), count: d.value.length };
    case DribbleType.Bin:
      return { bytes: d.value, count: d.value.length };
  }
}

/**
 * Returns a new bare header blob (no magic): `region` (a bare blob whose entries are all inside
 * its immutable region, as a package's main header is) followed by `dribbles`.
 * Throws LAYER_RPMDB naming `what` when a dribble is empty or a tag repeats.
 */
export function appendDribbles(region: Uint8Array, dribbles: readonly Dribble[], what: string): Uint8Array {
  const rv = new DataView(region.buffer, region.byteOffset, region.byteLength);
  const ril = rv.getUint32(0);
  const rdl = rv.getUint32(4);
  assert(region.length === 8 + ril * 16 + rdl, `${what}: region blob length matches il/dl`);

  const sorted = [...dribbles].sort((a, b) => a.tag - b.tag);
  const parts: { tag: number; type: number; offset: number; count: number; bytes: Uint8Array }[] = [];
  let dl = rdl;
  for (let i = 0; i < sorted.length; i++) {
    const d = sorted[i]!;
    if (i > 0 && sorted[i - 1]!.tag === d.tag) {
      throw new LayerError('LAYER_RPMDB', `${what}: tag ${d.tag} added twice to the installed header`);
    }
    const { bytes, count, type } = encodeData(d);
    // rpm rejects zero-count entries (hdrblobVerifyInfo); callers must leave empty tags out.
    if (count === 0) throw new LayerError('LAYER_RPMDB', `${what}: tag ${d.tag} would be empty`);
    const align = ALIGN[type] ?? 1;
    dl += (align - (dl % align)) % align;
    parts.push({ tag: d.tag, type, offset: dl, count, bytes });
    dl += bytes.length;
  }

  const il = ril + parts.length;
  const out = new Uint8Array(8 + il * 16 + dl);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, il);
  dv.setUint32(4, dl);
  out.set(region.subarray(8, 8 + ril * 16), 8);
  parts.forEach((p, i) => {
    const at = 8 + (ril + i) * 16;
    dv.setUint32(at, p.tag);
    dv.setUint32(at + 4, p.type);
    dv.setUint32(at + 8, p.offset);
    dv.setUint32(at + 12, p.count);
  });
  const dataStart = 8 + il * 16;
  out.set(region.subarray(8 + ril * 16), dataStart);
  for (const p of parts) out.set(p.bytes, dataStart + p.offset);
  return out;
}
