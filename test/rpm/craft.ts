/**
 * Byte surgery on real rpmbuild output, for the hostile-package tests: locate header entries,
 * patch bytes in place, and recompute the digests so that a test reaches the check it targets.
 */
import { createHash } from 'node:crypto';

export interface Layout {
  sigStart: number;
  sigIl: number;
  sigDataStart: number;
  mainStart: number;
  mainIl: number;
  mainDataStart: number;
  payloadStart: number;
}

export function layout(buf: Buffer): Layout {
  const sigStart = 96;
  const sigIl = buf.readUInt32BE(sigStart + 8);
  const sigDl = buf.readUInt32BE(sigStart + 12);
  const sigLen = 16 + sigIl * 16 + sigDl;
  const mainStart = sigStart + sigLen + ((8 - (sigLen % 8)) % 8);
  const mainIl = buf.readUInt32BE(mainStart + 8);
  const mainDl = buf.readUInt32BE(mainStart + 12);
  return {
    sigStart, sigIl, sigDataStart: sigStart + 16 + sigIl * 16,
    mainStart, mainIl, mainDataStart: mainStart + 16 + mainIl * 16,
    payloadStart: mainStart + 16 + mainIl * 16 + mainDl,
  };
}

/** Absolute positions of a tag's index entry and data, in the signature or main header. */
export function entry(buf: Buffer, which: 'sig' | 'main', tag: number): { indexPos: number; dataPos: number; type: number; count: number } | undefined {
  const l = layout(buf);
  const start = which === 'sig' ? l.sigStart : l.mainStart;
  const il = which === 'sig' ? l.sigIl : l.mainIl;
  const data = which === 'sig' ? l.sigDataStart : l.mainDataStart;
  for (let i = 0; i < il; i++) {
    const p = start + 16 + i * 16;
    if (buf.readUInt32BE(p) === tag) return { indexPos: p, dataPos: data + buf.readInt32BE(p + 8), type: buf.readUInt32BE(p + 4), count: buf.readUInt32BE(p + 12) };
  }
  return undefined;
}

/** Replaces the only occurrence of `from` in [start, end) with `to` (same length). */
export function patch(buf: Buffer, from: string | Buffer, to: string | Buffer, start = 0, end = buf.length): void {
  const f = typeof from === 'string' ? Buffer.from(from) : from;
  const t = typeof to === 'string' ? Buffer.from(to) : to;
  if (f.length !== t.length) throw new Error('patch must keep the length');
  const i = buf.indexOf(f, start);
  if (i < 0 || i + f.length > end) throw new Error(`'${f.toString()}' not found`);
  if (buf.indexOf(f, i + 1) >= 0 && buf.indexOf(f, i + 1) < end) throw new Error(`'${f.toString()}' is ambiguous`);
  t.copy(buf, i);
}

/** Recomputes PAYLOADDIGEST, then header SHA256/SHA1, then MD5, in place (all fixed-size). */
export function fixDigests(buf: Buffer): void {
  const l = layout(buf);
  const payload = buf.subarray(l.payloadStart);
  const pd = entry(buf, 'main', 5092);
  if (pd) buf.write(createHash('sha256').update(payload).digest('hex'), pd.dataPos, 'latin1');
  const main = buf.subarray(l.mainStart, l.payloadStart);
  const s256 = entry(buf, 'sig', 273);
  if (s256) buf.write(createHash('sha256').update(main).digest('hex'), s256.dataPos, 'latin1');
  const s1 = entry(buf, 'sig', 269);
  if (s1) buf.write(createHash('sha1').update(main).digest('hex'), s1.dataPos, 'latin1');
  const md5 = entry(buf, 'sig', 1004);
  if (md5) createHash('md5').update(buf.subarray(l.mainStart)).digest().copy(buf, md5.dataPos);
}
