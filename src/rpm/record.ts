/**
 * A header as the solver sees it (PackageRecord). One function for package files (src/rpm's
 * `toRecord`) and installed headers (src/rpmdb), so the available and installed repos can
 * never disagree on how a dependency is spelled.
 *
 * Requires are split like libsolv's repo_rpmdb: pre-requires (PREREQ, SCRIPT_PRE, SCRIPT_POST
 * bits) go to `prerequires`; `rpmlib(...)` requirements are dropped (no package provides them;
 * rpm itself satisfies them). Rich deps are kept verbatim.
 */
import type { PackageRecord } from '../solver/types.js';
import { formatDep, isPreRequire, readDeps, type DepKind } from './deps.js';
import { readFilePaths } from './files.js';
import type { RpmHeader } from './header.js';
import { TAG } from './tags.js';

/** `what` names the header in errors (a malformed dependency array is LAYER_RPM_FORMAT). */
export function headerToRecord(h: RpmHeader, what: string): PackageRecord {
  const strs = (k: DepKind): string[] => readDeps(h, k, what).map(formatDep);
  const reqs = readDeps(h, 'requires', what).filter((d) => !d.name.startsWith('rpmlib('));
  const rec: PackageRecord = {
    name: h.string(TAG.NAME) ?? '',
    epoch: h.number(TAG.EPOCH) ?? 0,
    version: h.string(TAG.VERSION) ?? '',
    release: h.string(TAG.RELEASE) ?? '',
    // A header without ARCH (gpg-pubkey in an rpmdb) is treated as noarch, as libsolv does.
    arch: h.string(TAG.ARCH) ?? 'noarch',
    provides: strs('provides'),
    requires: reqs.filter((d) => !isPreRequire(d.flags)).map(formatDep),
    prerequires: reqs.filter((d) => isPreRequire(d.flags)).map(formatDep),
    conflicts: strs('conflicts'),
    obsoletes: strs('obsoletes'),
    recommends: strs('recommends'),
    suggests: strs('suggests'),
    supplements: strs('supplements'),
    enhances: strs('enhances'),
    files: readFilePaths(h, what),
  };
  const summary = h.string(TAG.SUMMARY);
  if (summary !== undefined) rec.summary = summary;
  const size = h.has(TAG.LONGSIZE) ? h.number(TAG.LONGSIZE) : h.number(TAG.SIZE);
  if (size !== undefined) rec.installSize = size;
  const bt = h.number(TAG.BUILDTIME);
  if (bt !== undefined) rec.buildTime = bt;
  const srpm = h.string(TAG.SOURCERPM);
  if (srpm !== undefined && srpm !== '(none)') rec.sourceRpm = srpm;
  return rec;
}
