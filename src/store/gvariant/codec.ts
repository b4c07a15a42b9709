/**
 * GVariant serialisation in normal form and deserialisation (formats.md §1.2, §1.3), written
 * from the GVariant specification. Values are plain JS data:
 *
 * | type | JS value |
 * | --- | --- |
 * | `y n q i u h d` | number (`u` is read as an unsigned number) |
 * | `x t` | bigint — never a number: byteswapped 64-bit values exceed 2^53 (formats.md §7.1) |
 * | `b` | boolean |
 * | `s o g` | string |
 * | `ay` | Uint8Array |
 * | `aT`, structs, dict entries | arrays (a dict entry is `[key, value]`) |
 * | `mT` | `null` or the value |
 * | `v` | a {@link Variant} |
 *
 * Integers are little-endian like GLib on x86; OSTree's big-endian fields are byteswapped by the
 * caller (see ../objects.ts).
 */
import { LayerError } from '../../errors.js';
import { parseType, type GType } from './types.js';

/** A boxed value with its type string: the `v` type. */
export class Variant {
  constructor(
    readonly type: string,
    readonly value: GValue,
  ) {}
}

export type GValue = number | bigint | boolean | string | Uint8Array | Variant | null | GValue[];

const utf8 = new TextEncoder();
// ignoreBOM: a name's leading U+FEFF is part of the name (the default drops it).
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function corrupt(what: string): LayerError {
  return new LayerError('LAYER_STORE_CORRUPT', `malformed GVariant: ${what}`);
}

function alignUp(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}

/** Width of framing offsets in a container of total size `size`, as a reader finds it (formats.md §1.2). */
export function offsetWidth(size: number): number {
  if (size === 0) return 0;
  if (size <= 0xff) return 1;
  if (size <= 0xffff) return 2;
  if (size <= 0xffffffff) return 4;
  return 8;
}

/**
 * Width of the `count` framing offsets a writer appends to `body` bytes: the smallest that can
 * address the container they make (formats.md §1.2).
 */
export function framingWidth(body: number, count: number): number {
  let w = 1;
  while (w < 8 && body + count * w > 2 ** (8 * w) - 1) w *= 2;
  return w;
}

class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let len = this.buf.length * 2;
    while (len < this.pos + n) len *= 2;
    const next = Buffer.allocUnsafe(len);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  pad(align: number): void {
    const target = alignUp(this.pos, align);
    this.ensure(target - this.pos);
    // Padding must be zero in normal form; allocUnsafe memory is not.
    this.buf.fill(0, this.pos, target);
    this.pos = target;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }
  /** Framing offsets for the container that began at `start` (formats.md §1.2). */
  offsets(start: number, ends: number[]): void {
    if (ends.length === 0) return;
    const w = framingWidth(this.pos - start, ends.length);
    this.ensure(ends.length * w);
    for (const end of ends) {
      if (w === 8) this.buf.writeBigUInt64LE(BigInt(end), this.pos);
      else this.buf.writeUIntLE(end, this.pos, w);
      this.pos += w;
    }
  }
}

/**
 * Serialise `value` as type `sig` in normal form. `sizeHint`: the bytes expected, when the caller
 * knows (a commit carrying package headers): the buffer starts that large instead of doubling
 * from 256 bytes.
 */
export function serialize(sig: string, value: GValue, sizeHint = 256): Buffer {
  const w = new Writer(Math.max(64, sizeHint));
  write(w, parseType(sig), value);
  return w.buf.subarray(0, w.pos);
}

