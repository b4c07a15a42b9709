/**
 * Signature verification through node:crypto (RSA PKCS#1 v1.5, ECDSA on NIST curves, EdDSA
 * Ed25519/Ed448), and the validity rules a key must pass before its signature counts: a valid
 * self-signature, no revocation, not expired, and for a subkey a valid binding signature from the
 * primary key with a back-signature from the subkey (CVE-2021-3521), each under the policy.
 */
import { createHash, createVerify, verify as edVerify, constants } from 'node:crypto';
import { keyHashPrefix, userIdHashPrefix, type Cert, type PublicKey } from './key.js';
import { nowOf, type TrustPolicy } from './policy.js';
import { HASHES, SigType, hashName, type Signature } from './signature.js';

export type SignatureCategory = 'not-signed' | 'key-missing' | 'key-not-trusted' | 'bad-signature' | 'weak-algorithm';

/** Why a key cannot be used (category + a sentence naming the key). */
export interface KeyProblem {
  category: 'key-not-trusted' | 'weak-algorithm';
  reason: string;
}

/** A streaming check of one signature by one key: feed the signed data, then `finish()`. */
interface Check {
  update(b: Uint8Array): void;
  finish(): boolean;
}

const RSA = new Set([1, 3]);

function pad(b: Uint8Array | undefined, n: number): Uint8Array | undefined {
  if (b === undefined || b.length > n) return undefined;
  if (b.length === n) return b;
  const out = new Uint8Array(n);
  out.set(b, n - b.length);
  return out;
}

/**
 * A streaming checker for `sig` made by `key`, or a reason it cannot be checked. The key's
 * algorithm must be the one the signature names: a signature never crosses algorithms (a
 * type-confusion attempt simply fails).
 */
export function startCheck(key: PublicKey, sig: Signature): Check | string {
  const hash = HASHES[sig.hashAlgo]?.[1];
  if (hash === undefined) return `unknown hash algorithm ${sig.hashAlgo}`;
  const sameAlgo = sig.pkAlgo === key.algo || (RSA.has(sig.pkAlgo) && RSA.has(key.algo));
  if (!sameAlgo) return 'the signature algorithm does not match the key';
  if ((sig.version === 6) !== (key.version === 6)) return `a v${sig.version} signature cannot be made by a v${key.version} key`;
  const ko = key.keyObject;
  if (ko === undefined) return `${key.unsupported ?? 'this key type'} is not supported`;
  const finishTrailer = (update: (b: Uint8Array) => void): void => update(sig.trailer);
  if (RSA.has(key.algo) || key.algo === 19) {
    const v = createVerify(hash);
    if (sig.salt) v.update(sig.salt);
    let material: Uint8Array | undefined;
    if (key.algo === 19) {
      const size = (key.bits + 7) >> 3;
      const r = pad(sig.material[0], size);
      const s = pad(sig.material[1], size);
      material = r && s ? Buffer.concat([r, s]) : undefined;
    } else material = pad(sig.material[0], (key.bits + 7) >> 3);
    return {
      update: (b) => v.update(b),
      finish: () => {
        if (material === undefined) return false;
        finishTrailer((b) => v.update(b));
        try {
          return key.algo === 19
            ? v.verify({ key: ko, dsaEncoding: 'ieee-p1363' }, material)
            : v.verify({ key: ko, padding: constants.RSA_PKCS1_PADDING }, material);
        } catch {
          return false;
        }
      },
    };
  }
  // EdDSA signs the digest itself (RFC 9580 §5.2.3.3).
  const h = createHash(hash);
  if (sig.salt) h.update(sig.salt);
  let material: Uint8Array | undefined;
  if (key.algo === 22) {
    const r = pad(sig.material[0], 32);
    const s = pad(sig.material[1], 32);
    material = r && s ? Buffer.concat([r, s]) : undefined;
  } else material = sig.material[0];
  return {
    update: (b) => h.update(b),
    finish: () => {
      if (material === undefined) return false;
      h.update(sig.trailer);
      try {
        return edVerify(null, h.digest(), ko, material);
      } catch {
        return false;
      }
    },
  };
}

/** One-shot check over in-memory chunks; false for anything that does not verify or cannot be checked. */
export function checkOver(key: PublicKey, sig: Signature, chunks: readonly Uint8Array[]): boolean {
  const c = startCheck(key, sig);
  if (typeof c === 'string') return false;
  for (const b of chunks) c.update(b);
  return c.finish();
}

