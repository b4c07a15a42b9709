/**
 * `override replace --from repo=NAME PKG` in a plan: each replacement becomes an install job of
 * the newest PKG repo NAME has (an upgrade or a downgrade of the base package, which is then not
 * locked; its new dependencies come along as with any install). A replacement the base already
 * satisfies (the base has that very version, e.g. after a base upgrade) is inactive: reported,
 * not an error, and it unlocks nothing.
 */
import { LayerError } from '../errors.js';
import { compareEvr } from '../nevra.js';
import type { Report } from '../report.js';
import type { RepoReplacement } from '../request/index.js';
import type { PackageRef, Pool } from '../solver/index.js';
import type { BaseSet } from './base.js';
import type { Wanted } from './solve.js';

export interface RepoReplacementJobs {
  wanted: Wanted[];
  /** Base package names the replacements unlock. */
  names: string[];
  /** Replacements the base already satisfies: `REPO:NAME` → the base's NEVRA. */
  inactive: { replacement: RepoReplacement; nevra: string }[];
}

/** The jobs for `replacements`; LAYER_REPO_CONFIG for a repo not enabled, LAYER_NO_MATCH for a package it lacks. */
export function repoReplacementJobs(
  pool: Pool, base: BaseSet, replacements: readonly RepoReplacement[], report: Report,
): RepoReplacementJobs {
  const out: RepoReplacementJobs = { wanted: [], names: [], inactive: [] };
  for (const r of replacements) {
    const pick = newestIn(pool, r);
    const inBase = base.packages.find((p) => p.name === r.name);
    if (inBase?.nevra === pick.nevra) {
      out.inactive.push({ replacement: r, nevra: pick.nevra });
      report.warn('override.inactive', `override replace ${r.name} from repo ${r.repo} is inactive: the base already has ${pick.nevra}`, { repo: r.repo, name: r.name, nevra: pick.nevra });
      continue;
    }
    out.names.push(r.name);
    out.wanted.push({ label: `${r.name} (repo=${r.repo})`, job: { action: 'install', select: { by: 'package', repo: r.repo, nevra: pick.nevra } } });
  }
  return out;
}

/** The newest binary package named `r.name` in repo `r.repo` (source packages are never taken). */
function newestIn(pool: Pool, r: RepoReplacement): PackageRef {
  const repo = pool.repos.find((x) => x.name === r.repo);
  if (!repo || repo.name === '@System') {
    const known = pool.repos.map((x) => x.name).filter((n) => n !== '@System' && !n.startsWith('@'));
    throw new LayerError('LAYER_REPO_CONFIG', `Unknown repo: '${r.repo}' (override replace ${r.name})`, {
      hint: known.length ? `enabled repos: ${known.join(', ')}` : 'no repo is enabled',
    });
  }
  let best: PackageRef | undefined;
  for (const p of repo.packages()) {
    if (p.name !== r.name || p.arch === 'src' || p.arch === 'nosrc') continue;
    if (!best || compareEvr(p, best) > 0) best = p;
  }
  if (!best) {
    throw new LayerError('LAYER_NO_MATCH', `Package "${r.name}" not found in repo '${r.repo}'`, {
      hint: `reset it with layer override reset ${r.name}, or name a repo that has it`,
    });
  }
  return best;
}
