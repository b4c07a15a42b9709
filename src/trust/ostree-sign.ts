/**
 * Signing and verifying OSTree commits and summaries (detached metadata, store/commitmeta.ts).
 *
 * - GPG: the signature is made by the real `gpg --detach-sign` (binary, not armored), as
 *   `ostree gpg-sign` has gpgme do it, with the caller's GNUPGHOME; the secret key never passes
 *   through layer. Verification is trust/'s own OpenPGP code (verifyDetached) against a keyring
 *   of the remote's imported keys; one good signature by a trusted key is enough, as in OSTree.
 * - ed25519 (`ostree sign --sign-type=ed25519`): node:crypto. Key files are OSTree's: one base64
 *   key per line, a secret key being the 64 bytes seed ‖ public key (libsodium's layout) and a
 *   public key 32 bytes. A signature is 64 bytes over the signed bytes themselves (no prehash).
 */
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LayerError } from '../errors.js';
import type { Keyring, VerifiedBy } from './keyring.js';
import { verifyDetached } from './detached.js';
import { DEFAULT_POLICY, type TrustPolicy } from './policy.js';
import { SignatureError } from './rpmsig.js';

const SEED = 32;
const PUBLIC = 32;
const SIGNATURE = 64;
/** Most signatures looked at (trust/'s OpenPGP reader has the same bound on signature packets). */
const MAX_SIGNATURES = 64;

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

function keyLines(file: string, what: string): Buffer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new LayerError('LAYER_SIGN_KEY', `cannot read the ${what} file ${file}`, { cause: err });
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new LayerError('LAYER_SIGN_KEY', `${file}: no ${what} in it`, { hint: 'one base64 key per line, as `ostree sign` reads them' });
  return lines.map((l) => {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(l)) throw new LayerError('LAYER_SIGN_KEY', `${file}: a line is not base64`);
    return Buffer.from(l, 'base64');
  });
}

export interface Ed25519Secret {
  key: KeyObject;
  /** The 32-byte public key, base64 (what a host's verification file holds). */
  publicBase64: string;
}

/** The first secret key of an OSTree ed25519 secret key file; its public half must match its seed. */
export function ed25519SecretKey(file: string): Ed25519Secret {
  const raw = keyLines(file, 'ed25519 secret key')[0] ?? Buffer.alloc(0);
  if (raw.length !== SEED + PUBLIC) {
    throw new LayerError('LAYER_SIGN_KEY', `${file}: an ed25519 secret key is ${SEED + PUBLIC} bytes (seed and public key), this one is ${raw.length}`);
  }
  const seed = raw.subarray(0, SEED);
  const pub = raw.subarray(SEED);
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seed), x: b64url(pub) }, format: 'jwk' });
  } catch (err) {
    throw new LayerError('LAYER_SIGN_KEY', `${file}: not an ed25519 secret key`, { cause: err });
  }
  // node:crypto derives the public key from the seed: a file whose halves disagree is refused.
  const derived = createPublicKey(key).export({ format: 'jwk' }).x;
  if (derived !== b64url(pub)) throw new LayerError('LAYER_SIGN_KEY', `${file}: the public half of the ed25519 secret key does not match its seed`);
  return { key, publicBase64: pub.toString('base64') };
}

/** Every public key of an OSTree ed25519 public key file (32 bytes each). */
export function ed25519PublicKeys(file: string): Buffer[] {
  return keyLines(file, 'ed25519 public key').map((k) => {
    if (k.length !== PUBLIC) throw new LayerError('LAYER_SIGN_KEY', `${file}: an ed25519 public key is ${PUBLIC} bytes, one is ${k.length}`);
    return k;
  });
}

export function signEd25519(data: Uint8Array, secret: Ed25519Secret): Buffer {
  return sign(null, data, secret.key);
}

/**
 * True when one of `sigs` is a valid signature of `data` by one of `keys` (OSTree: any one
 * suffices). A signature of the wrong length is refused outright, as OSTree does.
 */
export type Ed25519Verdict = { ok: true; key: string } | { ok: false; reason: string };

export function verifyEd25519(data: Uint8Array, sigs: readonly Uint8Array[], keys: readonly Uint8Array[]): Ed25519Verdict {
  if (sigs.length === 0) return { ok: false, reason: 'no ed25519 signature' };
  // Bounded work whatever a server sends (1 MiB of detached metadata holds 16k signatures).
  if (sigs.length > MAX_SIGNATURES) return { ok: false, reason: `${sigs.length} ed25519 signatures (more than ${MAX_SIGNATURES})` };
  const jwk = (k: Uint8Array) => ({ kty: 'OKP', crv: 'Ed25519', x: b64url(k) });
  const objs = keys.map((k) => ({ b64: Buffer.from(k).toString('base64'), key: createPublicKey({ key: jwk(k), format: 'jwk' }) }));
  for (const s of sigs) {
    if (s.length !== SIGNATURE) return { ok: false, reason: `an ed25519 signature of ${s.length} bytes (not ${SIGNATURE})` };
    for (const k of objs) if (verify(null, data, k.key, s)) return { ok: true, key: k.b64 };
  }
  return { ok: false, reason: `none of ${sigs.length} ed25519 signature(s) verifies with the ${keys.length} trusted key(s)` };
}

/**
 * A binary detached OpenPGP signature of `data` by `keyId` from the keys in `homedir`, made by
 * `gpg` (a passphrase-protected key must be unlocked in gpg-agent: gpg runs in batch mode).
 */
export function gpgDetachSign(data: Uint8Array, keyId: string, homedir?: string): Buffer {
  const args = [...(homedir ? ['--homedir', homedir] : []), '--batch', '--no-tty', '--local-user', keyId, '--detach-sign', '--output', '-'];
  const r = spawnSync('gpg', args, { input: data, maxBuffer: 1 << 20, timeout: 120_000 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LayerError('LAYER_SIGN_KEY', missing ? 'gpg is not installed' : `gpg failed: ${r.error.message}`, missing ? { hint: 'apt-get install -y gpg' } : { cause: r.error });
  }
  if (r.status !== 0 || r.stdout.length === 0) {
    const why = r.stderr.toString('utf8').trim().split('\n').filter(Boolean).pop() ?? `exit status ${r.status}`;
    throw new LayerError('LAYER_SIGN_KEY', `gpg could not sign with key ${keyId}${homedir ? ` of ${homedir}` : ''}: ${why}`, {
      hint: 'check the key id with gpg --list-secret-keys (and --gpg-homedir)',
    });
  }
  return r.stdout;
}

/**
 * Verifies OSTree's `ostree.gpgsigs` entries over `data` against `keyring`: the key that signed,
 * or a LAYER_COMMIT_SIGNATURE SignatureError naming `what` (no signature, unknown key, bad).
 */
export async function verifyGpgSigs(
  data: Uint8Array, sigs: readonly Uint8Array[], keyring: Keyring, what: string, keysName: string, policy: TrustPolicy = DEFAULT_POLICY,
): Promise<VerifiedBy> {
  if (sigs.length === 0) throw new SignatureError('LAYER_COMMIT_SIGNATURE', 'not-signed', `${what}: no GPG signature`, undefined, undefined);
  return verifyDetached(data, Buffer.concat(sigs), keyring, what, policy, { code: 'LAYER_COMMIT_SIGNATURE', keys: keysName });
}
