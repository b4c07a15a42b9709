/**
 * OpenPGP packet framing (RFC 4880 §4.2, RFC 9580 §4.2): old- and new-format headers, one-,
 * two- and five-octet lengths, partial body lengths. Every length is checked against the bytes
 * there are before anything is sliced, so hostile input can neither read out of bounds nor make
 * us allocate more than it is.
 */
import { LayerError } from '../errors.js';

export const PacketTag = {
  Signature: 2,
  SecretKey: 5,
  PublicKey: 6,
  SecretSubkey: 7,
  Marker: 10,
  Trust: 12,
  UserId: 13,
  PublicSubkey: 14,
  UserAttribute: 17,
} as const;

export interface Packet {
  tag: number;
  body: Uint8Array;
  /** Where the packet (header included) starts and ends in the input, when read from one. */
  start?: number;
  end?: number;
}

/** Partial-length chunks a single packet may be split into before we call it hostile. */
const MAX_PARTS = 4096;

/** Splits `bytes` into packets. `code`/`from` shape the error; `limit` caps the packet count. */
export function readPackets(bytes: Uint8Array, from: string, opts: { code?: 'LAYER_GPG_KEY' | 'LAYER_RPM_SIGNATURE'; limit?: number } = {}): Packet[] {
  const code = opts.code ?? 'LAYER_GPG_KEY';
  const limit = opts.limit ?? 100_000;
  const fail = (what: string): LayerError => new LayerError(code, `${from}: malformed OpenPGP data: ${what}`);
  const out: Packet[] = [];
  let p = 0;
  while (p < bytes.length) {
    if (out.length >= limit) throw fail(`more than ${limit} packets`);
    const start = p;
    const h = bytes[p]!;
    if (!(h & 0x80)) throw fail(`byte ${p} is not a packet header (0x${h.toString(16)})`);
    p++;
    let tag: number;
    let body: Uint8Array;
    if (h & 0x40) {
      tag = h & 0x3f;
      const parts: Uint8Array[] = [];
      for (;;) {
        const r = newLength(bytes, p);
        if (r === undefined) throw fail(`truncated length of packet ${out.length} (tag ${tag})`);
        p = r.next;
        if (p + r.len > bytes.length) throw fail(`packet ${out.length} (tag ${tag}) claims ${r.len} bytes, ${bytes.length - p} left`);
        parts.push(bytes.subarray(p, p + r.len));
        p += r.len;
        if (!r.partial) break;
        if (parts.length >= MAX_PARTS) throw fail(`packet ${out.length} split into more than ${MAX_PARTS} parts`);
      }
      body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    } else {
      tag = (h >> 2) & 0x0f;
      const lt = h & 3;
      let len: number;
      if (lt === 3) {
        // Indeterminate length: the rest of the input (RFC 4880 §4.2.1).
        len = bytes.length - p;
      } else {
        const n = lt === 0 ? 1 : lt === 1 ? 2 : 4;
        if (p + n > bytes.length) throw fail(`truncated length of packet ${out.length} (tag ${tag})`);
        len = 0;
        for (let k = 0; k < n; k++) len = len * 256 + bytes[p + k]!;
        p += n;
      }
      if (p + len > bytes.length) throw fail(`packet ${out.length} (tag ${tag}) claims ${len} bytes, ${bytes.length - p} left`);
      body = bytes.subarray(p, p + len);
      p += len;
    }
    out.push({ tag, body, start, end: p });
  }
  return out;
}

function newLength(b: Uint8Array, p: number): { len: number; next: number; partial: boolean } | undefined {
  const o = b[p];
  if (o === undefined) return undefined;
  if (o < 192) return { len: o, next: p + 1, partial: false };
  if (o < 224) {
    const o2 = b[p + 1];
    if (o2 === undefined) return undefined;
    return { len: ((o - 192) << 8) + o2 + 192, next: p + 2, partial: false };
  }
  if (o < 255) return { len: 1 << (o & 0x1f), next: p + 1, partial: true };
  if (p + 5 > b.length) return undefined;
  return { len: ((b[p + 1]! << 24) >>> 0) + (b[p + 2]! << 16) + (b[p + 3]! << 8) + b[p + 4]!, next: p + 5, partial: false };
}

/** A bounds-checked cursor over one packet body; `fail` makes the error for the caller. */
export class Reader {
  p = 0;
  constructor(
    readonly b: Uint8Array,
    private readonly fail: (what: string) => LayerError,
  ) {}

  get left(): number {
    return this.b.length - this.p;
  }

  u8(): number {
    if (this.p >= this.b.length) throw this.fail('truncated');
    return this.b[this.p++]!;
  }

  u16(): number {
    return (this.u8() << 8) | this.u8();
  }

  u32(): number {
    return ((this.u8() << 24) >>> 0) + (this.u8() << 16) + (this.u8() << 8) + this.u8();
  }

  bytes(n: number): Uint8Array {
    if (n < 0 || this.p + n > this.b.length) throw this.fail(`needs ${n} bytes, ${this.left} left`);
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }

  /** An MPI (RFC 4880 §3.2): bit count, then the big-endian bytes, returned without leading zeros. */
  mpi(): Uint8Array {
    const bits = this.u16();
    const v = this.bytes((bits + 7) >> 3);
    let z = 0;
    while (z < v.length && v[z] === 0) z++;
    return v.subarray(z);
  }

  rest(): Uint8Array {
    return this.bytes(this.left);
  }
}

/** Frame `body` as a new-format packet of `tag` (used to re-armor a key for the rpmdb). */
export function framePacket(tag: number, body: Uint8Array): Uint8Array {
  const n = body.length;
  let len: number[];
  if (n < 192) len = [n];
  else if (n < 8384) len = [((n - 192) >> 8) + 192, (n - 192) & 0xff];
  else len = [255, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = 0xc0 | tag;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}
