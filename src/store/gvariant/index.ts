/** GVariant codec used by the store: see codec.ts for the value model. */
export { Variant, serialize, deserialize, isNormalForm, offsetWidth, framingWidth, type GValue } from './codec.js';
export { parseType, isValidType, type GType } from './types.js';
import { Variant, type GValue } from './codec.js';

/**
 * Builders for commit-metadata values (`a{sv}` entries). These are plain GVariant values in
 * GLib's native little-endian order — only OSTree's own structural fields are big-endian. Note
 * `ostree show --print-metadata-key` byteswaps integers before printing, so it displays these
 * swapped; use `u64be` for a value meant to follow OSTree's big-endian convention (such as
 * `ostree.commit.timestamp`).
 */
export const V = {
  string: (s: string): Variant => new Variant('s', s),
  strings: (a: readonly string[]): Variant => new Variant('as', [...a]),
  bytes: (b: Uint8Array): Variant => new Variant('ay', b),
  byteArrays: (a: readonly Uint8Array[]): Variant => new Variant('aay', [...a]),
  bool: (b: boolean): Variant => new Variant('b', b),
  u32: (n: number): Variant => new Variant('u', n),
  u64: (n: bigint): Variant => new Variant('t', n),
  /** A `t` stored big-endian, as OSTree stores its own timestamps. */
  u64be: (n: bigint): Variant => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(n);
    return new Variant('t', b.readBigUInt64LE());
  },
  /** A variant holding a variant: `v` inside `a{sv}`. */
  variant: (inner: Variant): Variant => new Variant('v', inner),
  /** A nested `a{sv}` dictionary. */
  dict: (entries: Readonly<Record<string, Variant>>): Variant =>
    new Variant('a{sv}', Object.entries(entries).map(([k, v]) => [k, v] as GValue[])),
};

/** Plain JS view of a variant (for tests and JSON output): bytes stay Uint8Array. */
export function unbox(v: GValue): unknown {
  if (v instanceof Variant) {
    if (v.type === 'a{sv}') return Object.fromEntries((v.value as GValue[][]).map(([k, x]) => [k, unbox(x as GValue)]));
    return unbox(v.value);
  }
  if (Array.isArray(v)) return v.map(unbox);
  return v;
}
