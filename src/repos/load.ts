/**
 * Loading a refreshed repo into a solver pool, through a `.solv` cache keyed by the repomd.xml
 * digest: a later run with an unchanged repomd.xml hands libsolv the `.solv` bytes and never
 * reads the XML. Filters (excludepkgs/includepkgs) and the filelists choice are part of the key.
 */
import { LayerError } from '../errors.js';
import type { Report } from '../report.js';
import type { RepoOptions, RepoSource } from '../solver/types.js';
import { sha256 } from './cache.js';
import { needsFullFilelists } from './deps.js';
import type { FilelistEntry } from './filelists.js';
import { isSourcePackage, makeFilter } from './filter.js';
import type { Repo } from './repo.js';

/** What repos/ needs of the solver's Pool (src/solver/index.ts) — structural, so tests can fake it. */
export interface PoolLike {
  addRepo(id: string, source: RepoSource, opts: RepoOptions): SolverRepoLike;
}
export interface SolverRepoLike {
  writeSolv(opts?: { solverOnly?: boolean }): Uint8Array;
  /** Number of packages (the real solver Repo has it). */
  readonly size?: number;
}

/**
 * Which parser turns XML into solver packages when there is no `.solv` yet. Measured on the
 * 63k-package repo (bench/repos.bench.ts, 86 MB primary.xml, median CPU time): libsolv's reader
 * in wasm 1.8 s (gunzip + addRepo) vs ours 3.3 s (parse 1.4 s + addRepo(records) ~1.9 s);
 * `.solv` 0.17 s; native rpmmd2solv 0.94 s; fast-xml-parser alone 7.9 s at 1 GB RSS.
 * - `'libsolv'`: libsolv's repo_add_rpmmd inside the wasm module (fastest from disk; see
 *   bench/repos.bench.ts), fed the decompressed XML;
 * - `'ts'`: parsePrimary's records, then addRepo(records);
 * - `'auto'` (default): records when they are already in memory (just fetched and verified),
 *   when excludepkgs/includepkgs need them, or when full filelists are merged; libsolv otherwise.
 */
export type LoaderKind = 'auto' | 'ts' | 'libsolv';

export interface LoadedRepo {
  id: string;
  /** Where the packages came from: the `.solv` cache, or parsed XML. */
  from: 'solv' | 'xml';
  packages: number;
  filelists: boolean;
}

/** Sidecar of a `.solv`: facts needed before deciding what to load. */
interface SolvInfo {
  packages: number;
  fileDepsOutsidePrimary: boolean;
  /** excludepkgs/includepkgs patterns that matched no package (warned on every load). */
  unmatched?: string[];
}

function warnUnmatched(repo: Repo, info: SolvInfo, report: Report | undefined): void {
  for (const p of info.unmatched ?? []) {
    if (repo.config.globalPatterns?.includes(p)) continue;
    report?.warn('repo.filter-unmatched', `repo ${repo.id}: excludepkgs/includepkgs pattern '${p}' matches no package`, { repo: repo.id, pattern: p });
  }
}

/** dnf priority (lower wins) and cost → libsolv priority (higher wins) and subpriority. */
export function solverOptions(repo: Repo): RepoOptions {
  return { priority: -repo.config.priority, subpriority: repo.config.cost };
}

function solvKey(repo: Repo, filelists: boolean): string {
  const c = repo.config;
  const filters = c.excludepkgs.length + c.includepkgs.length > 0 ? `-${sha256(JSON.stringify([c.excludepkgs, c.includepkgs])).slice(0, 12)}` : '';
  return `${repo.digest}-${filelists ? 'full' : 'primary'}${filters}`;
}

/** Does this repo's metadata have file dependencies outside primary's file subset? */
export async function analyzeRepo(repo: Repo): Promise<boolean> {
  // Once per generation and process: an upgrade loads the same repos for three plans.
  const digest = repo.digest;
  const known = analyzed.get(repo);
  if (known !== undefined && known.digest === digest) return known.value;
  const value = await analyzeNow(repo);
  if (digest !== undefined) analyzed.set(repo, { digest, value });
  return value;
}

const analyzed = new WeakMap<Repo, { digest: string; value: boolean }>();

async function analyzeNow(repo: Repo): Promise<boolean> {
  for (const fl of [false, true]) {
    // The sidecar alone: the `.solv` itself (tens of MB for a distribution) is read once, by loadRepo.
    const info = await repo.cache.readSolvInfo(solvKey(repo, fl));
    if (info !== undefined) return (info as SolvInfo).fileDepsOutsidePrimary;
  }
  const facts = await repo.primaryFacts();
  if (facts !== undefined) return facts.fileDepsOutsidePrimary;
  return needsFullFilelists(await repo.records());
}

