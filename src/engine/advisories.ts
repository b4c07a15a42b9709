/**
 * Security advisories of an update (`upgrade --check`, `--preview`, `db diff --advisories`):
 * the repos' updateinfo.xml (repos/updateinfo.ts), matched against the current tree (an
 * advisory applies) and the new one (the update fixes it). Metadata only: updateinfo is
 * fetched like primary, no package is.
 */
import { parseNevra, type Nevra } from '../nevra.js';
import type { Report } from '../report.js';
import type { RepoSet } from '../repos/index.js';
import { applicable, parseUpdateinfo, type Advisory, type InstalledLike } from '../repos/updateinfo.js';
import type { ListedPackage } from './db.js';
import { hostArch, openRepos } from './repos.js';

export type { Advisory } from '../repos/updateinfo.js';

export function installedLike(l: readonly (ListedPackage | Nevra)[]): InstalledLike[] {
  return l.flatMap((x) => {
    const p = parseNevra(typeof x === 'string' ? x : x.nevra);
    return p ? [{ name: p.name, arch: p.arch, evr: `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}` }] : [];
  });
}

/** Every advisory the refreshed repos publish (their updateinfo.xml; none when a repo has none). */
export async function repoAdvisories(repos: RepoSet): Promise<Advisory[]> {
  const all: Advisory[] = [];
  for (const repo of repos.active) {
    const xml = await repo.xmlBytes('updateinfo');
    if (xml) all.push(...parseUpdateinfo(xml, `repo ${repo.id}: updateinfo.xml`));
  }
  return all;
}

/** The security advisories that apply to `before` and that `after` fixes, from the repos' updateinfo. */
export async function securityAdvisories(opts: {
  reposdir?: string; tree: string; cacheDir: string; arch?: string; cacheOnly?: boolean; report: Report;
  before: readonly (ListedPackage | Nevra)[]; after: readonly (ListedPackage | Nevra)[];
}): Promise<Advisory[]> {
  const repos = await openRepos({
    ...(opts.reposdir ? { reposdir: opts.reposdir } : {}),
    tree: opts.tree, arch: opts.arch ?? hostArch(), cacheDir: opts.cacheDir, report: opts.report,
  });
  try {
    await repos.refresh(opts.cacheOnly ? { cacheOnly: true } : {});
    const security = (await repoAdvisories(repos)).filter((a) => a.type === 'security');
    return applicable(security, installedLike(opts.before), installedLike(opts.after)).sort((a, b) => a.id.localeCompare(b.id));
  } finally {
    await repos.close();
  }
}
