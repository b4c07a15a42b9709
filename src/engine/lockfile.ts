/**
 * Lockfiles: what a composition used, written by `--lockfile-out FILE`, and pinned again by
 * `--lockfile FILE` (install, uninstall, init, and whatever else goes through runTransaction).
 *
 * Format (JSON, `version` 1; keys in this order, packages sorted by NEVRA):
 *
 *   { "version": 1, "arch": "x86_64", "source-date-epoch": 1764500000,
 *     "base": { "ref": "demo/base", "commit": "<sha256>" | null, "recipe": ["bash", ...], "version": "20261130.1" },
 *     "requested": ["openssl"],
 *     "repos": [{ "id": "base", "repomd-sha256": "...", "revision": "...", "timestamp": 0 }],
 *     "packages": [{ "nevra": "...", "repo": "base", "checksum": "sha256:..." }, ...] }
 *
 * `base.version` (optional) is the version metadata of a recipe base `upgrade --lockfile-out`
 * composed; `deploy --lockfile` gives its base the same, so the commit checksums match.
 *
 * `packages` is every package of the new tree: from a repo (with the checksum its primary.xml
 * gives), `@base` (in the base commit, which pins it) or `@commandline` (a local file, by
 * sha256). `source-date-epoch` is the time every timestamp of the composition is taken from
 * (commit timestamp, rpmdb install times, the date-based version): SOURCE_DATE_EPOCH when set,
 * else the time the lockfile was made. The CLI exports it as SOURCE_DATE_EPOCH before
 * composing, so the composition that writes a lockfile, and every one that reads it, gives the
 * same commit checksum for the same inputs.
 *
 * Pinning: each repo shows the solver only its locked packages (dnf's `includepkgs`, by
 * `name-version-release.arch`; a repo the lockfile does not name shows none). The request still
 * comes from the command line; after the solve the plan must hold exactly the lockfile's
 * packages, each from its repo with its checksum, on the lockfile's base commit. A pinned
 * package that is gone from its repo, or whose checksum changed, is LAYER_LOCKFILE naming the
 * package, the repo and its repomd.xml, before anything is downloaded or deployed. A repo whose
 * repomd.xml changed but still has every pinned package is only a warning.
 */
import { readFileSync } from 'node:fs';
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import { repoPackageKey, type RepoSet } from '../repos/index.js';
import type { Plan } from '../compose/index.js';
import { LOCAL_REPO } from '../compose/plan.js';
import { writeFileDurable } from '../sysroot/fsutil.js';
import { sourceDateEpoch } from '../compose/apply/rpmdb.js';
import type { EngineRequest } from './types.js';

export const LOCKFILE_VERSION = 1;
export const BASE_REPO = '@base';

export interface LockedPackage {
  nevra: string;
  repo: string;
  /** `sha256:<hex>` (or the repo's checksum type); absent for `@base` packages. */
  checksum?: string;
}

export interface LockedRepo {
  id: string;
  'repomd-sha256': string;
  revision: string;
  timestamp: number;
}

export interface Lockfile {
  version: number;
  arch: string;
  'source-date-epoch': number;
  /** `version`: of a recipe base composed by `upgrade --lockfile-out` (deploy --lockfile composes the same). */
  base: { ref: string; commit: string | null; recipe?: string[]; version?: string };
  requested: string[];
  repos: LockedRepo[];
  packages: LockedPackage[];
}