/**
 * Add `repo` to `pool`, from the `.solv` cache when present. Crash safety: the `.solv` is
 * written to a temp file and renamed, after the pool accepted the records.
 */
export async function loadRepo(
  repo: Repo,
  pool: PoolLike,
  opts: {
    filelists: boolean;
    /** Unusable filelists: error (true) or warn and use primary's files. */
    strict?: boolean;
    report?: Report;
    loader?: LoaderKind;
  },
): Promise<LoadedRepo> {
  const c = repo.config;
  const filtered = c.excludepkgs.length + c.includepkgs.length > 0;
  const loader = opts.loader ?? 'auto';
  // Full filelists always go through our records: the wasm rpmmd reader, given filelists, does
  // not (yet) turn them into file provides (found by the filelists test; reported to solver/).
  const useLibsolv = !filtered && !opts.filelists && (loader === 'libsolv' || (loader === 'auto' && !repo.hasRecordsInMemory));
  let lists: Map<string, FilelistEntry> | undefined;
  let filelists = opts.filelists;
  if (filelists && (await repo.cache.readSolvInfo(solvKey(repo, true))) === undefined) {
    try {
      lists = await repo.filelists();
    } catch (e) {
      if (opts.strict || !(e instanceof LayerError) || e.code === 'LAYER_INTERNAL') throw e;
      opts.report?.warn('repo.filelists-unavailable', `${e.message}\n  going on with primary's file list only: file dependencies outside /etc, */bin/* may not resolve`);
    }
    if (lists === undefined) filelists = false;
  }
  const key = solvKey(repo, filelists);
  const cached = await repo.cache.cachedSolv(key);
  if (cached !== undefined) {
    try {
      pool.addRepo(repo.id, { kind: 'solv-file', path: cached.path }, solverOptions(repo));
      warnUnmatched(repo, cached.info as SolvInfo, opts.report);
      return { id: repo.id, from: 'solv', packages: (cached.info as SolvInfo).packages, filelists };
    } catch (e) {
      // A damaged .solv, or one from another libsolv build: it is only a cache, rebuild it.
      if (!(e instanceof LayerError) || e.code === 'LAYER_INTERNAL') throw e;
      opts.report?.info('repo.solv-cache-unusable', `repo ${repo.id}: unusable .solv cache (${e.message}); reading the XML again`);
      await repo.cache.dropSolv(key);
    }
  }
  if (useLibsolv) {
    const primary = (await repo.xmlBytes('primary'))!;
    const source: RepoSource = { kind: 'rpmmd', primary };
    const solverRepo = pool.addRepo(repo.id, source, solverOptions(repo));
    const packages = solverRepo.size ?? -1;
    await repo.cache.writeSolv(key, solverRepo.writeSolv({ solverOnly: true }), { packages, fileDepsOutsidePrimary: await analyzeRepo(repo) } satisfies SolvInfo);
    return { id: repo.id, from: 'xml', packages, filelists };
  }
  const all = await repo.records();
  const info: SolvInfo = { packages: 0, fileDepsOutsidePrimary: needsFullFilelists(all) };
  const keep = makeFilter(repo.config.excludepkgs, repo.config.includepkgs);
  // Source packages are never installed (and their files, e.g. `foo.spec`, are not paths).
  const binary = all.filter((r) => !isSourcePackage(r));
  let records = keep === undefined ? binary : binary.filter(keep);
  if (keep) {
    info.unmatched = keep.unmatched();
    warnUnmatched(repo, info, opts.report);
  }
  if (lists !== undefined) {
    const byId = lists;
    records = records.map((r) => {
      const e = r.checksum === undefined ? undefined : byId.get(r.checksum.slice(r.checksum.indexOf(':') + 1));
      return e === undefined ? r : { ...r, files: e.files };
    });
  }
  info.packages = records.length;
  const solverRepo = pool.addRepo(repo.id, { kind: 'records', records }, solverOptions(repo));
  await repo.cache.writeSolv(key, solverRepo.writeSolv({ solverOnly: true }), info);
  // Records stay in memory: compose reads them right after (locations, checksums, sizes);
  // callers that do not can free them with repo.dropRecords().
  return { id: repo.id, from: 'xml', packages: records.length, filelists };
}