function write(w: Writer, t: GType, v: GValue): void {
  w.pad(t.align);
  switch (t.kind) {
    case 'basic':
      return writeBasic(w, t.code, v);
    case 'variant': {
      if (!(v instanceof Variant)) throw typeMismatch(t, v);
      write(w, parseType(v.type), v.value);
      w.byte(0);
      w.bytes(utf8.encode(v.type));
      return;
    }
    case 'maybe':
      if (v === null) return;
      write(w, t.elem, v);
      if (t.elem.fixed === undefined) w.byte(0);
      return;
    case 'array': {
      if (t.elem.kind === 'basic' && t.elem.code === 'y' && v instanceof Uint8Array) return w.bytes(v);
      if (!Array.isArray(v)) throw typeMismatch(t, v);
      const start = w.pos;
      if (t.elem.fixed !== undefined) {
        for (const item of v) write(w, t.elem, item);
        return;
      }
      const ends: number[] = [];
      for (const item of v) {
        write(w, t.elem, item);
        ends.push(w.pos - start);
      }
      return w.offsets(start, ends);
    }
    case 'struct': {
      if (!Array.isArray(v) || v.length !== t.members.length) throw typeMismatch(t, v);
      const start = w.pos;
      if (t.members.length === 0) return w.byte(0);
      const ends: number[] = [];
      const last = t.members.length - 1;
      t.members.forEach((m, i) => {
        write(w, m, v[i] as GValue);
        if (m.fixed === undefined && i < last) ends.push(w.pos - start);
      });
      if (t.fixed !== undefined) w.pad(t.align);
      return w.offsets(start, ends.reverse());
    }
  }
}

function typeMismatch(t: GType, v: GValue): LayerError {
  const shown = v instanceof Uint8Array ? 'bytes' : Array.isArray(v) ? 'array' : typeof v;
  return new LayerError('LAYER_INTERNAL', `GVariant: value of kind ${shown} does not fit type '${t.sig}'`);
}

const FIXED_SIZE: Record<string, number> = { b: 1, y: 1, n: 2, q: 2, i: 4, h: 4, u: 4, x: 8, t: 8, d: 8 };

function writeBasic(w: Writer, code: string, v: GValue): void {
  if (code === 's' || code === 'o' || code === 'g') {
    if (typeof v !== 'string' || v.includes('\0')) throw new LayerError('LAYER_INTERNAL', `GVariant: bad string ${String(v)}`);
    w.bytes(utf8.encode(v));
    return w.byte(0);
  }
  const size = FIXED_SIZE[code] as number;
  // ensure() may replace the buffer: read w.buf only after it.
  w.ensure(size);
  const b = w.buf;
  const at = w.pos;
  switch (code) {
    case 'b': b[at] = v ? 1 : 0; break;
    case 'y': b.writeUInt8(v as number, at); break;
    case 'n': b.writeInt16LE(v as number, at); break;
    case 'q': b.writeUInt16LE(v as number, at); break;
    case 'i': case 'h': b.writeInt32LE(v as number, at); break;
    case 'u': b.writeUInt32LE(v as number, at); break;
    case 'x': b.writeBigInt64LE(v as bigint, at); break;
    case 't': b.writeBigUInt64LE(v as bigint, at); break;
    case 'd': b.writeDoubleLE(v as number, at); break;
  }
  w.pos += size;
}

/** Deserialise `bytes` as type `sig`. Throws LAYER_STORE_CORRUPT on malformed framing. */
export function deserialize(sig: string, bytes: Uint8Array): GValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return read(buf, parseType(sig), 0, buf.length);
}

/** Normal form (formats.md §1.3): the canonical re-serialisation gives the same bytes. */
export function isNormalForm(sig: string, bytes: Uint8Array): boolean {
  try {
    return Buffer.from(bytes).equals(serialize(sig, deserialize(sig, bytes)));
  } catch {
    return false;
  }
}

function readOffset(b: Buffer, at: number, w: number): number {
  // An empty container has no framing offsets (width 0); one that needs an offset it cannot
  // hold, or whose offset would lie outside the bytes, is malformed — not a crash (found by fuzzing).
  if (w === 0 || at < 0 || at + w > b.length) throw corrupt(`framing offset at ${at} (width ${w}) outside ${b.length} bytes`);
  return w === 8 ? Number(b.readBigUInt64LE(at)) : b.readUIntLE(at, w);
}

