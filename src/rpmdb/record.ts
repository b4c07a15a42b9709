/**
 * An installed header as a solver record (the solver's "installed" repo), shaped exactly like
 * src/rpm's `toRecord()` for a package file: dependency strings in rpm's own formatting
 * (`formatDep`), pre-requires split out, `rpmlib()` requirements dropped. Files are the full
 * installed list, since the rpmdb always carries it.
 */
import { formatDep, isPreRequire, type RpmDep, type RpmHeader } from '../rpm/index.js';
import type { PackageRecord } from '../solver/types.js';

/** NAME/FLAGS/VERSION tag triples (formats.md §4.4). */
const DEP_TAGS = {
  provides: [1047, 1112, 1113],
  requires: [1049, 1048, 1050],
  conflicts: [1054, 1053, 1055],
  obsoletes: [1090, 1114, 1115],
  recommends: [5046, 5048, 5047],
  suggests: [5049, 5051, 5050],
  supplements: [5052, 5054, 5053],
  enhances: [5055, 5057, 5056],
} as const;

function deps(h: RpmHeader, kind: keyof typeof DEP_TAGS): RpmDep[] {
  const [nt, ft, vt] = DEP_TAGS[kind];
  const flags = h.numbers(ft);
  const versions = h.strings(vt);
  return h.strings(nt).map((name, i) => ({ name, flags: flags[i] ?? 0, version: versions[i] ?? '' }));
}

function filePaths(h: RpmHeader): string[] {
  const bases = h.strings(1117);
  const dirs = h.strings(1118);
  const idx = h.numbers(1116);
  return bases.map((b, i) => `${dirs[idx[i] ?? 0] ?? ''}${b}`);
}

/** The PackageRecord for an installed header. */
export function headerRecord(h: RpmHeader): PackageRecord {
  const strs = (k: keyof typeof DEP_TAGS): string[] => deps(h, k).map(formatDep);
  // rpmlib() requirements are satisfied by rpm itself, never by a package (libsolv drops them too).
  const reqs = deps(h, 'requires').filter((d) => !d.name.startsWith('rpmlib('));
  const rec: PackageRecord = {
    name: h.string(1000) ?? '',
    epoch: h.number(1003) ?? 0,
    version: h.string(1001) ?? '',
    release: h.string(1002) ?? '',
    // Like src/rpm's toRecord: a header without ARCH (gpg-pubkey) is treated as noarch.
    arch: h.string(1022) ?? 'noarch',
    provides: strs('provides'),
    requires: reqs.filter((d) => !isPreRequire(d.flags)).map(formatDep),
    prerequires: reqs.filter((d) => isPreRequire(d.flags)).map(formatDep),
    conflicts: strs('conflicts'),
    obsoletes: strs('obsoletes'),
    recommends: strs('recommends'),
    suggests: strs('suggests'),
    supplements: strs('supplements'),
    enhances: strs('enhances'),
    files: filePaths(h),
  };
  const summary = h.string(1004);
  if (summary !== undefined) rec.summary = summary;
  const size = h.has(5009) ? h.number(5009) : h.number(1009);
  if (size !== undefined) rec.installSize = size;
  const buildTime = h.number(1006);
  if (buildTime !== undefined) rec.buildTime = buildTime;
  const srpm = h.string(1044);
  if (srpm !== undefined && srpm !== '(none)') rec.sourceRpm = srpm;
  return rec;
}
