/**
 * One configured repository and its cache: refresh (honouring metadata_expire and cacheOnly),
 * on-demand data files (filelists only when asked), and the parsed primary records of the
 * current generation.
 */
import { formatNevra, parseNevra } from '../nevra.js';
import type { Report } from '../report.js';
import { LayerError } from '../errors.js';
import type { PackageRecord } from '../solver/types.js';
import { readFile, rm } from 'node:fs/promises';
import { RepoCache, sha256, writeAtomic, type CachedRepomd } from './cache.js';
import { joinUrl, type Fetcher } from '../net/index.js';
import { FilelistsParser, type FilelistEntry } from './filelists.js';
import { needsFullFilelists } from './deps.js';
import { PrimaryParser } from './primary.js';
import { readSizesSidecar, sidecarLine, type SidecarRow } from './sizes-sidecar.js';
import {
  attemptOf,
  checkRepomd,
  describeAttempts,
  fetchDataFile,
  fetchOptions,
  planMirrors,
  verifyContent,
  type Attempt,
  type ContentSink,
  type MirrorPlan,
} from './remote.js';
import { parseRepomd, type RepomdRecord } from './repomd.js';
import { verifyRepomdSignature } from '../trust/repomd.js';
import type { RepoConfig } from './types.js';

/** Facts about a primary.xml, kept next to it in the cache. */
export interface PrimaryFacts {
  packages: number;
  fileDepsOutsidePrimary: boolean;
  /** NEVRA → [download size, installed size] (null: unknown); absent in caches written before it. */
  sizes?: Record<string, [number | null, number | null]>;
}

/** Download and installed size of one package (either may be unknown). */
/** The part of a primary record downloading a package needs. */
export type DownloadRecord = Pick<PackageRecord, 'name' | 'location' | 'checksum' | 'downloadSize'>;

export interface PayloadSizes {
  downloadSize?: number;
  installSize?: number;
}

/** `name-[epoch:]version-release.arch`, the solver's NEVRA form. */
const nevraOf = (r: PackageRecord): string => formatNevra(r);

export type RefreshStatus =
  /** Cache within metadata_expire: nothing was requested from the network. */
  | 'fresh'
  /** cacheOnly: the cache was used as it is, however old. */
  | 'cached'
  /** repomd.xml fetched and identical to the cached one. */
  | 'unchanged'
  /** A new generation was fetched and committed. */
  | 'updated';

export interface RefreshOptions {
  /** Never touch the network; LAYER_REPO_OFFLINE when nothing usable is cached. */
  cacheOnly?: boolean;
  /** Ignore metadata_expire and fetch repomd.xml now. */
  force?: boolean;
  /** Also fetch filelists now (otherwise fetched on demand by load). */
  filelists?: boolean;
}

export class Repo {
  readonly cache: RepoCache;
  private current: CachedRepomd | undefined;
  private plan: MirrorPlan | undefined;
  private primary: { digest: string; records: PackageRecord[] } | undefined;
  private cacheOnly = false;
  /** What the last successful refresh of this process covered (refreshedAgain). */
  private refreshed: { filelists: boolean; cacheOnly: boolean } | undefined;

  constructor(
    readonly config: RepoConfig,
    private readonly ctx: { cacheDir: string; fetcher: Fetcher; report: Report; now?: () => number },
  ) {
    this.cache = new RepoCache(ctx.cacheDir, config.id);
  }

  get id(): string {
    return this.config.id;
  }

  /** sha256 of the current repomd.xml (the key of the .solv cache); undefined before refresh. */
  get digest(): string | undefined {
    return this.current?.digest;
  }

  get revision(): string | undefined {
    return this.current?.repomd.revision;
  }

  /** The repomd record of `type` in the current generation. */
  record(type: string): RepomdRecord | undefined {
    return this.current?.repomd.records.get(type);
  }

  async refresh(opts: RefreshOptions = {}): Promise<RefreshStatus> {
    const again = this.refreshedAgain(opts);
    if (again) return again;
    const status = await this.refreshNow(opts);
    this.refreshed = { filelists: opts.filelists === true, cacheOnly: opts.cacheOnly === true };
    return status;
  }