const keyData = (k: PublicKey): Uint8Array[] => [keyHashPrefix(k.version, k.body.length), k.body];

/** UTC "YYYY-MM-DD HH:MM:SS", as rpm prints expiry dates. */
export function formatTime(t: number): string {
  return new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}

/** A key's own algorithm and size under the policy. */
export function keyStrength(key: PublicKey, policy: TrustPolicy): string | undefined {
  if (RSA.has(key.algo) && key.bits < policy.minRsaBits) return `RSA key of ${key.bits} bits (the policy needs at least ${policy.minRsaBits})`;
  if (key.algo === 17 && !policy.allowDsa) return 'DSA keys are not accepted by the policy';
  return undefined;
}

type BindingVerdict = 'ok' | 'weak' | 'bad';

/** A self-signature or binding: crypto, creation after the key, not expired, no unknown critical subpacket, hash under the policy. */
function bindingVerdict(sig: Signature, signer: PublicKey, bound: PublicKey, data: Uint8Array[], policy: TrustPolicy, now: number): BindingVerdict {
  if (sig.unknownCritical !== undefined || sig.created === undefined) return 'bad';
  if (sig.created < bound.created) return 'bad';
  if (sig.sigExpiry && sig.created + sig.sigExpiry <= now) return 'bad';
  if (!checkOver(signer, sig, data)) return 'bad';
  return policy.refusedBindingHashes.has(hashName(sig.hashAlgo)) ? 'weak' : 'ok';
}

function newest(sigs: Signature[]): Signature | undefined {
  return sigs.reduce<Signature | undefined>((a, s) => (a === undefined || (s.created ?? 0) >= (a.created ?? 0) ? s : a), undefined);
}

/** What a key's bindings say once they verified: its flags and when it expires (undefined: never). */
interface Valid {
  flags: number | undefined;
  expires: number | undefined;
}

// Bindings are judged once per key, policy and "now" (a transaction verifies many packages by
// one key); only the comparison with each signature's time is done per signature.
const cache = new WeakMap<TrustPolicy, WeakMap<PublicKey, { now: number; rev: number; v: KeyProblem | Valid }>>();

function cached(policy: TrustPolicy, cert: Cert, key: PublicKey, now: number, compute: () => KeyProblem | Valid): KeyProblem | Valid {
  let pc = cache.get(policy);
  if (!pc) cache.set(policy, (pc = new WeakMap()));
  const hit = pc.get(key);
  const rev = cert.rev ?? 0;
  if (hit && hit.now === now && hit.rev === rev) return hit.v;
  const v = compute();
  pc.set(key, { now, rev, v });
  return v;
}

/** The primary key's own validity at `now`: self-signature, revocation, expiry, strength. */
function computePrimary(cert: Cert, policy: TrustPolicy, now: number): KeyProblem | Valid {
  const p = cert.primary;
  const id = p.keyId;
  const weak = keyStrength(p, policy);
  if (weak) return { category: 'weak-algorithm', reason: `key ${id}: ${weak}` };
  // Revocations are honoured whatever their hash: refusing too much is the safe side.
  for (const s of cert.directSigs) {
    if (s.type === SigType.KeyRevocation && checkOver(p, s, keyData(p))) return { category: 'key-not-trusted', reason: `key ${id} has been revoked` };
  }
  const ok: Signature[] = [];
  let sawWeak = false;
  for (const s of cert.directSigs) {
    if (s.type !== SigType.DirectKey) continue;
    const v = bindingVerdict(s, p, p, keyData(p), policy, now);
    if (v === 'ok') ok.push(s);
    sawWeak ||= v === 'weak';
  }
  for (const u of cert.userIds) {
    const data = [...keyData(p), userIdHashPrefix(u.tag, u.body.length), u.body];
    for (const s of u.sigs) {
      if (s.type < SigType.CertGeneric || s.type > SigType.CertPositive || s.version < 4) continue;
      const v = bindingVerdict(s, p, p, data, policy, now);
      if (v === 'ok') ok.push(s);
      sawWeak ||= v === 'weak';
    }
  }
  const self = newest(ok);
  if (!self) {
    if (sawWeak) return { category: 'weak-algorithm', reason: `key ${id}: its self-signatures use a hash the policy refuses (SHA1/MD5)` };
    return { category: 'key-not-trusted', reason: `key ${id} has no valid self-signature` };
  }
  const expires = self.keyExpiry ? p.created + self.keyExpiry : undefined;
  if (expires !== undefined && expires <= now) return { category: 'key-not-trusted', reason: `key ${id} expired on ${formatTime(expires)}` };
  return { flags: self.keyFlags, expires };
}

