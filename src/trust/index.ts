/**
 * trust/: OpenPGP signatures of packages and repo metadata, verified with node:crypto and our
 * own packet parser (RFC 4880 / RFC 9580), under Fedora's rpm-sequoia policy.
 *
 * - `parseArmoredKeys(data, from)` / `new Keyring().addKeys(data, from)`: keys from armored or
 *   binary text; `Keyring.get(fingerprint)` by full fingerprint only.
 * - `keysFromUrls(urls, fetch)` (a repo's gpgkey=), `keysFromRpmdb(rpmdb.packages())` (gpg-pubkey).
 * - `verifyRpmSignature(pkg, keyring, policy?)`: the key that signed an opened RpmPackage, or a
 *   SignatureError (LAYER_RPM_SIGNATURE, `category`).
 * - `checkPackageSignatures(items, opts)`: dnf's whole gpgcheck decision for a transaction,
 *   importing the repos' keys as needed; `formatKeyImport(key)` is dnf's text for one import.
 * - `verifyDetached(data, asc, keyring, what)` / `verifyRepomdSignature(cfg, url, bytes, fetch)`:
 *   repo_gpgcheck's repomd.xml.asc (Repo.refresh calls the latter).
 * - `createPackageVerifier(repoConfigs, { baseKeys, localGpgcheck })`: compose's ApplyContext.verify.
 * - rpmdb/pubkey.ts `pubkeyEntry(cert, { installTime })` records an imported key as rpm does.
 */
export { decodeArmor, encodeArmor, crc24, type ArmorBlock } from './armor.js';
export { readPackets, framePacket, PacketTag, type Packet } from './packets.js';
export { parseSignature, type Signature } from './signature.js';
export { parsePublicKey, parseCerts, primaryUserId, type Cert, type PublicKey } from './key.js';
export { Keyring, parseArmoredKeys, certPackets, verifyData, describeSig, SignatureProblem, type VerifiedBy } from './keyring.js';
export { DEFAULT_POLICY, LEGACY_POLICY, type TrustPolicy } from './policy.js';
export { keyProblem, type SignatureCategory } from './verify.js';
export { verifyRpmSignature, packageSignatures, SignatureError, type RpmSignatureVerdict } from './rpmsig.js';
export { checkPackageSignatures, formatKeyImport, importedKey, type ImportedKey, type SignatureCheckItem, type SignatureCheckOptions, type SignatureCheckResult, type SignedRepo } from './check.js';
export { keysFromUrls, keysFromRpmdb, fetchKeyFile, type FetchBytes } from './sources.js';
export { verifyDetached, type DetachedContext } from './detached.js';
export { ed25519PublicKeys, ed25519SecretKey, gpgDetachSign, signEd25519, verifyEd25519, verifyGpgSigs, type Ed25519Secret } from './ostree-sign.js';
export { verifyRepomdSignature } from './repomd.js';
export { createPackageVerifier, type PackageVerifierHandle, type VerifierRepo } from './verifier.js';
