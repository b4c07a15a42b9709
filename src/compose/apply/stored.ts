/**
 * Packages imported before, taken from the store without their files (part of step download).
 *
 * An import records the checksum of the file it came from, when the repo metadata gave one and
 * the file was checked against it, and the package's signature header (import/import-rpm.ts).
 * When the metadata now names a package by that same checksum, the file is the one imported:
 * it is not downloaded, hashed, opened or unpacked again. Its headers come from the import's
 * commit and are checked as a file's are (structure, header digests); step verify runs the
 * signature policy on them, so a key no longer trusted refuses it as it would refuse the file.
 * What dnf does for installed packages, and rpm-ostree for its package cache; an upgrade that
 * recomposes a base of 35 packages, 3 of them new, reads 3 files instead of 35.
 *
 * Left to the file: local packages (named by the user, not by metadata), imports of an older
 * layout, and packages whose only signature covers header and payload (v3-era), which the
 * policy can only check with the payload.
 */
import { parseNevra } from '../../nevra.js';
import { IMPORT_VERSION, packageRef, PKG_KEYS } from '../../import/index.js';
import { packageFromHeaders, SIG, type RpmPackage } from '../../rpm/index.js';
import { commitMetadata, type Checksum } from '../../store/index.js';
import type { PlanStep } from '../types.js';
import type { ApplyState } from './state.js';

/** What the repo metadata says of a package file (a download record). */
interface FileRecord {
  checksum?: string | undefined;
  downloadSize?: number | undefined;
  location?: string | undefined;
}

/** Take `step` from the store when its import matches `record` (see above); true if taken. */
export function takeStored(s: ApplyState, step: PlanStep, record: FileRecord | undefined): boolean {
  if (!record?.checksum) return false;
  const p = parseNevra(step.nevra);
  if (!p) return false;
  const store = s.ctx.store;
  const commit = store.readRef(packageRef(p));
  if (!commit) return false;
  const c = store.readCommit(commit);
  const value = (key: string): unknown => commitMetadata(c, key)?.value;
  if (value(PKG_KEYS.version) !== IMPORT_VERSION || value(PKG_KEYS.fileChecksum) !== record.checksum) return false;
  const sigHeader = value(PKG_KEYS.signatureHeader);
  const header = value(PKG_KEYS.header);
  if (!(sigHeader instanceof Uint8Array) || !(header instanceof Uint8Array)) return false;
  // Named by its location in the repo, as the file would be (messages, the signature policy's).
  const rpm = packageFromHeaders({ signatureHeader: sigHeader, header, fileSize: record.downloadSize ?? 0 }, record.location ?? `${step.nevra}.rpm`);
  if (rpm.nevra !== step.nevra || needsPayloadToVerify(rpm)) return false;
  s.rpms.set(step.nevra, rpm);
  s.commits.set(step.nevra, commit as Checksum);
  return true;
}

/** Only a header+payload signature (SIGPGP/SIGGPG), no header-only one: trust/rpmsig.ts reads the payload. */
function needsPayloadToVerify(rpm: RpmPackage): boolean {
  const tags = rpm.signature.signatures.map((x) => x.tag);
  const headerOnly = tags.includes('rsa') || tags.includes('dsa') || rpm.signatureHeader.has(SIG.OPENPGP);
  return !headerOnly && (tags.includes('pgp') || tags.includes('gpg'));
}
