/**
 * Public keys and certificates (RFC 4880 §5.5.2, §11.1 "Transferable Public Keys"; RFC 9580
 * §5.5.2 for v6): key material → node:crypto KeyObject, fingerprints and key ids, and the
 * packets that bind user ids and subkeys to the primary key. Nothing is trusted at parse time:
 * bindings, revocations and expiry are judged when a key is used (validity.ts), as rpm-sequoia
 * does, because validity depends on the time.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { LayerError } from '../errors.js';
import { PacketTag, Reader, readPackets } from './packets.js';
import { parseSignature, type Signature } from './signature.js';

export interface PublicKey {
  version: number;
  /** Creation time, seconds since the epoch. */
  created: number;
  algo: number;
  /** The public-key packet body (hashed into every binding signature). */
  body: Uint8Array;
  /** Lowercase hex: 40 digits (v4) or 64 (v6). */
  fingerprint: string;
  /** Lowercase hex, 16 digits. */
  keyId: string;
  /** Modulus size for RSA, curve size for EC; 0 when unknown. */
  bits: number;
  /** Curve name for EC keys ('P-256', 'Ed25519', …). */
  curve: string | undefined;
  /** undefined when the algorithm is not one we can verify with. */
  keyObject: KeyObject | undefined;
  /** Why keyObject is missing. */
  unsupported: string | undefined;
}

export interface UserIdBinding {
  /** The user id text (UTF-8), or undefined for a user attribute. */
  userId: string | undefined;
  /** The packet body, hashed into its certifications. */
  body: Uint8Array;
  tag: number;
  sigs: Signature[];
}

export interface SubkeyBinding {
  key: PublicKey;
  sigs: Signature[];
}

/** A transferable public key: primary key, its direct signatures, user ids and subkeys. */
export interface Cert {
  primary: PublicKey;
  /** Signatures directly on the primary key: revocations (0x20) and direct-key (0x1F). */
  directSigs: Signature[];
  userIds: UserIdBinding[];
  subkeys: SubkeyBinding[];
  /** Where the key came from (URL, file, 'rpmdb'), for messages. */
  from: string;
  /** The certificate's bytes exactly as read (rpm records the key as imported). */
  raw: Uint8Array;
  /** Bumped when signatures are merged in (a key update), so cached verdicts are recomputed. */
  rev?: number;
}

const OIDS: Record<string, { curve: string; bits: number }> = {
  '2a8648ce3d030107': { curve: 'P-256', bits: 256 },
  '2b81040022': { curve: 'P-384', bits: 384 },
  '2b81040023': { curve: 'P-521', bits: 521 },
  '2b06010401da470f01': { curve: 'Ed25519', bits: 256 },
  '2b060104019755010501': { curve: 'Curve25519', bits: 256 },
  '2b2403030208010107': { curve: 'brainpoolP256r1', bits: 256 },
};

const b64u = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * Parses a public-key (or subkey) packet body. A secret-key packet's public prefix is accepted too:
 * `body` of the result is then only that prefix, so fingerprints come out right.
 */
export function parsePublicKey(packetBody: Uint8Array, from: string): PublicKey {
  const fail = (w: string): LayerError => new LayerError('LAYER_GPG_KEY', `${from}: malformed public key packet: ${w}`);
  const r = new Reader(packetBody, fail);
  const version = r.u8();
  if (version !== 4 && version !== 6) throw fail(`unsupported key version ${version} (only v4 and v6 keys are accepted)`);
  const created = r.u32();
  const algo = r.u8();
  let end: number;
  if (version === 6) {
    const len = r.u32();
    end = r.p + len;
    if (end > packetBody.length) throw fail(`key material length ${len} exceeds the packet`);
  } else end = -1;
  const key: PublicKey = { version, created, algo, body: packetBody, fingerprint: '', keyId: '', bits: 0, curve: undefined, keyObject: undefined, unsupported: undefined };
  const make = (f: () => KeyObject): void => {
    try {
      key.keyObject = f();
    } catch (e) {
      key.unsupported = `node:crypto cannot load the key: ${(e as Error).message}`;
    }
  };
  switch (algo) {
    case 1:
    case 2:
    case 3: {
      const n = r.mpi();
      const e = r.mpi();
      key.bits = n.length * 8 - (n.length > 0 ? Math.clz32(n[0]!) - 24 : 0);
      make(() => createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' }));
      break;
    }
    case 17: {
      const p = r.mpi();
      r.mpi();
      r.mpi();
      r.mpi();
      key.bits = p.length * 8;
      key.unsupported = 'DSA';
      break;
    }
    case 16: {
      r.mpi();
      r.mpi();
      r.mpi();
      key.unsupported = 'ElGamal (encryption only)';
      break;
    }
    case 18:
    case 19:
    case 22: {
      const oidLen = r.u8();
      if (oidLen === 0 || oidLen === 0xff) throw fail(`reserved curve OID length ${oidLen}`);
      const oid = Buffer.from(r.bytes(oidLen)).toString('hex');
      const point = r.mpi();
      if (algo === 18) {
        const kdfLen = r.u8();
        r.bytes(kdfLen);
      }
      const c = OIDS[oid];
      key.curve = c?.curve ?? `oid-${oid}`;
      key.bits = c?.bits ?? 0;
      if (algo === 18) {
        key.unsupported = 'ECDH (encryption only)';
      } else if (algo === 22) {
        // EdDSA legacy (RFC 9580 §5.5.5.5): prefix 0x40 then the 32-byte native point.
        if (c?.curve !== 'Ed25519') key.unsupported = `EdDSA on ${key.curve}`;
        else if (point.length !== 33 || point[0] !== 0x40) throw fail('Ed25519 point is not 0x40 + 32 bytes');
        else make(() => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(point.subarray(1)) }, format: 'jwk' }));
      } else if (!c || !c.curve.startsWith('P-')) {
        key.unsupported = `ECDSA on ${key.curve}`;
      } else {
        const size = (c.bits + 7) >> 3;
        if (point.length !== 1 + 2 * size || point[0] !== 0x04) throw fail(`${c.curve} point is not uncompressed (${point.length} bytes)`);
        const crv = c.curve;
        make(() => createPublicKey({ key: { kty: 'EC', crv, x: b64u(point.subarray(1, 1 + size)), y: b64u(point.subarray(1 + size)) }, format: 'jwk' }));
      }
      break;
    }
    case 27: {
      const x = r.bytes(32);
      key.curve = 'Ed25519';
      key.bits = 256;
      make(() => createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: b64u(x) }, format: 'jwk' }));
      break;
    }
    case 28: {
      const x = r.bytes(57);
      key.curve = 'Ed448';
      key.bits = 448;
      make(() => createPublicKey({ key: { kty: 'OKP', crv: 'Ed448', x: b64u(x) }, format: 'jwk' }));
      break;
    }
    case 25:
    case 26:
      r.bytes(algo === 25 ? 32 : 56);
      key.unsupported = 'X25519/X448 (encryption only)';
      break;
    default:
      if (version !== 6) throw fail(`unknown public-key algorithm ${algo}`);
      key.unsupported = `algorithm ${algo}`;
  }
  if (version === 6) r.p = end;
  key.body = packetBody.subarray(0, r.p);
  key.fingerprint = fingerprintOf(version, key.body);
  key.keyId = version === 6 ? key.fingerprint.slice(0, 16) : key.fingerprint.slice(-16);
  return key;
}

