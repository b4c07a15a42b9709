/**
 * An installed header as a solver record (the solver's "installed" repo). Dependency strings are
 * rpm's own formatting (src/rpm deps.ts); files are the full installed list, since the rpmdb
 * always carries it.
 */
import { DEP_KINDS, formatDep, isPreRequire, readDeps } from '../rpm/deps.js';
import type { RpmHeader } from '../rpm/header.js';
import type { Nevra, PackageRecord } from '../solver/types.js';

function filePaths(h: RpmHeader): string[] {
  const bases = h.strings(1117);
  const dirs = h.strings(1118);
  const idx = h.numbers(1116);
  return bases.map((b, i) => `${dirs[idx[i] ?? 0] ?? ''}${b}`);
}

/** The PackageRecord for an installed header; `what` names it in errors. */
export function headerRecord(h: RpmHeader, what: Nevra | string): PackageRecord {
  const deps = Object.fromEntries(DEP_KINDS.map((k) => [k, readDeps(h, k, String(what))])) as Record<
    (typeof DEP_KINDS)[number],
    ReturnType<typeof readDeps>
  >;
  // rpmlib() requirements are satisfied by rpm itself, never by a package (libsolv drops them too).
  const reqs = deps.requires.filter((d) => !d.name.startsWith('rpmlib('));
  const rec: PackageRecord = {
    name: h.string(1000) ?? '',
    epoch: h.number(1003) ?? 0,
    version: h.string(1001) ?? '',
    release: h.string(1002) ?? '',
    // Like src/rpm's toRecord: a header without ARCH (gpg-pubkey) is treated as noarch.
    arch: h.string(1022) ?? 'noarch',
    provides: deps.provides.map(formatDep),
    requires: reqs.filter((d) => !isPreRequire(d.flags)).map(formatDep),
    prerequires: reqs.filter((d) => isPreRequire(d.flags)).map(formatDep),
    conflicts: deps.conflicts.map(formatDep),
    obsoletes: deps.obsoletes.map(formatDep),
    recommends: deps.recommends.map(formatDep),
    suggests: deps.suggests.map(formatDep),
    supplements: deps.supplements.map(formatDep),
    enhances: deps.enhances.map(formatDep),
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