  /**
   * A refresh this process already made that still holds: an upgrade plans up to three times
   * (the preview, the base, the layered packages), and each plan read repomd.xml, its state
   * and every data file's presence from the cache again (3-9 ms each on the bench). Metadata
   * that has expired since, a forced refresh, filelists newly wanted or another cache-only
   * setting go through refreshNow as before.
   */
  private refreshedAgain(opts: RefreshOptions): RefreshStatus | undefined {
    const r = this.refreshed;
    const state = this.current?.state;
    if (!r || opts.force || (opts.filelists && !r.filelists) || r.cacheOnly !== (opts.cacheOnly === true)) return undefined;
    if (r.cacheOnly) return 'cached';
    if (state === undefined) return undefined;
    const age = (this.ctx.now?.() ?? Date.now()) - state.fetchedAt;
    return this.config.metadataExpire >= 0 && age >= this.config.metadataExpire * 1000 ? undefined : 'fresh';
  }

  private async refreshNow(opts: RefreshOptions): Promise<RefreshStatus> {
    const cfg = this.config;
    this.cacheOnly = opts.cacheOnly === true;
    await this.cache.prepare();
    const cached = await this.cache.read();
    const want = ['primary', ...(opts.filelists ? ['filelists'] : [])];
    const complete = async (c: CachedRepomd) => {
      for (const t of want) {
        const r = c.repomd.records.get(t);
        if (r === undefined ? t === 'primary' : !(await this.cache.hasData(r))) return false;
      }
      return true;
    };
    if (opts.cacheOnly) {
      if (cached === undefined || !(await complete(cached))) {
        throw new LayerError('LAYER_REPO_OFFLINE', `repo ${cfg.id}: no cached metadata in ${this.cache.dir} and cache-only mode forbids fetching`, {
          hint: 'run once with network access (without --cacheonly) to fill the cache',
        });
      }
      this.current = cached;
      return 'cached';
    }
    const now = this.ctx.now?.() ?? Date.now();
    const age = cached?.state === undefined ? Infinity : now - cached.state.fetchedAt;
    const expired = cfg.metadataExpire >= 0 && age >= cfg.metadataExpire * 1000;
    // A cache from a baseurl the repo no longer lists is another repo's metadata under this id
    // (dnf keys its cache by id and URLs): whatever metadata_expire says, fetch from the new one.
    const moved = cached?.state !== undefined && !cfg.mirrorlist && !cfg.metalink && !cfg.baseurls.includes(cached.state.baseurl);
    if (cached !== undefined && cached.state !== undefined && !opts.force && !expired && !moved && (await complete(cached))) {
      this.current = cached;
      return 'fresh';
    }
    const attempts: Attempt[] = [];
    let signature: LayerError | undefined;
    const plan = await this.mirrors(attempts);
    for (const base of plan.baseurls) {
      const url = joinUrl(base, 'repodata/repomd.xml');
      try {
        const bytes = await this.ctx.fetcher.bytes(url, fetchOptions(cfg, undefined, 'repomd.xml'));
        const what = `repo ${cfg.id}: ${url}`;
        checkRepomd(bytes, plan, what);
        // repo_gpgcheck: nothing repomd.xml lists is trusted before its signature verifies.
        if (cfg.repoGpgcheck) await verifyRepomdSignature(cfg, url, bytes, (u) => this.ctx.fetcher.bytes(u, fetchOptions(cfg, undefined, 'gpg')));
        const repomd = parseRepomd(bytes, what);
        if (!repomd.records.has('primary')) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: no primary record`);
        const gen: CachedRepomd = { bytes, repomd, digest: sha256(bytes), state: { fetchedAt: now, baseurl: base } };
        for (const t of want) if (repomd.records.has(t)) await this.fetchData(gen, t, [base]);
        if (cached?.digest === gen.digest) await this.cache.touch(gen.state!);
        else await this.cache.commitRepomd(bytes, gen.state!);
        this.current = gen;
        return cached?.digest === gen.digest ? 'unchanged' : 'updated';
      } catch (e) {
        if (e instanceof LayerError && (e.code === 'LAYER_REPO_SIGNATURE' || e.code === 'LAYER_GPG_KEY')) signature = e;
        attempts.push(attemptOf(url, e));
      }
    }
    const failed = this.failure('cannot fetch metadata', plan, attempts);
    if (signature) throw new LayerError(signature.code, failed.message, { hint: failed.hint, cause: signature });
    throw failed;
  }

  /** Path of the verified data file `type` of the current generation, fetching it if needed. */
  async dataFile(type: string): Promise<string | undefined> {
    const gen = this.current;
    if (gen === undefined) throw new LayerError('LAYER_INTERNAL', `repo ${this.id}: dataFile before refresh`);
    const rec = gen.repomd.records.get(type);
    if (rec === undefined) return undefined;
    if (await this.cache.hasData(rec)) return this.cache.dataPath(rec);
    if (this.cacheOnly) {
      throw new LayerError('LAYER_REPO_OFFLINE', `repo ${this.id}: ${type} is not cached and cache-only mode forbids fetching`);
    }
    const attempts: Attempt[] = [];
    const plan = await this.mirrors(attempts);
    const first = gen.state?.baseurl;
    const bases = [...new Set([...(first !== undefined ? [first] : []), ...plan.baseurls])];
    return this.fetchData(gen, type, bases, attempts, plan);
  }

  /** The primary records of the current generation (parsed once, from memory afterwards). */
  async records(): Promise<PackageRecord[]> {
    const gen = this.current;
    if (gen === undefined) throw new LayerError('LAYER_INTERNAL', `repo ${this.id}: records before refresh`);
    if (this.primary?.digest === gen.digest) return this.primary.records;
    const path = (await this.dataFile('primary'))!;
    const records: PackageRecord[] = [];
    const rec = gen.repomd.records.get('primary')!;
    await this.checked(path, () => verifyContent(path, rec, `repo ${this.id}: primary (${path})`, new PrimaryParser((p) => records.push(p))));
    this.primary = { digest: gen.digest, records };
    await this.saveFacts(gen, records);
    return records;
  }

  /** Forget parsed records (once a `.solv` holds them, they are dead weight: ~110 MB for 63k packages). */
  dropRecords(): void {
    this.primary = undefined;
  }

  /** Whether the current generation's primary records are already parsed (just fetched). */
  get hasRecordsInMemory(): boolean {
    return this.primary !== undefined && this.primary.digest === this.current?.digest;
  }

  /**
   * The decompressed XML of `type` (for libsolv's own reader), its open-checksum verified;
   * undefined when the repo does not publish it.
   */
  async xmlBytes(type: string): Promise<Uint8Array | undefined> {
    const path = await this.dataFile(type);
    if (path === undefined) return undefined;
    const parts: Uint8Array[] = [];
    await this.checked(path, () =>
      verifyContent(path, this.current!.repomd.records.get(type)!, `repo ${this.id}: ${type} (${path})`, {
        write: (b) => parts.push(b),
        end: () => {},
      }),
    );
    return Buffer.concat(parts);
  }

  /**
   * Re-verify a cached file while reading it; one that no longer verifies (disk damage, a
   * tampered cache) is removed so the next refresh fetches it again, and the error says so.
   */
  private async checked(path: string, read: () => Promise<void>): Promise<void> {
    try {
      await read();
    } catch (e) {
      if (e instanceof LayerError && (e.code === 'LAYER_REPO_CHECKSUM' || e.code === 'LAYER_REPO_CORRUPT')) {
        await rm(path, { force: true });
        await rm(`${path}.facts.json`, { force: true });
        await rm(`${path}.sizes.tsv`, { force: true });
        throw new LayerError(e.code, `${e.message} (cached copy removed)`, { hint: 'refresh the repo metadata to fetch it again', cause: e });
      }
      throw e;
    }
  }

  /** Facts computed when primary was verified (saves a parse to decide on filelists, or to show sizes). */
  async primaryFacts(): Promise<PrimaryFacts | undefined> {
    const rec = this.current?.repomd.records.get('primary');
    if (rec === undefined) return undefined;
    try {
      return JSON.parse(await readFile(`${this.cache.dataPath(rec)}.facts.json`, 'utf8')) as PrimaryFacts;
    } catch {
      return undefined;
    }
  }

  /**
   * The facts, and the sizes as `<primary>.sizes.tsv` (`\nNEVRA\tdownload\tinstalled` lines, empty
   * when unknown): a transaction table of a few rows finds its rows with a string search
   * instead of parsing 60,000 entries (~450 ms and 80 MB of garbage for Debian's index).
   */
  private async saveFacts(gen: CachedRepomd, records: PackageRecord[]): Promise<void> {
    const base = this.cache.dataPath(gen.repomd.records.get('primary')!);
    const lines: string[] = [''];
    const seen = new Set<string>();
    for (const r of records) {
      const k = nevraOf(r);
      if (seen.has(k)) continue;
      seen.add(k);
      lines.push(sidecarLine(k, r));
    }
    await writeAtomic(`${base}.sizes.tsv`, `${lines.join('\n')}\n`, this.cache.tmpPath('sizes'));
    const facts: PrimaryFacts = { packages: records.length, fileDepsOutsidePrimary: needsFullFilelists(records) };
    await writeAtomic(`${base}.facts.json`, JSON.stringify(facts), this.cache.tmpPath('facts'));
  }

  /** Sizes from the `.sizes.tsv` sidecar: only the `only` NEVRAs, or all. */
  private async sidecarSizes(only: ReadonlySet<string> | undefined): Promise<Map<string, SidecarRow> | undefined> {
    const rec = this.current?.repomd.records.get('primary');
    if (rec === undefined) return undefined;
    return readSizesSidecar(`${this.cache.dataPath(rec)}.sizes.tsv`, only);
  }

  /**
   * Sizes by NEVRA, for showing a transaction: from primary's facts (written when primary was
   * last parsed), so a dry run on a warm cache (packages from the `.solv`) never parses the XML again
   * (20-60 ms for a small repo, seconds for a distribution's). Falls back to `records()`.
   */
  async payloadSizes(only?: ReadonlySet<string>): Promise<Map<string, PayloadSizes>> {
    const gen = this.current;
    if (gen === undefined) throw new LayerError('LAYER_INTERNAL', `repo ${this.id}: payloadSizes before refresh`);
    const out = new Map<string, PayloadSizes>();
    if (this.primary?.digest !== gen.digest) {
      const fast = await this.sidecarSizes(only);
      if (fast !== undefined) return fast;
      // A cache written before the .tsv kept sizes in the facts; absent or damaged: parse instead.
      const sidecar = (await this.primaryFacts())?.sizes;
      if (sidecar !== undefined && sidecar !== null && typeof sidecar === 'object') {
        for (const [nevra, [d, i]] of Object.entries(sidecar)) {
          if (only && !only.has(nevra)) continue;
          out.set(nevra, { ...(d !== null ? { downloadSize: d } : {}), ...(i !== null ? { installSize: i } : {}) });
        }
        return out;
      }
    }
    for (const r of await this.records()) {
      const k = nevraOf(r);
      if (only && !only.has(k)) continue;
      if (!out.has(k)) out.set(k, { ...(r.downloadSize !== undefined ? { downloadSize: r.downloadSize } : {}), ...(r.installSize !== undefined ? { installSize: r.installSize } : {}) });
    }
    return out;
  }

  /**
   * What downloading the `only` NEVRAs needs (location, checksum, download size): from the
   * sidecar written when primary was last parsed, so a transaction that installs one package
   * of a 63k-package repo does not parse its whole primary again (3.6 s and ~200 MB of peak RSS
   * here, where dnf reads its solv cache). Falls back to records() when the records are already
   * in memory, or the sidecar lacks one of them (an older cache, a location TSV cannot hold).
   */
  async downloadRecords(only: ReadonlySet<string>): Promise<Map<string, DownloadRecord>> {
    const gen = this.current;
    if (gen === undefined) throw new LayerError('LAYER_INTERNAL', `repo ${this.id}: downloadRecords before refresh`);
    const out = new Map<string, DownloadRecord>();
    if (this.primary?.digest !== gen.digest) {
      const rows = await this.sidecarSizes(only);
      for (const [nevra, row] of rows ?? []) {
        const name = parseNevra(nevra)?.name;
        if (row.location === undefined || row.checksum === undefined || name === undefined) continue;
        out.set(nevra, { name, location: row.location, checksum: row.checksum, ...(row.downloadSize !== undefined ? { downloadSize: row.downloadSize } : {}) });
      }
      if ([...only].every((n) => out.has(n))) return out;
      out.clear();
    }
    for (const r of await this.records()) {
      const k = nevraOf(r);
      if (only.has(k) && !out.has(k)) out.set(k, r);
    }
    return out;
  }

  /** All filelists entries by pkgid; undefined when the repo publishes no filelists. */
  async filelists(): Promise<Map<string, FilelistEntry> | undefined> {
    const path = await this.dataFile('filelists');
    if (path === undefined) return undefined;
    const out = new Map<string, FilelistEntry>();
    const rec = this.current!.repomd.records.get('filelists')!;
    await this.checked(path, () => verifyContent(path, rec, `repo ${this.id}: filelists (${path})`, new FilelistsParser((e) => out.set(e.pkgid, e))));
    return out;
  }

  private async mirrors(attempts: Attempt[]): Promise<MirrorPlan> {
    if (this.plan === undefined) {
      const plan = await planMirrors(this.config, this.ctx.fetcher, attempts);
      if (plan.baseurls.length === 0) throw this.failure('no usable mirror', plan, attempts);
      this.plan = plan;
    }
    return this.plan;
  }

  /** Fetch `type` of `gen` from the first base that serves a verifying copy. */
  private async fetchData(gen: CachedRepomd, type: string, bases: string[], attempts: Attempt[] = [], plan?: MirrorPlan): Promise<string> {
    const rec = gen.repomd.records.get(type);
    if (rec === undefined) throw new LayerError('LAYER_INTERNAL', `repo ${this.id}: no ${type} record`);
    if (await this.cache.hasData(rec)) return this.cache.dataPath(rec);
    for (const base of bases) {
      let records: PackageRecord[] = [];
      const sink = (): ContentSink | undefined => {
        if (type === 'primary') {
          records = [];
          return new PrimaryParser((p) => records.push(p));
        }
        if (type === 'filelists') return new FilelistsParser(() => {});
        return undefined;
      };
      try {
        const path = await fetchDataFile({ cfg: this.config, cache: this.cache, fetcher: this.ctx.fetcher, base, rec, report: this.ctx.report, sink });
        if (type === 'primary') {
          this.primary = { digest: gen.digest, records };
          await this.saveFacts(gen, records);
        }
        return path;
      } catch (e) {
        attempts.push(attemptOf(joinUrl(rec.base ?? base, rec.location), e));
        if (bases.length === 1 && plan === undefined) throw e;
      }
    }
    throw this.failure(`cannot fetch ${type}`, plan ?? { baseurls: bases, repomdDigests: [], origin: 'baseurl' }, attempts);
  }

  private failure(what: string, plan: MirrorPlan, attempts: Attempt[]): LayerError {
    const verifying = [...attempts].reverse().find((a) => a.code !== undefined);
    const code = verifying?.code ?? 'LAYER_REPO_UNREACHABLE';
    const tried = attempts.length > 0 ? describeAttempts(attempts) : '  (no URL to try)';
    return new LayerError(code, `repo ${this.id}: ${what} (mirrors from ${plan.origin}); tried:\n${tried}`, {
      hint: `configured at ${this.config.source}; set skip_if_unavailable=1 to go on without it`,
    });
  }
}
