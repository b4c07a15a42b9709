/**
 * Just enough OpenPGP (RFC 4880 §4.2 packet framing, §5.2 signature packets) to say who signed a
 * header: algorithm, hash, creation time, issuer key id / fingerprint. No cryptographic
 * verification happens here.
 */

export interface PgpSignatureInfo {
  /** Which signature-header tag held it. */
  tag: 'rsa' | 'dsa' | 'pgp' | 'gpg';
  version: number;
  /** 'RSA', 'DSA', 'ECDSA', 'EdDSA' or `algo-<n>`. */
  pubkeyAlgo: string;
  /** 'SHA256', ... or `hash-<n>`. */
  hashAlgo: string;
  /** Issuer key id: 16 lowercase hex digits (the last 8 bytes of the fingerprint for v4 keys). */
  keyId: string | undefined;
  /** Issuer fingerprint, lowercase hex, when the signature carries one (subpacket 33). */
  fingerprint: string | undefined;
  /** Signature creation time, seconds since the epoch. */
  created: number | undefined;
}

const PUBKEY: Record<number, string> = { 1: 'RSA', 2: 'RSA', 3: 'RSA', 17: 'DSA', 19: 'ECDSA', 22: 'EdDSA', 27: 'Ed25519', 28: 'Ed448' };
const HASH: Record<number, string> = { 1: 'MD5', 2: 'SHA1', 3: 'RIPEMD160', 8: 'SHA256', 9: 'SHA384', 10: 'SHA512', 11: 'SHA224' };

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Parses the first signature packet in `bytes`; undefined when it is not one we understand. */
export function parsePgpSignature(bytes: Uint8Array, tag: PgpSignatureInfo['tag']): PgpSignatureInfo | undefined {
  const body = packetBody(bytes);
  if (!body || body.length < 1) return undefined;
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const version = body[0] ?? 0;
  const info: PgpSignatureInfo = { tag, version, pubkeyAlgo: '', hashAlgo: '', keyId: undefined, fingerprint: undefined, created: undefined };
  const name = (t: Record<number, string>, n: number, p: string): string => t[n] ?? `${p}-${n}`;
  if (version === 3) {
    if (body.length < 19) return undefined;
    info.created = dv.getUint32(3);
    info.keyId = hex(body.subarray(7, 15));
    info.pubkeyAlgo = name(PUBKEY, body[15] ?? 0, 'algo');
    info.hashAlgo = name(HASH, body[16] ?? 0, 'hash');
    return info;
  }
  if (version !== 4 && version !== 5) return undefined;
  if (body.length < 6) return undefined;
  info.pubkeyAlgo = name(PUBKEY, body[2] ?? 0, 'algo');
  info.hashAlgo = name(HASH, body[3] ?? 0, 'hash');
  let p = 4;
  for (let area = 0; area < 2; area++) {
    const lenBytes = version === 5 ? 4 : 2;
    if (p + lenBytes > body.length) return info;
    const len = lenBytes === 4 ? dv.getUint32(p) : dv.getUint16(p);
    p += lenBytes;
    const end = Math.min(p + len, body.length);
    readSubpackets(body.subarray(p, end), info);
    p = end;
  }
  return info;
}

function readSubpackets(area: Uint8Array, info: PgpSignatureInfo): void {
  let p = 0;
  while (p < area.length) {
    const o = area[p] ?? 0;
    let len: number;
    if (o < 192) { len = o; p += 1; }
    else if (o < 255) { len = ((o - 192) << 8) + (area[p + 1] ?? 0) + 192; p += 2; }
    else { len = new DataView(area.buffer, area.byteOffset + p + 1, 4).getUint32(0); p += 5; }
    if (len < 1 || p + len > area.length) return;
    const type = (area[p] ?? 0) & 0x7f;
    const data = area.subarray(p + 1, p + len);
    if (type === 2 && data.length === 4) info.created = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
    if (type === 16 && data.length === 8) info.keyId = hex(data);
    if (type === 33 && data.length > 1) {
      info.fingerprint = hex(data.subarray(1));
      info.keyId ??= info.fingerprint.slice(-16);
    }
    p += len;
  }
}

/** The body of the first packet, if it is a signature packet (tag 2). */
function packetBody(b: Uint8Array): Uint8Array | undefined {
  const h = b[0];
  if (h === undefined || !(h & 0x80)) return undefined;
  let tag: number;
  let p = 1;
  let len: number;
  if (h & 0x40) {
    tag = h & 0x3f;
    const o = b[1] ?? 0;
    if (o < 192) { len = o; p = 2; }
    else if (o < 224) { len = ((o - 192) << 8) + (b[2] ?? 0) + 192; p = 3; }
    else if (o === 255 && b.length >= 6) { len = new DataView(b.buffer, b.byteOffset + 2, 4).getUint32(0); p = 6; }
    else return undefined;
  } else {
    tag = (h >> 2) & 0xf;
    const lt = h & 3;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (lt === 0 && b.length >= 2) { len = dv.getUint8(1); p = 2; }
    else if (lt === 1 && b.length >= 3) { len = dv.getUint16(1); p = 3; }
    else if (lt === 2 && b.length >= 5) { len = dv.getUint32(1); p = 5; }
    else { len = b.length - 1; p = 1; }
  }
  if (tag !== 2) return undefined;
  return b.subarray(p, Math.min(p + len, b.length));
}
