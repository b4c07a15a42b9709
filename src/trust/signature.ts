/**
 * Signature packets (RFC 4880 §5.2; RFC 9580 §5.2 for v6): the fields a verifier needs, and the
 * exact bytes that go into the hash after the signed data (§5.2.4 trailers).
 */
import type { LayerError } from '../errors.js';
import { Reader } from './packets.js';

export const SigType = {
  Binary: 0x00,
  Text: 0x01,
  CertGeneric: 0x10,
  CertPositive: 0x13,
  SubkeyBinding: 0x18,
  PrimaryKeyBinding: 0x19,
  DirectKey: 0x1f,
  KeyRevocation: 0x20,
  SubkeyRevocation: 0x28,
  CertRevocation: 0x30,
} as const;

/** Public-key algorithm ids (RFC 9580 §9.1) and their names as rpm prints them. */
export const PK_NAMES: Record<number, string> = { 1: 'RSA', 2: 'RSA', 3: 'RSA', 17: 'DSA', 19: 'ECDSA', 22: 'EdDSA', 27: 'Ed25519', 28: 'Ed448' };
/** Hash algorithm ids (RFC 9580 §9.5) → [rpm's name, node's name]. */
export const HASHES: Record<number, [string, string]> = {
  1: ['MD5', 'md5'],
  2: ['SHA1', 'sha1'],
  3: ['RIPEMD160', 'ripemd160'],
  8: ['SHA256', 'sha256'],
  9: ['SHA384', 'sha384'],
  10: ['SHA512', 'sha512'],
  11: ['SHA224', 'sha224'],
  12: ['SHA3-256', 'sha3-256'],
  14: ['SHA3-512', 'sha3-512'],
};

export interface Signature {
  version: number;
  type: number;
  pkAlgo: number;
  hashAlgo: number;
  /** Creation time, seconds since the epoch (hashed subpacket 2, or the v3 field). */
  created: number | undefined;
  /** Issuer key id (16 lowercase hex), hashed or unhashed subpacket 16, or the v3 field. */
  issuerKeyId: string | undefined;
  /** Issuer fingerprint (lowercase hex), subpacket 33. */
  issuerFpr: string | undefined;
  /** Seconds after key creation the key expires (hashed subpacket 9); 0/undefined = never. */
  keyExpiry: number | undefined;
  /** Seconds after creation the signature expires (hashed subpacket 3). */
  sigExpiry: number | undefined;
  /** Key flags (hashed subpacket 27), first octet. */
  keyFlags: number | undefined;
  /** Embedded signature (subpacket 32): the primary-key binding "back-signature" of a signing subkey. */
  embedded: Signature[];
  /** A critical hashed subpacket we do not understand makes the signature invalid (RFC 4880 §5.2.3.1). */
  unknownCritical: number | undefined;
  /** First two bytes of the digest, as the signer saw them. */
  left16: Uint8Array;
  /** The algorithm-specific signature fields (MPIs, or native octets for v6 Ed25519). */
  material: Uint8Array[];
  /** v6 salt. */
  salt: Uint8Array | undefined;
  /** Bytes hashed after the signed data (§5.2.4): hashed part + final trailer. */
  trailer: Uint8Array;
  /** The packet body, when kept (certificates keep theirs for re-armoring). */
  body?: Uint8Array;
}

export function hashName(id: number): string {
  return HASHES[id]?.[0] ?? `hash-${id}`;
}

export function pkName(id: number): string {
  return PK_NAMES[id] ?? `algo-${id}`;
}