/** RFC 4880 §12.2 (v4: SHA-1 over 0x99, 2-octet length, body) / RFC 9580 §5.5.4 (v6: SHA-256, 0x9B, 4 octets). */
function fingerprintOf(version: number, body: Uint8Array): string {
  return createHash(version === 6 ? 'sha256' : 'sha1').update(keyHashPrefix(version, body.length)).update(body).digest('hex');
}

/** What precedes a key's body when it is hashed (fingerprints, binding signatures). */
export function keyHashPrefix(version: number, len: number): Uint8Array {
  if (version === 6) return Uint8Array.of(0x9b, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  return Uint8Array.of(0x99, (len >>> 8) & 0xff, len & 0xff);
}

/** The bytes a certification hashes for a user id/attribute (RFC 4880 §5.2.4): 0xB4/0xD1 + 4-octet length. */
export function userIdHashPrefix(tag: number, len: number): Uint8Array {
  return Uint8Array.of(tag === PacketTag.UserAttribute ? 0xd1 : 0xb4, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
}

/** Every certificate in a binary packet stream (a key file may hold several). */
export function parseCerts(bytes: Uint8Array, from: string): Cert[] {
  const packets = readPackets(bytes, from);
  const fail = (w: string): LayerError => new LayerError('LAYER_GPG_KEY', `${from}: ${w}`);
  const certs: Cert[] = [];
  let cur: Cert | undefined;
  let target: { sigs: Signature[] } | undefined;
  const starts: number[] = [];
  for (const pk of packets) {
    switch (pk.tag) {
      case PacketTag.PublicKey:
      case PacketTag.SecretKey: {
        const primary = parsePublicKey(pk.body, from);
        cur = { primary, directSigs: [], userIds: [], subkeys: [], from, raw: new Uint8Array(0) };
        starts.push(pk.start ?? 0);
        certs.push(cur);
        target = { sigs: cur.directSigs };
        break;
      }
      case PacketTag.PublicSubkey:
      case PacketTag.SecretSubkey: {
        if (!cur) throw fail('subkey before any primary key');
        const key = parsePublicKey(pk.body, from);
        const sub: SubkeyBinding = { key, sigs: [] };
        cur.subkeys.push(sub);
        target = sub;
        break;
      }
      case PacketTag.UserId:
      case PacketTag.UserAttribute: {
        if (!cur) throw fail('user id before any primary key');
        const uid: UserIdBinding = {
          userId: pk.tag === PacketTag.UserId ? new TextDecoder().decode(pk.body) : undefined,
          body: pk.body,
          tag: pk.tag,
          sigs: [],
        };
        cur.userIds.push(uid);
        target = uid;
        break;
      }
      case PacketTag.Signature: {
        if (!cur || !target) throw fail('signature before any key');
        // A signature we cannot parse (a newer version, an odd algorithm) is skipped, as
        // rpm-sequoia ignores components it does not understand; it simply vouches for nothing.
        try {
          const sig = parseSignature(pk.body, (w) => fail(w));
          sig.body = pk.body;
          target.sigs.push(sig);
        } catch (e) {
          if (!(e instanceof LayerError)) throw e;
        }
        break;
      }
      case PacketTag.Trust:
      case PacketTag.Marker:
        break;
      default:
        throw fail(`unexpected packet tag ${pk.tag} in a public key`);
    }
  }
  if (certs.length === 0) throw fail('no public key in the data');
  certs.forEach((c, i) => (c.raw = bytes.subarray(starts[i]!, starts[i + 1] ?? bytes.length)));
  return certs;
}


/** The first user id, as rpm and dnf show it. */
export function primaryUserId(cert: Cert): string {
  return cert.userIds.find((u) => u.userId !== undefined)?.userId ?? '';
}
