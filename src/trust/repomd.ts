/**
 * repo_gpgcheck (librepo's check, as dnf does it): `repomd.xml.asc` from the same mirror must be
 * a valid signature over the exact repomd.xml bytes by one of the repo's `gpgkey=` keys, before
 * anything that repomd.xml lists is trusted. Missing, unreadable or bad → LAYER_REPO_SIGNATURE,
 * and the repo fails (skip_if_unavailable then applies, as for an unreachable repo).
 */
import { LayerError } from '../errors.js';
import { verifyDetached } from './detached.js';
import { Keyring } from './keyring.js';
import { DEFAULT_POLICY, type TrustPolicy } from './policy.js';
import { SignatureError } from './rpmsig.js';
import { keysFromUrls, type FetchBytes } from './sources.js';

/** One keyring per repo config (its keys are fetched once per process, not once per mirror). */
const rings = new WeakMap<object, Promise<Keyring>>();

/** Throws LAYER_REPO_SIGNATURE unless `${repomdUrl}.asc` verifies `repomd` with the repo's keys. */
export async function verifyRepomdSignature(
  cfg: { id: string; gpgkeys: readonly string[] },
  repomdUrl: string,
  repomd: Uint8Array,
  fetch: FetchBytes,
  policy: TrustPolicy = DEFAULT_POLICY,
): Promise<void> {
  const what = `repo ${cfg.id}: ${repomdUrl}.asc`;
  if (cfg.gpgkeys.length === 0) {
    throw new SignatureError('LAYER_REPO_SIGNATURE', 'key-missing', `repo ${cfg.id}: repo_gpgcheck=1 but the repo has no gpgkey= to verify repomd.xml with`, undefined, undefined);
  }
  let ring = rings.get(cfg);
  if (!ring) {
    ring = keysFromUrls(cfg.gpgkeys, fetch, cfg).then((files) => {
      const k = new Keyring();
      for (const f of files) for (const c of f.certs) k.add(c);
      return k;
    });
    rings.set(cfg, ring);
    // Awaited below, after the .asc fetch: until then a failure must not count as unhandled.
    ring.catch(() => {});
  }
  let asc: Uint8Array;
  try {
    asc = await fetch(`${repomdUrl}.asc`);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SignatureError('LAYER_REPO_SIGNATURE', 'not-signed', `${what}: repo_gpgcheck=1 but the signature cannot be fetched: ${why}`, undefined, undefined, { cause: e });
  }
  let keys: Keyring;
  try {
    keys = await ring;
  } catch (e) {
    rings.delete(cfg);
    if (e instanceof LayerError) throw new LayerError(e.code, `repo ${cfg.id}: ${e.message}`, { hint: 'repo_gpgcheck=1 needs the keys of gpgkey=; fix the URL or the file', cause: e });
    throw e;
  }
  await verifyDetached(repomd, asc, keys, what, policy);
}