/** Parses a signature packet body; `fail` builds the error (its code decides the category). */
export function parseSignature(body: Uint8Array, fail: (what: string) => LayerError, depth = 0): Signature {
  const r = new Reader(body, (w) => fail(`signature packet: ${w}`));
  const version = r.u8();
  const sig: Signature = {
    version, type: 0, pkAlgo: 0, hashAlgo: 0, created: undefined, issuerKeyId: undefined, issuerFpr: undefined,
    keyExpiry: undefined, sigExpiry: undefined, keyFlags: undefined, embedded: [], unknownCritical: undefined,
    left16: new Uint8Array(0), material: [], salt: undefined, trailer: new Uint8Array(0),
  };
  if (version === 3 || version === 2) {
    if (r.u8() !== 5) throw fail('v3 signature with a hashed length other than 5');
    const hashed = r.bytes(5);
    sig.type = hashed[0]!;
    sig.created = ((hashed[1]! << 24) >>> 0) + (hashed[2]! << 16) + (hashed[3]! << 8) + hashed[4]!;
    sig.issuerKeyId = Buffer.from(r.bytes(8)).toString('hex');
    sig.pkAlgo = r.u8();
    sig.hashAlgo = r.u8();
    sig.left16 = r.bytes(2);
    sig.material = readMaterial(r, sig.pkAlgo, version);
    // v3: only sigtype and creation time are hashed after the data (RFC 4880 §5.2.4).
    sig.trailer = hashed;
    return sig;
  }
  if (version !== 4 && version !== 6) throw fail(`unsupported signature version ${version}`);
  const start = r.p;
  sig.type = r.u8();
  sig.pkAlgo = r.u8();
  sig.hashAlgo = r.u8();
  const hashedLen = version === 6 ? r.u32() : r.u16();
  const hashedArea = r.bytes(hashedLen);
  const hashedEnd = r.p;
  readSubpackets(hashedArea, sig, true, fail, depth);
  const unhashedLen = version === 6 ? r.u32() : r.u16();
  readSubpackets(r.bytes(unhashedLen), sig, false, fail, depth);
  sig.left16 = r.bytes(2);
  if (version === 6) {
    const saltLen = r.u8();
    sig.salt = r.bytes(saltLen);
  }
  sig.material = readMaterial(r, sig.pkAlgo, version);
  const hashedPart = body.subarray(start - 1, hashedEnd);
  const n = hashedPart.length;
  // §5.2.4: version, 0xFF, four-octet length of the hashed part (v6 uses the same four octets).
  const trailer = new Uint8Array(n + 6);
  trailer.set(hashedPart, 0);
  trailer[n] = version;
  trailer[n + 1] = 0xff;
  trailer[n + 2] = (n >>> 24) & 0xff;
  trailer[n + 3] = (n >>> 16) & 0xff;
  trailer[n + 4] = (n >>> 8) & 0xff;
  trailer[n + 5] = n & 0xff;
  sig.trailer = trailer;
  return sig;
}

function readMaterial(r: Reader, pkAlgo: number, version: number): Uint8Array[] {
  switch (pkAlgo) {
    case 1:
    case 2:
    case 3:
      return [r.mpi()];
    case 17:
    case 19:
    case 22:
      return [r.mpi(), r.mpi()];
    case 27:
      return [r.bytes(64)];
    case 28:
      return [r.bytes(114)];
    default:
      // Unknown algorithms are kept opaque: the verifier refuses them by name.
      return version >= 4 ? [r.rest()] : [r.rest()];
  }
}

function readSubpackets(area: Uint8Array, sig: Signature, hashed: boolean, fail: (what: string) => LayerError, depth: number): void {
  const r = new Reader(area, (w) => fail(`signature subpacket area: ${w}`));
  let count = 0;
  while (r.left > 0) {
    if (++count > 4096) throw fail('more than 4096 signature subpackets');
    const o = r.u8();
    let len: number;
    if (o < 192) len = o;
    else if (o < 255) len = ((o - 192) << 8) + r.u8() + 192;
    else len = r.u32();
    if (len < 1) throw fail('empty signature subpacket');
    const data = r.bytes(len);
    const critical = (data[0]! & 0x80) !== 0;
    const type = data[0]! & 0x7f;
    const v = data.subarray(1);
    const u32 = (): number => {
      if (v.length !== 4) throw fail(`subpacket ${type} has length ${v.length}, expected 4`);
      return ((v[0]! << 24) >>> 0) + (v[1]! << 16) + (v[2]! << 8) + v[3]!;
    };
    switch (type) {
      case 2:
        if (hashed) sig.created = u32();
        break;
      case 3:
        if (hashed) sig.sigExpiry = u32();
        break;
      case 9:
        if (hashed) sig.keyExpiry = u32();
        break;
      case 16:
        if (v.length !== 8) throw fail('issuer key id subpacket is not 8 bytes');
        sig.issuerKeyId ??= Buffer.from(v).toString('hex');
        break;
      case 27:
        if (hashed && v.length > 0) sig.keyFlags = v[0];
        break;
      case 32:
        // The back-signature authenticates itself (made by the subkey over both keys), so gpg
        // puts it in the unhashed area; it is accepted from either.
        // One level only: a back-signature never embeds another (and nesting would recurse per byte).
        if (depth > 0) throw fail('signature embedded in an embedded signature');
        sig.embedded.push(parseSignature(v, fail, depth + 1));
        break;
      case 33: {
        if (v.length < 2) throw fail('issuer fingerprint subpacket too short');
        const fpr = Buffer.from(v.subarray(1)).toString('hex');
        sig.issuerFpr ??= fpr;
        // v4 fingerprints end with the key id; v6 ones start with it (RFC 9580 §5.5.4).
        sig.issuerKeyId ??= v[0] === 6 ? fpr.slice(0, 16) : fpr.slice(-16);
        break;
      }
      // Understood and irrelevant to a verifier: preferences, revocation reason/key, features,
      // notations, policy URI, primary uid, signer's uid, trust, exportable, revocable, key server prefs.
      case 4: case 5: case 6: case 7: case 11: case 12: case 20: case 21: case 22: case 23: case 24: case 25:
      case 26: case 28: case 29: case 30: case 31: case 34: case 35: case 37: case 39:
        break;
      default:
        if (critical && hashed) sig.unknownCritical ??= type;
    }
  }
}
