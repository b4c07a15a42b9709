/**
 * Package signatures (formats.md §4.3; rpm's lib/rpmvs.cc): which signature-header tag is
 * verified over which bytes.
 * - rpm 6's OPENPGP (278, string array of base64 signature packets): the main header with magic.
 *   When present, the v4 tags are not consulted (rpm does the same).
 * - RSAHEADER (268) / DSAHEADER (267): the main header with its magic (rpm ≥ 4.1).
 * - SIGPGP (1002) / SIGGPG (1005), "legacy" header+payload: only when no header-only signature
 *   exists (v3-era packages); the header with magic followed by the compressed payload.
 * The header's payload digest (checked while the payload streams) then covers the payload.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { LayerError } from '../errors.js';
import type { RpmHeader, RpmPackage } from '../rpm/index.js';
import { readPackets, PacketTag } from './packets.js';
import { DEFAULT_POLICY, type TrustPolicy } from './policy.js';
import { parseSignature, type Signature } from './signature.js';
import { describeSig, SignatureProblem, verifyData, type Keyring, type VerifiedBy } from './keyring.js';
import type { SignatureCategory } from './verify.js';

const TAG_DSA = 267;
const TAG_RSA = 268;
const TAG_OPENPGP = 278;
const TAG_PGP = 1002;
const TAG_GPG = 1005;

/** A refused package or metadata signature: LAYER_RPM_SIGNATURE (or _REPO_ / _COMMIT_SIGNATURE) with a category. */
export class SignatureError extends LayerError {
  constructor(
    code: 'LAYER_RPM_SIGNATURE' | 'LAYER_REPO_SIGNATURE' | 'LAYER_COMMIT_SIGNATURE',
    readonly category: SignatureCategory,
    message: string,
    readonly keyId: string | undefined,
    readonly fingerprint: string | undefined,
    opts: { hint?: string; cause?: unknown } = {},
  ) {
    super(code, message, opts);
  }
}

export interface RpmSignatureVerdict extends VerifiedBy {
  /** "Header V4 RSA/SHA256 signature" / "Legacy V3 …" as rpm -Kv words it. */
  what: string;
}

interface Found {
  sig: Signature | undefined;
  /** Why the blob could not be parsed (rpm: "BAD (package tag 268: invalid OpenPGP signature: …)"). */
  broken?: string;
  tag: number;
  range: 'header' | 'legacy';
}

function parseBlob(blob: Uint8Array, tag: number, range: Found['range'], what: string): Found {
  try {
    const pk = readPackets(blob, what, { code: 'LAYER_RPM_SIGNATURE', limit: 4 });
    const first = pk[0];
    if (!first || first.tag !== PacketTag.Signature) return { sig: undefined, broken: 'not a signature packet', tag, range };
    return { sig: parseSignature(first.body, (w) => new LayerError('LAYER_RPM_SIGNATURE', w)), tag, range };
  } catch (e) {
    if (!(e instanceof LayerError)) throw e;
    return { sig: undefined, broken: e.message, tag, range };
  }
}

/** The signatures rpm would verify for this package, in the order it prefers them. */
export function packageSignatures(sigHeader: RpmHeader, what: string): Found[] {
  const out: Found[] = [];
  if (sigHeader.has(TAG_OPENPGP)) {
    for (const s of sigHeader.strings(TAG_OPENPGP)) out.push(parseBlob(new Uint8Array(Buffer.from(s, 'base64')), TAG_OPENPGP, 'header', what));
    return out;
  }
  for (const tag of [TAG_RSA, TAG_DSA]) {
    const b = sigHeader.bin(tag);
    if (b) out.push(parseBlob(b, tag, 'header', what));
  }
  if (out.length > 0) return out;
  for (const tag of [TAG_PGP, TAG_GPG]) {
    const b = sigHeader.bin(tag);
    if (b) out.push(parseBlob(b, tag, 'legacy', what));
  }
  return out;
}

