/**
 * A set of certificates looked up by full fingerprint, and the one function that decides a data
 * signature against it. A signature names its issuer by fingerprint (subpacket 33) or only by
 * 64-bit key id; with a key id every key carrying that id is tried (two keys can share one), and
 * the verdict names the full fingerprint of the key that actually verified.
 */
import { LayerError } from '../errors.js';
import { decodeArmor, isArmored } from './armor.js';
import { parseCerts, primaryUserId, type Cert, type PublicKey } from './key.js';
import { PacketTag, type Packet } from './packets.js';
import { nowOf, type TrustPolicy } from './policy.js';
import { hashName, pkName, SigType, type Signature } from './signature.js';
import { keyProblem, startCheck, type SignatureCategory } from './verify.js';

/** Parses every public key in armored or binary `data`; `from` names the source in errors. */
export function parseArmoredKeys(data: string | Uint8Array, from: string): Cert[] {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!isArmored(bytes)) return parseCerts(bytes, from);
  const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
  const blocks = decodeArmor(text, from).filter((b) => b.kind === 'PUBLIC KEY BLOCK');
  if (blocks.length === 0) throw new LayerError('LAYER_GPG_KEY', `${from}: no "PUBLIC KEY BLOCK" (is it a key file?)`);
  return blocks.flatMap((b) => parseCerts(b.data, from));
}

/** The result of a verified signature: which key, of which certificate. */
export interface VerifiedBy {
  cert: Cert;
  key: PublicKey;
  /** Full fingerprint of the primary key (what rpm reports and records). */
  fingerprint: string;
  /** Full fingerprint of the key that made the signature (a subkey's, or the primary's). */
  signingFingerprint: string;
}

/** A refused signature; the caller turns it into its own error with the package or file named. */
export class SignatureProblem {
  constructor(
    readonly category: SignatureCategory,
    readonly reason: string,
    readonly keyId: string | undefined,
    readonly fingerprint: string | undefined,
  ) {}
}

export class Keyring {
  private readonly certs = new Map<string, Cert>();

  /** Adds (or merges into an existing key with the same fingerprint); returns the stored certificate. */
  add(cert: Cert): Cert {
    const have = this.certs.get(cert.primary.fingerprint);
    if (!have) {
      this.certs.set(cert.primary.fingerprint, cert);
      return cert;
    }
    mergeInto(have, cert);
    return have;
  }

  /** Adds every key in armored or binary `data`; returns them (merged where already known). */
  addKeys(data: string | Uint8Array, from: string): Cert[] {
    return parseArmoredKeys(data, from).map((c) => this.add(c));
  }

  /** By full fingerprint of the primary key (40 or 64 hex digits, any case); never by a short id. */
  get(fingerprint: string): Cert | undefined {
    const f = fingerprint.toLowerCase().replace(/^0x/, '');
    if (f.length !== 40 && f.length !== 64) return undefined;
    return this.certs.get(f);
  }

  has(fingerprint: string): boolean {
    return this.get(fingerprint) !== undefined;
  }

  get size(): number {
    return this.certs.size;
  }

  all(): Cert[] {
    return [...this.certs.values()];
  }

  clone(): Keyring {
    const k = new Keyring();
    for (const c of this.certs.values()) k.certs.set(c.primary.fingerprint, c);
    return k;
  }

  /** Keys that could have made `sig`: by issuer fingerprint when it has one, else every key with its key id. */
  candidates(sig: Signature): { cert: Cert; key: PublicKey }[] {
    const out: { cert: Cert; key: PublicKey }[] = [];
    for (const cert of this.certs.values()) {
      for (const key of [cert.primary, ...cert.subkeys.map((s) => s.key)]) {
        if (sig.issuerFpr !== undefined ? key.fingerprint === sig.issuerFpr : key.keyId === sig.issuerKeyId) out.push({ cert, key });
      }
    }
    return out;
  }
}

function sigKey(s: Signature): string {
  return `${Buffer.from(s.trailer).toString('hex')}:${s.material.map((m) => Buffer.from(m).toString('hex')).join(',')}`;
}