function read(b: Buffer, t: GType, s: number, e: number): GValue {
  if (e < s || e > b.length) throw corrupt(`'${t.sig}' out of bounds`);
  if (t.fixed !== undefined && e - s !== t.fixed) throw corrupt(`'${t.sig}' has size ${e - s}, expected ${t.fixed}`);
  switch (t.kind) {
    case 'basic':
      return readBasic(b, t.code, s, e);
    case 'variant': {
      const zero = b.lastIndexOf(0, e - 1);
      if (zero < s) throw corrupt('variant without type separator');
      const sig = b.toString('latin1', zero + 1, e);
      return new Variant(sig, read(b, parseType(sig), s, zero));
    }
    case 'maybe':
      if (e === s) return null;
      return t.elem.fixed !== undefined ? read(b, t.elem, s, e) : read(b, t.elem, s, e - 1);
    case 'array': {
      const el = t.elem;
      if (e === s) return el.kind === 'basic' && el.code === 'y' ? new Uint8Array(0) : [];
      if (el.kind === 'basic' && el.code === 'y') return new Uint8Array(b.subarray(s, e));
      if (el.fixed !== undefined) {
        if ((e - s) % el.fixed !== 0) throw corrupt(`'${t.sig}' size not a multiple of element`);
        const out: GValue[] = [];
        for (let p = s; p < e; p += el.fixed) out.push(read(b, el, p, p + el.fixed));
        return out;
      }
      const w = offsetWidth(e - s);
      const last = readOffset(b, e - w, w);
      const n = (e - s - last) / w;
      if (last > e - s || !Number.isInteger(n) || n <= 0) throw corrupt(`'${t.sig}' bad offset table`);
      const out: GValue[] = [];
      let pos = s;
      for (let i = 0; i < n; i++) {
        const end = s + readOffset(b, s + last + i * w, w);
        const start = alignUp(pos, el.align);
        if (end < start || end > s + last) throw corrupt(`'${t.sig}' element ${i} out of bounds`);
        out.push(read(b, el, start, end));
        pos = end;
      }
      return out;
    }
    case 'struct': {
      if (t.members.length === 0) return [];
      const w = offsetWidth(e - s);
      const last = t.members.length - 1;
      const nOffsets = t.members.filter((m, i) => m.fixed === undefined && i < last).length;
      let used = 0;
      let pos = s;
      const out: GValue[] = [];
      t.members.forEach((m, i) => {
        const start = alignUp(pos, m.align);
        let end: number;
        if (m.fixed !== undefined) end = start + m.fixed;
        else if (i === last) end = e - nOffsets * w;
        else end = s + readOffset(b, e - ++used * w, w);
        if (end < start || end > e) throw corrupt(`'${t.sig}' member ${i} out of bounds`);
        out.push(read(b, m, start, end));
        pos = end;
      });
      return out;
    }
  }
}

function readBasic(b: Buffer, code: string, s: number, e: number): GValue {
  switch (code) {
    case 's': case 'o': case 'g': {
      if (e === s || b[e - 1] !== 0) throw corrupt('string without NUL terminator');
      const str = b.subarray(s, e - 1);
      if (str.includes(0)) throw corrupt('string with embedded NUL');
      try {
        return utf8Strict.decode(str);
      } catch {
        throw corrupt('string is not valid UTF-8');
      }
    }
    case 'b': {
      const v = b[s];
      if (v !== 0 && v !== 1) throw corrupt('boolean not 0 or 1');
      return v === 1;
    }
    case 'y': return b.readUInt8(s);
    case 'n': return b.readInt16LE(s);
    case 'q': return b.readUInt16LE(s);
    case 'i': case 'h': return b.readInt32LE(s);
    case 'u': return b.readUInt32LE(s);
    case 'x': return b.readBigInt64LE(s);
    case 't': return b.readBigUInt64LE(s);
    case 'd': return b.readDoubleLE(s);
  }
  throw corrupt(`unsupported basic type ${code}`);
}
