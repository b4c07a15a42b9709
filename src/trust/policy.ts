/**
 * What is accepted, as Fedora/RHEL's rpm-sequoia with the DEFAULT crypto policy: no MD5 or SHA-1
 * (nor RIPEMD-160) in data signatures or in key bindings, RSA of at least 2048 bits, no DSA;
 * revoked or expired keys and subkeys, and subkeys without a valid binding, are refused.
 */
export interface TrustPolicy {
  /** Hash algorithms refused in package/metadata signatures (rpm names: 'SHA1', …). */
  refusedDataHashes: ReadonlySet<string>;
  /** Hash algorithms refused in self-signatures and subkey bindings. */
  refusedBindingHashes: ReadonlySet<string>;
  minRsaBits: number;
  /** DSA keys (rpm-sequoia's DEFAULT policy refuses them). */
  allowDsa: boolean;
  /** "Now", seconds since the epoch: expiry is judged at this time and at the signature's. */
  now?: number;
}

export const DEFAULT_POLICY: TrustPolicy = {
  refusedDataHashes: new Set(['MD5', 'SHA1', 'RIPEMD160']),
  refusedBindingHashes: new Set(['MD5', 'SHA1', 'RIPEMD160']),
  minRsaBits: 2048,
  allowDsa: false,
};

/** rpm 4.18's legacy parser's view (Debian): SHA-1 accepted everywhere. For comparisons and opt-outs. */
export const LEGACY_POLICY: TrustPolicy = {
  refusedDataHashes: new Set(['MD5']),
  refusedBindingHashes: new Set(['MD5']),
  minRsaBits: 1024,
  allowDsa: false,
};

export function nowOf(policy: TrustPolicy): number {
  return policy.now ?? Math.floor(Date.now() / 1000);
}
