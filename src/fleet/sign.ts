/**
 * Signing what `layer compose` publishes, the OSTree way: the commit object's bytes get a
 * detached signature in `objects/XX/YYY.commitmeta` and the summary's bytes one in
 * `summary.sig` (store/commitmeta.ts), with GPG (the real `gpg`, `--sign-key KEYID`
 * `--gpg-homedir DIR`) and/or ed25519 (`--sign-ed25519 KEYFILE`, node:crypto). Signatures are
 * appended to those already there, as `ostree gpg-sign` and `ostree sign` do, so a commit can
 * carry several keys' signatures (a key rotation).
 *
 * Crash safety: the commitmeta is written (temp file + rename) before the ref moves to the
 * commit, and `summary.sig` right after the summary; a host never sees the new ref unsigned.
 * Between the summary and its `.sig` a host can fetch a mismatched pair: its pull fails
 * verification and succeeds on retry (OSTree has the same window).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { ED25519SIGS, GPGSIGS, appendSignatures, decodeDetached, encodeDetached, type DetachedMeta } from '../store/commitmeta.js';
import type { ArchiveRepo, Checksum } from '../store/index.js';
import { ed25519SecretKey, gpgDetachSign, signEd25519 } from '../trust/index.js';

export interface SignOptions {
  /** GPG key id (or fingerprint, or user id) to sign with. */
  gpgKeyId?: string;
  /** GNUPGHOME holding the secret key (default: gpg's own). */
  gpgHomedir?: string;
  /** OSTree ed25519 secret key file (base64 of the 64-byte secret). */
  ed25519KeyFile?: string;
}

export function wantsSigning(o: SignOptions | undefined): o is SignOptions {
  return o !== undefined && (o.gpgKeyId !== undefined || o.ed25519KeyFile !== undefined);
}

/**
 * Fails early (before a compose spends minutes) when a configured key cannot sign: the
 * ed25519 key file is read and gpg signs an empty document.
 */
export function checkSigningKeys(o: SignOptions): void {
  if (o.ed25519KeyFile !== undefined) ed25519SecretKey(o.ed25519KeyFile);
  if (o.gpgKeyId !== undefined) gpgDetachSign(new Uint8Array(0), o.gpgKeyId, o.gpgHomedir);
}

/** `meta` with one signature per configured key over `data` appended. */
function signed(meta: DetachedMeta, data: Uint8Array, o: SignOptions): DetachedMeta {
  let out = meta;
  if (o.gpgKeyId !== undefined) out = appendSignatures(out, GPGSIGS, [gpgDetachSign(data, o.gpgKeyId, o.gpgHomedir)]);
  if (o.ed25519KeyFile !== undefined) out = appendSignatures(out, ED25519SIGS, [signEd25519(data, ed25519SecretKey(o.ed25519KeyFile))]);
  return out;
}

/** Signs commit `commit` of `archive` (its `.commitmeta`, existing signatures kept). */
export function signCommit(archive: ArchiveRepo, commit: Checksum, o: SignOptions): void {
  const data = archive.readObject(commit, 'commit');
  const old = archive.hasObject(commit, 'commitmeta') ? decodeDetached(archive.readObject(commit, 'commitmeta'), `commitmeta of ${commit}`) : [];
  archive.writeObject(commit, 'commitmeta', encodeDetached(signed(old, data, o)));
}

/** Signs the archive's current `summary` into `summary.sig` (replacing the old summary's signatures). */
export function signSummary(archive: ArchiveRepo, o: SignOptions): void {
  const path = join(archive.path, 'summary');
  if (!existsSync(path)) throw new LayerError('LAYER_INTERNAL', `assertion failed: no summary in ${archive.path} to sign`);
  archive.writeFileAtomic('summary.sig', encodeDetached(signed([], readFileSync(path), o)));
}

/**
 * An unchanged compose asked to sign: a commit published unsigned gets its signatures (and the
 * summary its `.sig`); one already signed is left alone, so rerunning a compose never stacks
 * duplicate signatures.
 */
export function signIfUnsigned(archive: ArchiveRepo, commit: Checksum, o: SignOptions): void {
  if (archive.hasObject(commit, 'commitmeta')) return;
  signCommit(archive, commit, o);
  signSummary(archive, o);
}
