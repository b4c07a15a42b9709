/**
 * Globs in the version parts of a package spec (`flac-*.3-2.fc29.x86_64`, `kernel-2.*`), as
 * dnf accepts them. libsolv's selection globs names only, so such a spec is matched here
 * against every spelling of every repo package (name-version, N-V-R, N-V-R.A, epoch forms:
 * the same forms the repo filters use) and becomes one install job per matching name, for its
 * newest matching version — dnf picks the best of the matches the same way. The older matches
 * come along, newest first: without `best`, dnf falls back to an older match when the newest
 * cannot be installed (solve-fallback.ts does that). A spec whose glob matches a name
 * (`many-dep0*`, `kern*.noarch`) is left to libsolv as before.
 */
import { compareEvr } from '../nevra.js';
import { globToRegExp, specForms } from '../repos/filter.js';
import type { Job, PackageRef, Pool } from '../solver/index.js';

const GLOB = /[*?[]/;

/** One install job per matching name (its newest match) and the older matches' jobs, newest first. */
export interface GlobMatch {
  job: Job;
  older: Job[];
}

/** Install jobs for a version-part glob spec; undefined when the spec is not one (or matches nothing). */
export function versionGlobJobs(pool: Pool, spec: string, cache: Map<string, PackageRef[]>): GlobMatch[] | undefined {
  if (!GLOB.test(spec) || spec.startsWith('/')) return undefined;
  const re = globToRegExp(spec);
  const matched: PackageRef[] = [];
  for (const p of repoPackages(pool, cache)) {
    const forms = specForms(p);
    // name or name.arch: a name glob, which libsolv's own selection handles.
    if (re.test(forms[0] ?? '') || re.test(forms[1] ?? '')) return undefined;
    if (forms.some((f) => re.test(f))) matched.push(p);
  }
  if (matched.length === 0) return undefined;
  const native = matched.filter((p) => p.arch === pool.arch || p.arch === 'noarch');
  const byName = new Map<string, PackageRef[]>();
  for (const p of native.length ? native : matched) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const install = (p: PackageRef): Job => ({ action: 'install', select: { by: 'package', repo: p.repo, nevra: p.nevra } });
  return [...byName.values()].map((ps) => {
    // Newest first; the same EVR in several repos stays in the order the pool has them.
    const [newest, ...older] = [...ps].sort((a, b) => compareEvr(b, a));
    return { job: install(newest as PackageRef), older: older.map(install) };
  });
}

function repoPackages(pool: Pool, cache: Map<string, PackageRef[]>): PackageRef[] {
  const out: PackageRef[] = [];
  for (const r of pool.repos) {
    if (r.name === '@System') continue;
    let pkgs = cache.get(r.name);
    if (!pkgs) cache.set(r.name, (pkgs = r.packages()));
    out.push(...pkgs);
  }
  return out;
}
