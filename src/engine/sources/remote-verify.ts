/**
 * Signature verification of an HTTP remote's commits and summary, configured as OSTree does in
 * the repo's `config`:
 *
 *     [remote "NAME"]
 *     gpg-verify=true            commits need a good GPG signature (.commitmeta, ostree.gpgsigs)
 *     gpg-verify-summary=true    the summary needs one too (summary.sig)
 *     sign-verify=ed25519        commits need a good ed25519 signature (ostree.sign.ed25519)
 *     sign-verify-summary=ed25519
 *     verification-ed25519-file=PATH
 *
 * GPG keys live where OSTree keeps them, `REPO/NAME.trustedkeys.gpg` (binary keys, what `ostree
 * remote gpg-import` writes); ed25519 public keys in a copy of the imported file beside it (a
 * host keeps verifying after the original file is gone). When both kinds are required, both
 * must verify. The checks run on bytes already checked against their checksum, before any tree
 * object is fetched, so a refused commit leaves nothing deployable behind.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { LayerError } from '../../errors.js';
import { ED25519SIGS, GPGSIGS, decodeDetached, detachedSignatures } from '../../store/commitmeta.js';
import type { Store } from '../../store/index.js';
import { Keyring, certPackets, ed25519PublicKeys, framePacket, parseArmoredKeys, verifyEd25519, verifyGpgSigs } from '../../trust/index.js';
import { SignatureError } from '../../trust/rpmsig.js';

/** What a remote's commits (and summary) must carry. */
export interface RemoteVerification {
  remote: string;
  gpg?: { keyring: Keyring; summary: boolean };
  ed25519?: { keys: Buffer[]; summary: boolean };
}

/** Keys to trust for a new remote: GPG key files (armored or binary), ed25519 public key files. */
export interface RemoteTrust {
  gpgImport?: readonly string[];
  ed25519?: readonly string[];
}

const keyringPath = (store: Store, name: string) => `${store.path}/${name}.trustedkeys.gpg`;
const ed25519Path = (store: Store, name: string) => `${store.path}/${name}.ed25519`;

function writeAtomic(store: Store, path: string, data: Uint8Array | string): void {
  const tmp = store.tmpPath('keys');
  writeFileSync(tmp, data, { mode: 0o644 });
  renameSync(tmp, path);
}

/**
 * Stores the keys of `trust` for remote `name` and returns the config options that require
 * them (none: the remote is unverified, `gpg-verify=false` as `--no-gpg-verify`).
 */
export function importRemoteTrust(store: Store, name: string, trust: RemoteTrust): Record<string, string> {
  const opts: Record<string, string> = {};
  if (trust.gpgImport && trust.gpgImport.length > 0) {
    const certs = trust.gpgImport.flatMap((f) => {
      let data: Buffer;
      try {
        data = readFileSync(f);
      } catch (err) {
        throw new LayerError('LAYER_GPG_KEY', `cannot read the key file ${f}`, { cause: err });
      }
      return parseArmoredKeys(data, f);
    });
    if (certs.length === 0) throw new LayerError('LAYER_GPG_KEY', `no public key in ${trust.gpgImport.join(', ')}`);
    const bin = Buffer.concat(certs.flatMap((c) => certPackets(c).map((p) => framePacket(p.tag, p.body))));
    writeAtomic(store, keyringPath(store, name), bin);
    Object.assign(opts, { 'gpg-verify': 'true', 'gpg-verify-summary': 'true' });
  }
  if (trust.ed25519 && trust.ed25519.length > 0) {
    const keys = trust.ed25519.flatMap((f) => ed25519PublicKeys(f));
    writeAtomic(store, ed25519Path(store, name), keys.map((k) => `${k.toString('base64')}\n`).join(''));
    Object.assign(opts, { 'sign-verify': 'ed25519', 'sign-verify-summary': 'ed25519', 'verification-ed25519-file': ed25519Path(store, name) });
  }
  return opts;
}

