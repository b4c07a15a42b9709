/**
 * Dependency triples (NAME/FLAGS/VERSION arrays, formats.md §4.4) and their string form as rpm
 * prints them (`foo >= 1.2-3`; rich deps such as `(a if b)` carry no flags and stay verbatim).
 */
import { LayerError } from '../errors.js';
import type { RpmHeader } from './header.js';
import { SENSE, TAG } from './tags.js';

export interface RpmDep {
  name: string;
  /** RPMSENSE_* bits (comparison, pre-requires, rpmlib, ...). */
  flags: number;
  /** EVR as written (`1:2.0-3`), '' when unversioned. */
  version: string;
}

export type DepKind = 'provides' | 'requires' | 'conflicts' | 'obsoletes' | 'recommends' | 'suggests' | 'supplements' | 'enhances';

const DEP_TAGS: Record<DepKind, [name: number, flags: number, version: number]> = {
  provides: [TAG.PROVIDENAME, TAG.PROVIDEFLAGS, TAG.PROVIDEVERSION],
  requires: [TAG.REQUIRENAME, TAG.REQUIREFLAGS, TAG.REQUIREVERSION],
  conflicts: [TAG.CONFLICTNAME, TAG.CONFLICTFLAGS, TAG.CONFLICTVERSION],
  obsoletes: [TAG.OBSOLETENAME, TAG.OBSOLETEFLAGS, TAG.OBSOLETEVERSION],
  recommends: [TAG.RECOMMENDNAME, TAG.RECOMMENDFLAGS, TAG.RECOMMENDVERSION],
  suggests: [TAG.SUGGESTNAME, TAG.SUGGESTFLAGS, TAG.SUGGESTVERSION],
  supplements: [TAG.SUPPLEMENTNAME, TAG.SUPPLEMENTFLAGS, TAG.SUPPLEMENTVERSION],
  enhances: [TAG.ENHANCENAME, TAG.ENHANCEFLAGS, TAG.ENHANCEVERSION],
};

export const DEP_KINDS = Object.keys(DEP_TAGS) as DepKind[];

/** Reads one dependency kind; arrays of unequal length are a format error naming `what`. */
export function readDeps(h: RpmHeader, kind: DepKind, what: string): RpmDep[] {
  const [nt, ft, vt] = DEP_TAGS[kind];
  const names = h.strings(nt);
  const flags = h.numbers(ft);
  const versions = h.strings(vt);
  if ((h.has(ft) && flags.length !== names.length) || (h.has(vt) && versions.length !== names.length)) {
    throw new LayerError('LAYER_RPM_FORMAT', `${what}: ${kind} arrays differ in length (${names.length}/${flags.length}/${versions.length})`);
  }
  return names.map((name, i) => ({ name, flags: flags[i] ?? 0, version: versions[i] ?? '' }));
}

/** The comparison operator rpm prints for the sense bits, '' when none. */
export function senseOperator(flags: number): string {
  let op = '';
  if (flags & SENSE.LESS) op += '<';
  if (flags & SENSE.GREATER) op += '>';
  if (flags & SENSE.EQUAL) op += '=';
  return op;
}

/** `name op version` as `rpm -q --requires` prints it (rpmdsNewDNEVR without the type prefix). */
export function formatDep(d: RpmDep): string {
  const op = senseOperator(d.flags);
  if (!op || !d.version) return d.name;
  return `${d.name} ${op} ${d.version}`;
}

/**
 * Whether a requirement must be satisfied before install scripts run. Follows libsolv's
 * repo_rpmdb (PREREQ | SCRIPT_PRE | SCRIPT_POST), which is also what decides its prereq marker.
 */
export function isPreRequire(flags: number): boolean {
  return (flags & (SENSE.PREREQ | SENSE.SCRIPT_PRE | SENSE.SCRIPT_POST)) !== 0;
}
