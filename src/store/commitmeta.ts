/**
 * Detached metadata: a commit's `.commitmeta` object and a repository's `summary.sig`, both a
 * GVariant `a{sv}` kept beside the data they describe so that signing never changes a checksum
 * (formats.md §2.4). OSTree's keys: `ostree.gpgsigs` (`aay`, binary OpenPGP signatures over
 * the commit object's bytes, or the summary's) and `ostree.sign.ed25519` (`aay` of 64-byte
 * ed25519 signatures over the same bytes). A new signature is appended to the ones already
 * there, as `ostree gpg-sign` does; other keys are kept as they are.
 */
import { LayerError } from '../errors.js';
import { Variant, deserialize, serialize, type GValue } from './gvariant/index.js';

export const GPGSIGS = 'ostree.gpgsigs';
export const ED25519SIGS = 'ostree.sign.ed25519';

/** Most bytes of a `.commitmeta` or `summary.sig` a client reads (signatures are small). */
export const MAX_DETACHED = 1 << 20;

export type DetachedMeta = [string, Variant][];

/** Parse an `a{sv}` of detached metadata; `what` names the file in errors. */
export function decodeDetached(bytes: Uint8Array, what: string): DetachedMeta {
  try {
    return (deserialize('a{sv}', bytes) as GValue[][]).map(([k, v]) => [k as string, v as Variant]);
  } catch (err) {
    throw new LayerError('LAYER_STORE_CORRUPT', `${what} is not an a{sv}`, { cause: err });
  }
}

export function encodeDetached(meta: DetachedMeta): Buffer {
  return serialize('a{sv}', meta.map(([k, v]) => [k, v]));
}

/** The `aay` signatures under `key` (none when the key is absent or has another type). */
export function detachedSignatures(meta: DetachedMeta, key: string): Uint8Array[] {
  const v = meta.find(([k]) => k === key)?.[1];
  if (!v || v.type !== 'aay' || !Array.isArray(v.value)) return [];
  return v.value.filter((x): x is Uint8Array => x instanceof Uint8Array);
}

/** `meta` with `sigs` appended to the `aay` under `key` (created when absent). */
export function appendSignatures(meta: DetachedMeta, key: string, sigs: readonly Uint8Array[]): DetachedMeta {
  const all = [...detachedSignatures(meta, key), ...sigs];
  const rest = meta.filter(([k]) => k !== key);
  return [...rest, [key, new Variant('aay', all)]];
}