/** Read and check the shape of a lockfile; LAYER_LOCKFILE naming the file otherwise. */
export function readLockfile(path: string): Lockfile {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new LayerError('LAYER_LOCKFILE', `cannot read lockfile ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const l = doc as Partial<Lockfile>;
  const ok = typeof l === 'object' && l !== null && l.version === LOCKFILE_VERSION && typeof l.arch === 'string'
    && typeof l['source-date-epoch'] === 'number' && typeof l.base === 'object' && Array.isArray(l.repos) && Array.isArray(l.packages)
    && l.packages.every((p) => typeof p.nevra === 'string' && typeof p.repo === 'string');
  if (!ok) throw new LayerError('LAYER_LOCKFILE', `${path} is not a layer lockfile (version ${LOCKFILE_VERSION})`);
  return l as Lockfile;
}

/** Crash safety: temp file + rename (writeFileDurable); a reader sees the old file or the new one. */
export function writeLockfile(path: string, lock: Lockfile): void {
  writeFileDurable(path, JSON.stringify(lock, null, 2) + '\n');
}

/** The includepkgs patterns for repo `id`: its locked packages, or a pattern nothing matches. */
export function lockedIncludes(lock: Lockfile, id: string): string[] {
  const mine = lock.packages.filter((p) => p.repo === id).map((p) => withoutEpoch(p.nevra));
  // A NUL never occurs in a package name: this pattern shows the solver nothing.
  return mine.length > 0 ? mine : ['\0'];
}

/** `name-[E:]V-R.A` → `name-V-R.A`, the form includepkgs matches. */
function withoutEpoch(nevra: string): string {
  return nevra.replace(/-\d+:([^-]+-[^-]+)$/, '-$1');
}

/** The lockfile of a plan: the repos it saw and every package of its tree, with checksums from the repos' primary. */
export async function lockfileOf(plan: Plan, repos: RepoSet, epoch: number): Promise<Lockfile> {
  const fromRepo = new Map(plan.steps.filter((s) => s.repo !== '@System').map((s) => [s.nevra as string, s.repo]));
  // Checksums from the repos' sidecars: a lockfile of a large repo does not parse primary again.
  const records = await repos.downloadRecordsOf([...fromRepo].map(([nevra, repo]) => ({ repo, nevra })));
  const packages = plan.packages.map((nevra): LockedPackage => {
    const repo = fromRepo.get(nevra);
    if (repo === undefined) return { nevra, repo: BASE_REPO };
    if (repo === LOCAL_REPO) {
      const local = plan.locals.find((l) => l.nevra === nevra);
      return { nevra, repo, ...(local ? { checksum: `sha256:${local.sha256}` } : {}) };
    }
    const checksum = records.get(repoPackageKey(repo, nevra))?.checksum;
    return { nevra, repo, ...(checksum ? { checksum } : {}) };
  }).sort((a, b) => (a.nevra < b.nevra ? -1 : a.nevra > b.nevra ? 1 : 0));
  const r = plan.request;
  return {
    version: LOCKFILE_VERSION, arch: plan.arch, 'source-date-epoch': epoch,
    base: { ref: r.baseRef, commit: plan.base.commit, ...(r.recipe ? { recipe: [...r.recipe.packages] } : {}) },
    requested: [...r.requested],
    repos: plan.repos.map((x) => ({ id: x.id, 'repomd-sha256': x.digest, revision: x.revision, timestamp: x.timestamp })),
    packages,
  };
}

/**
 * The plan against the lockfile it was pinned by: same base commit, the same packages each
 * from its repo with its checksum. Throws LAYER_LOCKFILE naming the first difference.
 * `file` names the lockfile in messages.
 */
export async function checkPlan(plan: Plan, repos: RepoSet, lock: Lockfile, file: string, report: Report): Promise<void> {
  if (lock.base.commit !== null && plan.base.commit !== null && lock.base.commit !== plan.base.commit) {
    throw new LayerError('LAYER_LOCKFILE', `${file} pins base commit ${lock.base.commit.slice(0, 12)}, this deployment's base is ${plan.base.commit.slice(0, 12)}`, {
      hint: 'use the lockfile on a sysroot with that base, or write a new one with --lockfile-out',
    });
  }
  if (lock.arch !== plan.arch) throw new LayerError('LAYER_LOCKFILE', `${file} is for arch ${lock.arch}, this composition is ${plan.arch}`);
  await checkPinnedAvailable(repos, lock, file, report);
  const got = await lockfileOf(plan, repos, lock['source-date-epoch']);
  const want = new Map(lock.packages.map((p) => [p.nevra, p]));
  for (const p of got.packages) {
    const w = want.get(p.nevra);
    if (!w) throw new LayerError('LAYER_LOCKFILE', `${p.nevra} (from ${p.repo}) is not in ${file}`, { hint: 'the request asks for more than the lockfile pins; write a new one with --lockfile-out' });
    if (w.repo !== p.repo || (w.checksum && p.checksum && w.checksum !== p.checksum)) {
      throw new LayerError('LAYER_LOCKFILE', `${p.nevra}: ${file} pins ${w.repo} ${w.checksum ?? ''}, the repos have ${p.repo} ${p.checksum ?? ''}`);
    }
    want.delete(p.nevra);
  }
  const left = [...want.values()].filter((p) => p.repo !== BASE_REPO || plan.base.commit !== null);
  const first = left[0];
  if (first) throw new LayerError('LAYER_LOCKFILE', `${file} pins ${first.nevra} (${first.repo}), which this composition does not install`, { hint: 'the request differs from the one the lockfile was written for' });
}