/** rpm's key update: new user ids, subkeys and signatures of the same key are added. */
function mergeInto(have: Cert, cert: Cert): void {
  const known = new Set<string>([...have.directSigs, ...have.userIds.flatMap((u) => u.sigs), ...have.subkeys.flatMap((s) => s.sigs)].map(sigKey));
  const addSigs = (into: Signature[], from: Signature[]): void => {
    for (const s of from) if (!known.has(sigKey(s))) into.push(s);
  };
  addSigs(have.directSigs, cert.directSigs);
  for (const u of cert.userIds) {
    const same = have.userIds.find((h) => h.tag === u.tag && Buffer.compare(h.body, u.body) === 0);
    if (same) addSigs(same.sigs, u.sigs);
    else have.userIds.push(u);
  }
  for (const s of cert.subkeys) {
    const same = have.subkeys.find((h) => h.key.fingerprint === s.key.fingerprint);
    if (same) addSigs(same.sigs, s.sigs);
    else have.subkeys.push(s);
  }
  have.rev = (have.rev ?? 0) + 1;
}

/** The packets of a certificate in canonical order (RFC 4880 §11.1), for re-armoring. */
export function certPackets(cert: Cert): Packet[] {
  const sigs = (l: Signature[]): Packet[] => l.filter((s) => s.body !== undefined).map((s) => ({ tag: PacketTag.Signature, body: s.body! }));
  return [
    { tag: PacketTag.PublicKey, body: cert.primary.body },
    ...sigs(cert.directSigs),
    ...cert.userIds.flatMap((u) => [{ tag: u.tag, body: u.body }, ...sigs(u.sigs)]),
    ...cert.subkeys.flatMap((s) => [{ tag: PacketTag.PublicSubkey, body: s.key.body }, ...sigs(s.sigs)]),
  ];
}

/** "V4 RSA/SHA256" as rpm names a signature. */
export function describeSig(sig: Signature): string {
  return `V${sig.version} ${pkName(sig.pkAlgo)}/${hashName(sig.hashAlgo)}`;
}

/**
 * Decides a data signature (type 0x00) over `data` against `keyring`: the verifying key, or a
 * SignatureProblem saying why not. `data` is read once per candidate key (normally one).
 */
export async function verifyData(
  sig: Signature,
  keyring: Keyring,
  data: () => Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
  policy: TrustPolicy,
): Promise<VerifiedBy | SignatureProblem> {
  const keyId = sig.issuerKeyId;
  const fpr = sig.issuerFpr;
  if (sig.type !== SigType.Binary) return new SignatureProblem('bad-signature', `signature type 0x${sig.type.toString(16)} is not a binary document signature`, keyId, fpr);
  const hash = hashName(sig.hashAlgo);
  if (policy.refusedDataHashes.has(hash)) return new SignatureProblem('weak-algorithm', `${hash} signatures are refused by the policy`, keyId, fpr);
  if (sig.created === undefined) return new SignatureProblem('bad-signature', 'signature without creation time', keyId, fpr);
  if (sig.unknownCritical !== undefined) return new SignatureProblem('bad-signature', `unknown critical subpacket ${sig.unknownCritical}`, keyId, fpr);
  if (sig.sigExpiry && sig.created + sig.sigExpiry <= nowOf(policy)) return new SignatureProblem('key-not-trusted', 'the signature has expired', keyId, fpr);
  const cands = keyring.candidates(sig);
  if (cands.length === 0) return new SignatureProblem('key-missing', 'no such key in the keyring', keyId, fpr);
  let trust: SignatureProblem | undefined;
  let bad: SignatureProblem | undefined;
  for (const { cert, key } of cands) {
    const check = startCheck(key, sig);
    if (typeof check === 'string') {
      bad ??= new SignatureProblem(key.unsupported ? 'weak-algorithm' : 'bad-signature', check, key.keyId, cert.primary.fingerprint);
      continue;
    }
    for await (const b of data()) check.update(b);
    if (!check.finish()) {
      bad ??= new SignatureProblem('bad-signature', 'the signature does not verify (data or signature altered)', key.keyId, cert.primary.fingerprint);
      continue;
    }
    const problem = keyProblem(cert, key, policy, sig.created);
    if (problem) {
      trust ??= new SignatureProblem(problem.category, problem.reason, key.keyId, cert.primary.fingerprint);
      continue;
    }
    return { cert, key, fingerprint: cert.primary.fingerprint, signingFingerprint: key.fingerprint };
  }
  return trust ?? bad!;
}

export { primaryUserId };
