/**
 * repos/: configure, fetch, verify, cache and load rpm-md metadata.
 *
 * Typical use:
 * ```ts
 * const configs = await readRepoConfigs('/etc/yum.repos.d', { varsDir: '/etc/dnf/vars', releasever: '9' });
 * const set = new RepoSet(configs, { cacheDir: '/var/cache/layer/repos', report });
 * await set.refresh({ cacheOnly });          // LAYER_REPO_* errors name repo, file and URLs
 * await set.load(pool, { specs });           // .solv cache keyed by repomd.xml digest
 * await set.close();
 * ```
 *
 * - `readRepoConfigs(dir, opts)` / `parseRepoFile`: `.repo` files → RepoConfig (formats.md §6.4).
 * - `RepoSet.refresh({ cacheOnly, force, filelists })`: per repo `fresh` (within
 *   metadata_expire, no network), `unchanged`, `updated`, `cached` (cacheOnly) or `skipped`.
 * - `RepoSet.load(pool, { needFilelists, specs, loader })`: adds each repo to a solver Pool with
 *   dnf priority/cost mapped (priority → -priority, cost → subpriority), excludepkgs/includepkgs
 *   applied, filelists only when needed; from the `.solv` cache when repomd.xml is unchanged.
 * - `Repo`: `records()` (parsed primary of the current generation), `dataFile(type)` for any
 *   other metadata (`other`, `modules`, `updateinfo`) on request, `digest`, `revision`.
 * - `downloadPackages(items, { cacheDir, cacheOnly })`: verified `.rpm` downloads for a
 *   transaction (packages.ts), each read no further than the size primary.xml declares.
 * - Transfers go through net/'s Fetcher: byte caps, minrate/timeout from the repo file, a
 *   deadline per file, retries within a budget (README "Downloads: what a mirror can cost").
 * - Errors: LAYER_REPO_CONFIG (file:line), LAYER_REPO_UNREACHABLE (repo + every URL tried and
 *   why), LAYER_REPO_CHECKSUM / LAYER_REPO_CORRUPT (repo + file), LAYER_REPO_OFFLINE.
 * - `parsePrimary(input)` → PackageRecord[] and `parseFilelists(input)`: streaming readers of
 *   decompressed XML (bytes, string or async chunks); `PrimaryParser`/`FilelistsParser` are the
 *   push forms. `depString` renders an `<rpm:entry>` as rpm prints it.
 */
export { readRepoConfigs, parseRepoFile, parseSeconds, type ReadRepoConfigsOptions } from './config.js';
export { readDnfConf, parseDnfConf, type DnfMainConfig } from './dnf-conf.js';
export { substitute, loadVars, baseArch, type Vars } from './vars.js';
export type { RepoConfig } from './types.js';
export { RepoSet, repoPackageKey, type RepoPackage, type RepoSetOptions, type RefreshOutcome, type LoadOptions } from './repo-set.js';
export { Repo, type DownloadRecord, type PayloadSizes, type RefreshStatus, type RefreshOptions } from './repo.js';
export { type LoadedRepo, type PoolLike, type SolverRepoLike, type LoaderKind } from './load.js';
export { needsFullFilelists } from './deps.js';
export { parsePrimary, PrimaryParser, depString, type XmlInput } from './primary.js';
export { parseFilelists, FilelistsParser, mergeFilelists, isPrimaryFile, type FilelistEntry } from './filelists.js';
export { parseRepomd, type Repomd, type RepomdRecord, type Digest } from './repomd.js';
export { parseMirrorlist, parseMetalink, type Metalink } from './mirrors.js';
export { decompressFile, sniffCompression, type Compression } from './verify.js';
export { downloadPackages, type PackageDownload, type DownloadOptions, type DownloadedPackage } from './packages.js';
