/**
 * The enabled repositories of a configuration, refreshed and loaded together. A repo that
 * cannot be fetched fails the whole set, unless it has skip_if_unavailable: then it is left
 * out with a Report warning and the others go on.
 */
import { LayerError } from '../errors.js';
import { silentReport, type Report } from '../report.js';
import { Fetcher, type FetcherOptions } from '../net/index.js';
import { isPrimaryFile } from './filelists.js';
import { analyzeRepo, loadRepo, type LoadedRepo, type LoaderKind, type PoolLike } from './load.js';
import { Repo, type DownloadRecord, type PayloadSizes, type RefreshOptions, type RefreshStatus } from './repo.js';
import type { RepoConfig } from './types.js';

export interface RepoSetOptions extends FetcherOptions {
  /** Where metadata is cached (`/var/cache/layer/repos`); one subdirectory per repo id. */
  cacheDir: string;
  report?: Report;
  /** Clock for metadata_expire (tests). */
  now?: () => number;
}

export interface RefreshOutcome {
  id: string;
  status: RefreshStatus | 'skipped';
  /** Why a skip_if_unavailable repo was skipped. */
  error?: LayerError;
}

export interface LoadOptions {
  /**
   * Load full filelists: `true`, `false`, or `'auto'` (default): only when a requested spec
   * or some package's dependency names a file outside primary's subset (`/etc/*`, `*bin/*`,
   * `/usr/lib/sendmail`). With `'auto'`, a repo whose filelists cannot be fetched or verified
   * is loaded with primary's files and a Report warning; with `true` that is an error.
   */
  needFilelists?: boolean | 'auto';
  /** The user's package specs, for the `'auto'` decision. */
  specs?: string[];
  /** XML reader when no `.solv` is cached (default `'auto'`; see LoaderKind). */
  loader?: LoaderKind;
}

/** A package as a repo offers it: the repo's id and the package's NEVRA. */
export interface RepoPackage {
  readonly repo: string;
  readonly nevra: string;
}

/** The key of a package of one repo in RepoSet's per-package maps. */
export function repoPackageKey(repo: string, nevra: string): string {
  return `${repo}\0${nevra}`;
}

export class RepoSet {
  readonly repos: Repo[];
  private readonly fetcher: Fetcher;
  private readonly report: Report;
  private skipped = new Set<string>();

  /** Only enabled configs take part. */
  constructor(configs: RepoConfig[], opts: RepoSetOptions) {
    this.report = opts.report ?? silentReport;
    this.fetcher = new Fetcher(opts);
    const ctx: ConstructorParameters<typeof Repo>[1] = { cacheDir: opts.cacheDir, fetcher: this.fetcher, report: this.report };
    if (opts.now !== undefined) ctx.now = opts.now;
    this.repos = configs.filter((c) => c.enabled).map((c) => new Repo(c, ctx));
  }

  /** Repos that refreshed (not skipped). */
  get active(): Repo[] {
    return this.repos.filter((r) => !this.skipped.has(r.id));
  }

  /**
   * Download records (location, checksum, size) of packages named by repo and NEVRA, keyed by
   * {@link repoPackageKey}: each repo's sizes sidecar is read once for all of its packages, and
   * never the whole primary. Packages of repos that are not active here (local packages, the
   * installed set) are left out.
   */
  downloadRecordsOf(pkgs: Iterable<RepoPackage>): Promise<Map<string, DownloadRecord>> {
    return this.#perRepo(pkgs, (repo, only) => repo.downloadRecords(only));
  }

  /** Download and installed sizes of packages named by repo and NEVRA, as downloadRecordsOf. */
  payloadSizesOf(pkgs: Iterable<RepoPackage>): Promise<Map<string, PayloadSizes>> {
    return this.#perRepo(pkgs, (repo, only) => repo.payloadSizes(only));
  }

  async #perRepo<T>(pkgs: Iterable<RepoPackage>, read: (repo: Repo, only: ReadonlySet<string>) => Promise<Map<string, T>>): Promise<Map<string, T>> {
    const wanted = new Map<string, Set<string>>();
    for (const p of pkgs) wanted.set(p.repo, (wanted.get(p.repo) ?? new Set()).add(p.nevra));
    const out = new Map<string, T>();
    for (const repo of this.active) {
      const only = wanted.get(repo.id);
      if (only === undefined) continue;
      for (const [nevra, value] of await read(repo, only)) out.set(repoPackageKey(repo.id, nevra), value);
    }
    return out;
  }

  /** Refresh every repo concurrently (transfers share the fetcher's concurrency bound). */
  async refresh(opts: RefreshOptions = {}): Promise<RefreshOutcome[]> {
    return this.report.section('refresh metadata', async () => {
      this.skipped.clear();
      // repo_gpgcheck=1 is enforced in Repo.refresh (repomd.xml.asc, src/trust/repomd.ts).
      const results = await Promise.allSettled(this.repos.map((r) => r.refresh(opts)));
      const out: RefreshOutcome[] = [];
      const errors: LayerError[] = [];
      results.forEach((res, i) => {
        const repo = this.repos[i]!;
        if (res.status === 'fulfilled') {
          out.push({ id: repo.id, status: res.value });
          return;
        }
        const err = res.reason instanceof LayerError ? res.reason : new LayerError('LAYER_INTERNAL', `repo ${repo.id}: ${String(res.reason)}`, { cause: res.reason });
        if (repo.config.skipIfUnavailable && err.code !== 'LAYER_INTERNAL') {
          this.skipped.add(repo.id);
          this.report.warn('repo.skipped', `skipping repo ${repo.id} (skip_if_unavailable): ${err.message}`);
          out.push({ id: repo.id, status: 'skipped', error: err });
        } else errors.push(err);
      });
      if (errors.length === 1) throw errors[0]!;
      if (errors.length > 1) {
        throw new LayerError(errors[0]!.code, errors.map((e) => e.message).join('\n'), { cause: errors[0] });
      }
      return out;
    });
  }

  /** Add every active repo to `pool` (after refresh). */
  async load(pool: PoolLike, opts: LoadOptions = {}): Promise<LoadedRepo[]> {
    return this.report.section('load metadata', async () => {
      const repos = this.active;
      let full = opts.needFilelists ?? 'auto';
      if (full === 'auto') {
        full = (opts.specs ?? []).some((s) => s.startsWith('/') && !isPrimaryFile(s));
        for (const r of repos) if (!full) full = await analyzeRepo(r);
      }
      const out: LoadedRepo[] = [];
      const strict = opts.needFilelists === true;
      const loader = opts.loader ?? 'auto';
      for (const r of repos) out.push(await loadRepo(r, pool, { filelists: full, strict, report: this.report, loader }));
      return out;
    });
  }

  /** Release keep-alive connections. */
  async close(): Promise<void> {
    await this.fetcher.close();
  }
}