/** A subkey's validity at `now` (its primary judged separately): binding, back-signature, revocation, expiry. */
function computeSubkey(cert: Cert, key: PublicKey, sigs: Signature[], policy: TrustPolicy, now: number): KeyProblem | Valid {
  const p = cert.primary;
  const what = `subkey ${key.keyId} of key ${p.keyId}`;
  const weak = keyStrength(key, policy);
  if (weak) return { category: 'weak-algorithm', reason: `${what}: ${weak}` };
  const data = [...keyData(p), ...keyData(key)];
  for (const s of sigs) {
    if (s.type === SigType.SubkeyRevocation && checkOver(p, s, data)) return { category: 'key-not-trusted', reason: `${what} has been revoked` };
  }
  const ok: Signature[] = [];
  let sawWeak = false;
  for (const s of sigs) {
    if (s.type !== SigType.SubkeyBinding) continue;
    const v = bindingVerdict(s, p, key, data, policy, now);
    if (v === 'ok') ok.push(s);
    sawWeak ||= v === 'weak';
  }
  const binding = newest(ok);
  if (!binding) {
    if (sawWeak) return { category: 'weak-algorithm', reason: `${what}: its binding signature uses a hash the policy refuses (SHA1/MD5)` };
    return { category: 'key-not-trusted', reason: `${what} has no valid binding signature (CVE-2021-3521)` };
  }
  if (binding.keyFlags === undefined || !(binding.keyFlags & 0x02)) return { category: 'key-not-trusted', reason: `${what} is not a signing subkey` };
  // A signing subkey must also vouch for its primary (RFC 4880 §11.1, 0x19 back-signature),
  // or anyone could bind someone else's signing key to their own certificate.
  let back: BindingVerdict = 'bad';
  for (const e of binding.embedded) {
    if (e.type !== SigType.PrimaryKeyBinding) continue;
    const v = bindingVerdict(e, key, key, data, policy, now);
    if (v === 'ok') back = 'ok';
    else if (v === 'weak' && back === 'bad') back = 'weak';
  }
  if (back === 'weak') return { category: 'weak-algorithm', reason: `${what}: its back-signature uses a hash the policy refuses (SHA1/MD5)` };
  if (back === 'bad') return { category: 'key-not-trusted', reason: `${what} has no valid primary-key binding (back-signature)` };
  const expires = binding.keyExpiry ? key.created + binding.keyExpiry : undefined;
  if (expires !== undefined && expires <= now) return { category: 'key-not-trusted', reason: `${what} expired on ${formatTime(expires)}` };
  return { flags: binding.keyFlags, expires };
}

/**
 * Whether `key` (the primary of `cert` or one of its subkeys) may vouch for a data signature made
 * at `at`: undefined when it may, else the problem. Judged at the policy's "now" and at `at`.
 */
export function keyProblem(cert: Cert, key: PublicKey, policy: TrustPolicy, at: number): KeyProblem | undefined {
  const now = nowOf(policy);
  const p = cert.primary;
  const pv = cached(policy, cert, p, now, () => computePrimary(cert, policy, now));
  if ('category' in pv) return pv;
  if (pv.expires !== undefined && pv.expires <= at) return { category: 'key-not-trusted', reason: `key ${p.keyId} expired on ${formatTime(pv.expires)}` };
  if (key === p) {
    if (pv.flags !== undefined && !(pv.flags & 0x02)) return { category: 'key-not-trusted', reason: `key ${p.keyId} is not a signing key` };
    if (at < p.created) return { category: 'key-not-trusted', reason: `key ${p.keyId} was created after the signature` };
    return undefined;
  }
  const sub = cert.subkeys.find((s) => s.key === key);
  if (!sub) return { category: 'key-not-trusted', reason: `key ${key.keyId} is not part of key ${p.keyId}` };
  const what = `subkey ${key.keyId} of key ${p.keyId}`;
  const sv = cached(policy, cert, key, now, () => computeSubkey(cert, key, sub.sigs, policy, now));
  if ('category' in sv) return sv;
  if (sv.expires !== undefined && sv.expires <= at) return { category: 'key-not-trusted', reason: `${what} expired on ${formatTime(sv.expires)}` };
  if (at < key.created) return { category: 'key-not-trusted', reason: `${what} was created after the signature` };
  return undefined;
}