/**
 * Every pinned repo package is still offered, with its checksum: the clear error for a package
 * that vanished (the solver alone would only say that nothing matches). Also called when the
 * pinned solve fails, to name the cause.
 */
export async function checkPinnedAvailable(repos: RepoSet, lock: Lockfile, file: string, report: Report): Promise<void> {
  for (const r of lock.repos) {
    const repo = repos.active.find((x) => x.id === r.id);
    const pinned = lock.packages.filter((p) => p.repo === r.id);
    if (!repo) {
      if (pinned.length > 0) throw new LayerError('LAYER_LOCKFILE', `${file} pins packages from repo ${r.id}, which is not configured (or was skipped)`);
      continue;
    }
    if (repo.digest !== r['repomd-sha256']) {
      report.warn('lockfile.repomd-changed', `repo ${r.id}: repomd.xml changed since ${file} (sha256 ${r['repomd-sha256'].slice(0, 12)} → ${(repo.digest ?? '').slice(0, 12)}); pinned packages are checked one by one`);
    }
    const offered = await repo.downloadRecords(new Set(pinned.map((p) => p.nevra)));
    for (const p of pinned) {
      if (!offered.has(p.nevra)) {
        throw new LayerError('LAYER_LOCKFILE', `${p.nevra}, pinned by ${file}, is gone from repo ${r.id} (repomd.xml sha256 ${(repo.digest ?? '').slice(0, 12)})`, {
          hint: 'the repo no longer has that version: restore it, or write a new lockfile with --lockfile-out',
        });
      }
      const sum = offered.get(p.nevra)?.checksum;
      if (p.checksum && sum && sum !== p.checksum) {
        throw new LayerError('LAYER_LOCKFILE', `${p.nevra} in repo ${r.id} has checksum ${sum}, ${file} pins ${p.checksum}`, { hint: 'the package was rebuilt under the same version' });
      }
    }
  }
}

/** openRepos' `includes` for a pinned transaction (spread into its options; empty when unpinned). */
export function pinsOf(req: Pick<EngineRequest, 'lockfile'>): { includes?: (repoId: string) => string[] } {
  const lock = req.lockfile?.lock;
  return lock ? { includes: (id) => lockedIncludes(lock, id) } : {};
}

/**
 * Run `plan` under the request's lockfile: a failed pinned solve is explained by the pinned
 * package that is gone (when one is), a successful one is checked against the lockfile; then
 * `onLockfile` gets the plan's lockfile. Nothing is downloaded before this returns.
 */
export async function withLockfile(req: Pick<EngineRequest, 'lockfile' | 'onLockfile'>, repos: RepoSet, report: Report, plan: () => Promise<Plan>): Promise<Plan> {
  const pinned = req.lockfile;
  let p: Plan;
  try {
    p = await plan();
  } catch (err) {
    if (!pinned) throw err;
    await checkPinnedAvailable(repos, pinned.lock, pinned.file, report);
    // Everything pinned is there: the request wants something the lockfile does not pin.
    if (err instanceof LayerError && (err.code === 'LAYER_NO_MATCH' || err.code === 'LAYER_UNSOLVABLE')) {
      throw new LayerError('LAYER_LOCKFILE', `${err.message} (with ${pinned.file}, the repos offer only the packages it pins)`, {
        cause: err, hint: 'the request differs from the one the lockfile was written for; write a new one with --lockfile-out',
      });
    }
    throw err;
  }
  if (pinned) await checkPlan(p, repos, pinned.lock, pinned.file, report);
  if (req.onLockfile) req.onLockfile(await lockfileOf(p, repos, pinned?.lock['source-date-epoch'] ?? epochNow()));
  return p;
}

/** SOURCE_DATE_EPOCH when set (the CLI sets it for --lockfile and --lockfile-out), else now. */
function epochNow(): number {
  return sourceDateEpoch() ?? Math.floor(Date.now() / 1000);
}