/**
 * Verifies `pkg`'s signature against `keyring`: the key that made it, or a SignatureError
 * (LAYER_RPM_SIGNATURE) naming the package, the key id and the reason, with its category. With
 * several signatures (rpm 6 multisig, RSA+DSA) one good signature suffices and none may be BAD.
 */
export async function verifyRpmSignature(pkg: RpmPackage, keyring: Keyring, policy: TrustPolicy = DEFAULT_POLICY): Promise<RpmSignatureVerdict> {
  const file = basename(pkg.path);
  const found = packageSignatures(pkg.signatureHeader, file);
  if (found.length === 0) {
    throw new SignatureError('LAYER_RPM_SIGNATURE', 'not-signed', `Package ${file} is not signed`, undefined, undefined, {
      hint: 'the repo has gpgcheck=1: use a signed package, or set gpgcheck=0 for that repo if it is trusted by other means',
    });
  }
  const header = pkg.header.withMagic();
  let good: RpmSignatureVerdict | undefined;
  const problems: { f: Found; p: SignatureProblem }[] = [];
  for (const f of found) {
    const label = `${f.range === 'header' ? 'Header' : 'Legacy'} ${f.sig ? describeSig(f.sig) : 'OpenPGP'} signature`;
    if (!f.sig) {
      problems.push({ f, p: new SignatureProblem('bad-signature', `invalid OpenPGP signature in tag ${f.tag}: ${f.broken}`, undefined, undefined) });
      continue;
    }
    const data = f.range === 'header' ? () => [header] : () => withPayload(header, pkg);
    const r = await verifyData(f.sig, keyring, data, policy);
    if (r instanceof SignatureProblem) problems.push({ f, p: r });
    else good ??= { ...r, what: label };
  }
  const bad = problems.find((x) => x.p.category === 'bad-signature');
  if (good && !bad) return good;
  // The most telling problem: BAD first, then policy and trust, then a missing key.
  const order: SignatureCategory[] = ['bad-signature', 'weak-algorithm', 'key-not-trusted', 'key-missing'];
  problems.sort((a, b) => order.indexOf(a.p.category) - order.indexOf(b.p.category));
  const { f, p } = problems[0]!;
  const label = `${f.range === 'header' ? 'Header' : 'Legacy'} ${f.sig ? describeSig(f.sig) : 'OpenPGP'} signature`;
  const keyName = p.fingerprint ? `key fingerprint ${p.fingerprint}` : `key ID ${p.keyId ?? f.sig?.issuerFpr ?? 'unknown'}`;
  const sigWhat = `${label}, ${keyName}`;
  switch (p.category) {
    case 'key-missing':
      throw new SignatureError('LAYER_RPM_SIGNATURE', 'key-missing', `Public key for ${file} is not installed (${label}, key ID ${p.keyId ?? 'unknown'}: NOKEY)`, p.keyId, p.fingerprint, {
        hint: 'import the signing key (the repo\'s gpgkey=, or rpmkeys --import in the base)',
      });
    case 'key-not-trusted':
      throw new SignatureError('LAYER_RPM_SIGNATURE', 'key-not-trusted', `Public key for ${file} is not trusted (${sigWhat}: NOTTRUSTED: ${p.reason})`, p.keyId, p.fingerprint);
    case 'weak-algorithm':
      throw new SignatureError('LAYER_RPM_SIGNATURE', 'weak-algorithm', `Package ${file}: ${sigWhat}: refused: ${p.reason}`, p.keyId, p.fingerprint);
    default:
      throw new SignatureError('LAYER_RPM_SIGNATURE', 'bad-signature', `Package ${file} has a BAD signature (${sigWhat}: ${p.reason})`, p.keyId, p.fingerprint, {
        hint: 'the package was altered after signing (or the mirror serves a forged one); do not install it',
      });
  }
}

async function* withPayload(header: Uint8Array, pkg: RpmPackage): AsyncGenerator<Uint8Array> {
  yield header;
  for await (const b of createReadStream(pkg.path, { start: pkg.payload.offset, highWaterMark: 1 << 20 })) yield b as Buffer;
}