/** The options of `[remote "NAME"]` in the store's config. */
export function remoteOptions(store: Store, name: string): Map<string, string> {
  const out = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync(`${store.path}/config`, 'utf8');
  } catch {
    return out;
  }
  let inSection = false;
  for (const line of text.split('\n')) {
    const h = /^\s*\[(.*)\]\s*$/.exec(line);
    if (h) inSection = h[1] === `remote "${name}"`;
    else if (inSection) {
      const m = /^\s*([A-Za-z0-9-]+)\s*=\s*(.*?)\s*$/.exec(line);
      if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], m[2]);
    }
  }
  return out;
}

const yes = (v: string | undefined) => v !== undefined && /^(true|yes|1)$/i.test(v);
/** sign-verify: a boolean, or a list of signature types (OSTree); only ed25519 is known here. */
const wantsEd25519 = (v: string | undefined) => v !== undefined && (yes(v) || v.split(/[;,\s]+/).includes('ed25519'));

/** What remote `name` requires, from the store's config; undefined when it verifies nothing. */
export function remoteVerification(store: Store, name: string): RemoteVerification | undefined {
  const o = remoteOptions(store, name);
  const v: RemoteVerification = { remote: name };
  if (yes(o.get('gpg-verify')) || yes(o.get('gpg-verify-summary'))) {
    const keyring = new Keyring();
    let data: Buffer | undefined;
    try {
      data = readFileSync(keyringPath(store, name));
    } catch {
      data = undefined;
    }
    if (data) keyring.addKeys(data, keyringPath(store, name));
    if (keyring.size === 0) {
      throw new LayerError('LAYER_SIGN_KEY', `remote ${name} requires GPG signatures but has no keys (${keyringPath(store, name)})`, {
        hint: 'give the key with --gpg-import KEYFILE',
      });
    }
    v.gpg = { keyring, summary: yes(o.get('gpg-verify-summary')) };
  }
  const edCommit = wantsEd25519(o.get('sign-verify'));
  const edSummary = wantsEd25519(o.get('sign-verify-summary'));
  if (edCommit || edSummary) {
    const file = o.get('verification-ed25519-file');
    const inline = o.get('verification-ed25519-key');
    const keys = [...(file ? ed25519PublicKeys(file) : []), ...(inline ? [Buffer.from(inline, 'base64')] : [])];
    if (keys.length === 0) throw new LayerError('LAYER_SIGN_KEY', `remote ${name} requires ed25519 signatures but has no verification-ed25519-file/-key`);
    v.ed25519 = { keys, summary: edSummary };
  }
  return v.gpg || v.ed25519 ? v : undefined;
}

function refused(what: string, msg: string): SignatureError {
  return new SignatureError('LAYER_COMMIT_SIGNATURE', 'bad-signature', `${what}: ${msg}`, undefined, undefined, {
    hint: 'the server holds an unsigned or tampered object, or this host trusts other keys; nothing was deployed',
  });
}

/**
 * Checks `data` (commit object or summary bytes) against its detached metadata `detached`
 * (undefined: the server has none). `forSummary` selects the summary requirements.
 */
export async function verifySigned(
  v: RemoteVerification, data: Uint8Array, detached: Uint8Array | undefined, what: string, forSummary: boolean,
): Promise<string[]> {
  const gpg = v.gpg && (!forSummary || v.gpg.summary) ? v.gpg : undefined;
  const ed = v.ed25519 && (!forSummary || v.ed25519.summary) ? v.ed25519 : undefined;
  if (!gpg && !ed) return [];
  if (!detached) {
    const none = forSummary ? 'no summary.sig' : 'no .commitmeta';
    throw new SignatureError('LAYER_COMMIT_SIGNATURE', 'not-signed', `${what}: remote ${v.remote} requires signatures and the server has none (${none})`, undefined, undefined);
  }
  const meta = decodeDetached(detached, `${what}: detached metadata`);
  const by: string[] = [];
  if (gpg) {
    const r = await verifyGpgSigs(data, detachedSignatures(meta, GPGSIGS), gpg.keyring, what, `the keys of remote ${v.remote}`);
    by.push(`gpg ${r.fingerprint}`);
  }
  if (ed) {
    const r = verifyEd25519(data, detachedSignatures(meta, ED25519SIGS), ed.keys);
    if (!r.ok) throw refused(what, r.reason);
    by.push(`ed25519 ${r.key}`);
  }
  return by;
}
