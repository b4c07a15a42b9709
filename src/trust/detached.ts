/**
 * Detached signatures over a file (repo_gpgcheck: `repomd.xml.asc` over `repomd.xml`, as
 * librepo checks it): armored or binary, one or more signature packets; one that verifies with
 * a trusted key is enough, as with gpgme.
 */
import { LayerError } from '../errors.js';
import { decodeArmor, isArmored } from './armor.js';
import { SignatureProblem, verifyData, type Keyring, type VerifiedBy } from './keyring.js';
import { PacketTag, readPackets } from './packets.js';
import { DEFAULT_POLICY, type TrustPolicy } from './policy.js';
import { SignatureError } from './rpmsig.js';
import { parseSignature } from './signature.js';

/** How a caller names its failures: the error code and where the trusted keys come from. */
export interface DetachedContext {
  code: 'LAYER_REPO_SIGNATURE' | 'LAYER_COMMIT_SIGNATURE';
  keys: string;
}

const REPOMD: DetachedContext = { code: 'LAYER_REPO_SIGNATURE', keys: "the repo's gpgkey= keys" };

/** Verifies `signature` (the .asc bytes) over `data`; throws LAYER_REPO_SIGNATURE (or `ctx.code`) naming `what`. */
export async function verifyDetached(
  data: Uint8Array, signature: Uint8Array, keyring: Keyring, what: string, policy: TrustPolicy = DEFAULT_POLICY, ctx: DetachedContext = REPOMD,
): Promise<VerifiedBy> {
  const fail = (category: SignatureError['category'], msg: string, keyId?: string, fpr?: string): SignatureError =>
    new SignatureError(ctx.code, category, `${what}: ${msg}`, keyId, fpr);
  let packets;
  try {
    const bytes = isArmored(signature)
      ? Buffer.concat(decodeArmor(Buffer.from(signature).toString('latin1'), what).filter((b) => b.kind === 'SIGNATURE').map((b) => b.data))
      : signature;
    packets = readPackets(bytes, what, { code: 'LAYER_RPM_SIGNATURE', limit: 64 }).filter((p) => p.tag === PacketTag.Signature);
  } catch (e) {
    if (e instanceof LayerError) throw fail('bad-signature', `unreadable signature: ${e.message}`);
    throw e;
  }
  if (packets.length === 0) throw fail('not-signed', 'no OpenPGP signature in it');
  const order: SignatureError['category'][] = ['key-not-trusted', 'weak-algorithm', 'bad-signature', 'key-missing'];
  let worst: SignatureProblem | undefined;
  for (const p of packets) {
    let sig;
    try {
      sig = parseSignature(p.body, (w) => new LayerError(ctx.code, w));
    } catch (e) {
      if (!(e instanceof LayerError)) throw e;
      worst ??= new SignatureProblem('bad-signature', e.message, undefined, undefined);
      continue;
    }
    const r = await verifyData(sig, keyring, () => [data], policy);
    if (!(r instanceof SignatureProblem)) return r;
    if (!worst || order.indexOf(r.category) < order.indexOf(worst.category)) worst = r;
  }
  const w = worst!;
  const key = w.fingerprint ? `key fingerprint ${w.fingerprint}` : `key ID ${w.keyId ?? 'unknown'}`;
  const msg = w.category === 'key-missing' ? `signed with ${key}, which is not among ${ctx.keys}` : `signature by ${key} refused: ${w.reason}`;
  throw fail(w.category, msg, w.keyId, w.fingerprint);
}
