/** Which repos a transaction uses: `--reposdir`, else the current deployment's /etc/yum.repos.d. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import { RepoSet, baseArch, readRepoConfigs, type DnfMainConfig, type RepoConfig } from '../repos/index.js';

export function hostArch(): string {
  return baseArch(process.arch === 'x64' ? 'x86_64' : process.arch);
}

/** VERSION_ID from a tree's os-release, for $releasever. */
function releasever(tree: string | undefined): string | undefined {
  if (!tree) return undefined;
  for (const p of ['etc/os-release', 'usr/lib/os-release']) {
    const f = join(tree, p);
    if (!existsSync(f)) continue;
    const m = /^VERSION_ID="?([^"\n]*)"?$/m.exec(readFileSync(f, 'utf8'));
    if (m) return m[1];
  }
  return undefined;
}

/** `includes`: per repo id, includepkgs patterns replacing the configured ones (a lockfile's pins, engine/lockfile.ts). */
export async function openRepos(opts: {
  reposdir?: string; tree?: string; arch: string; cacheDir: string; report: Report; includes?: (repoId: string) => string[];
  /** dnf.conf's [main]: its global excludes/includes apply to every repo. */
  main?: DnfMainConfig;
}): Promise<RepoSet> {
  const dir = opts.reposdir ?? (opts.tree ? join(opts.tree, 'etc/yum.repos.d') : undefined);
  if (!dir) throw new LayerError('LAYER_USAGE', 'no repositories: pass --reposdir DIR');
  if (!existsSync(dir)) throw new LayerError('LAYER_REPO_CONFIG', `repo directory ${dir} does not exist`, { hint: 'pass --reposdir DIR' });
  const rv = releasever(opts.tree);
  const configs = await readRepoConfigs(dir, {
    arch: opts.arch,
    ...(rv ? { releasever: rv } : {}),
    ...(opts.tree ? { varsDir: join(opts.tree, 'etc/dnf/vars') } : {}),
  });
  const include = opts.includes;
  const main = opts.main;
  const global = main ? configs.map((c) => withGlobalFilters(c, main)) : configs;
  const pinned = include ? global.map((c) => ({ ...c, includepkgs: include(c.id) })) : global;
  return new RepoSet(pinned, { cacheDir: join(opts.cacheDir, 'repos'), report: opts.report });
}

/**
 * [main] excludes add to every repo's own (dnf applies both); [main] includepkgs apply to repos
 * without includepkgs of their own (a repo's own list is the narrower view it asked for).
 */
function withGlobalFilters(c: RepoConfig, main: DnfMainConfig): RepoConfig {
  if (main.excludepkgs.length + main.includepkgs.length === 0) return c;
  const includes = c.includepkgs.length > 0 ? c.includepkgs : main.includepkgs;
  const globalPatterns = [...main.excludepkgs, ...main.includepkgs];
  return { ...c, excludepkgs: [...c.excludepkgs, ...main.excludepkgs], includepkgs: includes, globalPatterns };
}
