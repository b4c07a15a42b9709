/**
 * bspatch for static delta 'B' operations. OSTree embeds the bsdiff library's stream format
 * without a header or compression (the part is compressed as a whole): repeated control
 * triples of three 8-byte integers (little-endian magnitude, sign in the top bit of the last
 * byte) — bytes to add to the old data, bytes to copy verbatim, how far to move in the old
 * data — each followed by that many "diff" bytes and then "extra" bytes. Bounds are checked
 * on every step: a bad patch is LAYER_REPO_CORRUPT, never a read or write out of range.
 */
import { LayerError } from '../../errors.js';

function offtin(b: Uint8Array, at: number): number {
  let v = (b[at + 7] ?? 0) & 0x7f;
  for (let i = 6; i >= 0; i--) v = v * 256 + (b[at + i] ?? 0);
  return ((b[at + 7] ?? 0) & 0x80) !== 0 ? -v : v;
}

/** The new file of `newSize` bytes from `old` and `patch`. */
export function bspatch(old: Uint8Array, patch: Uint8Array, newSize: number, what: string): Buffer {
  const bad = (why: string) => new LayerError('LAYER_REPO_CORRUPT', `${what}: bsdiff patch ${why}`);
  const out = Buffer.alloc(newSize);
  let newPos = 0;
  let oldPos = 0;
  let p = 0;
  while (newPos < newSize) {
    if (p + 24 > patch.length) throw bad('ends inside a control block');
    const add = offtin(patch, p);
    const copy = offtin(patch, p + 8);
    const seek = offtin(patch, p + 16);
    p += 24;
    if (add < 0 || copy < 0 || newPos + add > newSize || p + add > patch.length) throw bad('has an out-of-range diff length');
    for (let i = 0; i < add; i++) {
      const o = oldPos + i;
      out[newPos + i] = ((patch[p + i] ?? 0) + (o >= 0 && o < old.length ? (old[o] ?? 0) : 0)) & 0xff;
    }
    p += add;
    newPos += add;
    oldPos += add;
    if (newPos + copy > newSize || p + copy > patch.length) throw bad('has an out-of-range extra length');
    out.set(patch.subarray(p, p + copy), newPos);
    p += copy;
    newPos += copy;
    oldPos += seek;
  }
  return out;
}
