/**
 * Downloading package files (.rpm) of a solved transaction into a package cache:
 *
 *   <cacheDir>/<repoid>/<basename of location>      verified packages
 *   <cacheDir>/<repoid>/.tmp-*                      downloads in progress
 *
 * Each package is fetched from the repo's mirrors in order (the baseurl that served the
 * metadata first, then baseurl/mirrorlist/metalink as for metadata), streamed to a temp file
 * while hashing, checked against the size and checksum of its primary record, and renamed
 * into place only then. Reading stops at the size primary.xml declares (a reply that goes on
 * fails at once), and each chunk is written before the next is read (backpressure), so memory
 * stays bounded whatever the server sends. A cached copy is re-hashed before use; one that no longer verifies is
 * removed and fetched again (or, cache-only, reported).
 *
 * A package of a local repo (file:// baseurl) is used where it lies, as dnf does: copying it into
 * the cache bought nothing (the repo is on this machine) and cost a new file per package. It is
 * hashed against its primary record like a download; one that is missing or differs goes the
 * usual way (cache, then every mirror).
 *
 * Crash safety: temp + rename; a crash leaves at worst a `.tmp-*` file, removed by the next
 * download into that directory, or a torn cached file, which fails the re-hash and is
 * fetched again (so the cache needs no fsync of its own). Locking: none; one process per cache dir.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { LayerError, ioError } from '../errors.js';
import { silentReport, type Report } from '../report.js';
import type { PackageRecord } from '../solver/types.js';
import { FetchFailure, Fetcher, LARGE_FILE_LIMIT, joinUrl } from '../net/index.js';
import { attemptOf, describeAttempts, fetchOptions, oversize, planMirrors, type Attempt } from './remote.js';
import type { Repo } from './repo.js';

/** One package to download: the repo it comes from and its primary record. */
export interface PackageDownload {
  repo: Repo;
  record: Pick<PackageRecord, 'name' | 'location' | 'checksum' | 'downloadSize'> & { nevra?: string };
}

export interface DownloadOptions {
  /** The package cache root. */
  cacheDir: string;
  /** Never touch the network: every package must be cached already (LAYER_REPO_OFFLINE). */
  cacheOnly?: boolean;
  /** Concurrent downloads (default 4). */
  concurrency?: number;
  report?: Report;
  /** A fetcher to share (default: a new one, closed when done). */
  fetcher?: Fetcher;
}

export interface DownloadedPackage {
  path: string;
  /** True when the verified cached copy was used. */
  cached: boolean;
  bytes: number;
  /** True when the file is the local repo's own copy (nothing was copied into the cache). */
  inPlace?: boolean;
}

const ALGOS = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);

function parseChecksum(what: string, c: string | undefined): { algo: string; hex: string } {
  const i = c?.indexOf(':') ?? -1;
  const algo = i > 0 ? c!.slice(0, i).toLowerCase().replace(/^sha$/, 'sha1') : '';
  if (!c || !ALGOS.has(algo)) {
    throw new LayerError('LAYER_REPO_CORRUPT', `${what}: the repo metadata gives no usable checksum (${JSON.stringify(c ?? null)})`);
  }
  return { algo, hex: c.slice(i + 1).toLowerCase() };
}

/**
 * A file's size and digest, or undefined when it cannot be read. Read synchronously, one MiB at
 * a time, yielding to the event loop between MiBs (a large package never stalls downloads in
 * flight): the files are almost always in the page cache (just downloaded, or a file:// repo),
 * and the async reads' round trips through libuv's pool cost more than the hashing (35
 * packages, 11 MB: 21 ms one after another, 11 ms four at a time, 8 ms synchronously).
 */
async function hashFile(path: string, algo: string): Promise<{ hex: string; size: number } | undefined> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const h = createHash(algo);
  let size = 0;
  try {
    for (;;) {
      const bytesRead = readSync(fd, HASH_BUFFER, 0, HASH_BUFFER.length, size);
      if (bytesRead === 0) break;
      h.update(HASH_BUFFER.subarray(0, bytesRead));
      size += bytesRead;
      if (bytesRead === HASH_BUFFER.length) await new Promise((r) => setImmediate(r));
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
  return { hex: h.digest('hex'), size };
}

/** hashFile's buffer: shared, since the reads and the hashing of one chunk never interleave with another's. */
const HASH_BUFFER = Buffer.allocUnsafe(1 << 20);

/**
 * Download every package of `items` (bounded concurrency), returning the local paths in the
 * same order. Errors name the package, the repo and every URL tried.
 */
export async function downloadPackages(items: readonly PackageDownload[], opts: DownloadOptions): Promise<DownloadedPackage[]> {
  const report = opts.report ?? silentReport;
  const fetcher = opts.fetcher ?? new Fetcher({ concurrency: opts.concurrency ?? 4 });
  const limit = pLimit(opts.concurrency ?? 4);
  const plans = new Map<string, Promise<string[]>>();
  // One sweep of stale `.tmp-*` files per directory, awaited by every download into it: a
  // download must never start its temp file before the sweep that could delete it is over.
  const cleaned = new Map<string, Promise<void>>();
  const bases = (repo: Repo, attempts: Attempt[]): Promise<string[]> => {
    let p = plans.get(repo.id);
    if (p === undefined) {
      p = planMirrors(repo.config, fetcher, attempts).then((plan) => plan.baseurls);
      plans.set(repo.id, p);
    }
    return p;
  };
  const progress = report.progress('download packages', items.length, 'items');
  try {
    return await Promise.all(
      items.map((item) =>
        limit(async () => {
          const r = await downloadOne(item, opts, fetcher, bases, cleaned, report);
          progress.tick(1);
          return r;
        }),
      ),
    );
  } finally {
    progress.done();
    if (opts.fetcher === undefined) await fetcher.close();
  }
}

/** Creates `dir` and removes temp files a killed earlier run left in it. */
async function sweepTemps(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const f of await readdir(dir)) if (f.startsWith('.tmp-')) await rm(join(dir, f), { force: true });
}

/**
 * Stream `url` into the temp file `tmp`, hashing as it goes; returns its size and digest. The
 * fetcher awaits each write before reading on (backpressure) and reads nothing past the size
 * primary.xml declares; a retry truncates and starts over.
 */
async function fetchToTemp(
  fetcher: Fetcher,
  url: string,
  tmp: string,
  o: { item: PackageDownload; algo: string; what: string; report: Report },
): Promise<{ size: number; hex: string }> {
  const { repo, record } = o.item;
  const fh = await open(tmp, 'w');
  let h = createHash(o.algo);
  let size = 0;
  const fo = fetchOptions(repo.config, o.report, basename(url), record.downloadSize);
  const cap = record.downloadSize !== undefined
    ? { maxBytes: record.downloadSize, maxBytesWhat: 'the size the repo metadata declares' }
    : { maxBytes: LARGE_FILE_LIMIT, maxBytesWhat: "layer's 4 GiB limit for packages of undeclared size" };
  try {
    await fetcher.stream(url, { ...fo, ...cap }, {
      reset: async () => {
        h = createHash(o.algo);
        size = 0;
        await fh.truncate(0);
      },
      chunk: async (b) => {
        h.update(b);
        const at = size;
        size += b.length;
        await fh.write(b, 0, b.length, at);
      },
    });
    // No fsync: a cached copy is re-hashed before every use (a torn one is fetched again), and
    // what is imported from it is made durable by the transaction's one syncfs.
  } catch (e) {
    throw oversize(e, `${o.what}: ${url}`);
  } finally {
    await fh.close();
    fo.done();
  }
  return { size, hex: h.digest('hex') };
}

async function downloadOne(
  item: PackageDownload,
  opts: DownloadOptions,
  fetcher: Fetcher,
  bases: (repo: Repo, attempts: Attempt[]) => Promise<string[]>,
  cleaned: Map<string, Promise<void>>,
  report: Report,
): Promise<DownloadedPackage> {
  const { repo, record } = item;
  const what = `package ${record.nevra ?? record.name} from repo ${repo.id}`;
  if (!record.location) throw new LayerError('LAYER_REPO_CORRUPT', `${what}: the repo metadata gives no location`);
  const sum = parseChecksum(what, record.checksum);
  const local = await inPlace(item, sum);
  if (local) return local;
  const dir = join(opts.cacheDir, repo.id);
  let sweep = cleaned.get(dir);
  if (sweep === undefined) {
    sweep = sweepTemps(dir);
    cleaned.set(dir, sweep);
  }
  await sweep;
  const dest = join(dir, basename(record.location));
  const have = await hashFile(dest, sum.algo);
  if (have !== undefined) {
    if (have.hex === sum.hex) return { path: dest, cached: true, bytes: have.size };
    report.warn('package.cache-mismatch', `${what}: cached ${dest} does not match the repo checksum; removing it`);
    await rm(dest, { force: true });
  }
  if (opts.cacheOnly) {
    throw new LayerError('LAYER_REPO_OFFLINE', `${what}: not in the package cache (${dest}) and cache-only mode forbids downloading`, {
      hint: 'run once with network access (without --cacheonly), or use --downloadonly beforehand',
    });
  }
  const attempts: Attempt[] = [];
  const candidates = [...new Set(await bases(repo, attempts))];
  for (const base of candidates) {
    const url = joinUrl(base, record.location);
    const tmp = join(dir, `.tmp-${randomBytes(6).toString('hex')}-${basename(record.location)}`);
    try {
      const { size, hex: got } = await fetchToTemp(fetcher, url, tmp, { item, algo: sum.algo, what, report });
      if (record.downloadSize !== undefined && size !== record.downloadSize) {
        throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: ${url}: size ${size}, repo metadata says ${record.downloadSize}`);
      }
      if (got !== sum.hex) throw new LayerError('LAYER_REPO_CHECKSUM', `${what}: ${url}: ${sum.algo} ${got}, repo metadata says ${sum.hex}`);
      await rename(tmp, dest);
      return { path: dest, cached: false, bytes: size };
    } catch (e) {
      await rm(tmp, { force: true });
      // Our own disk refusing a write is not the mirror's fault: no other mirror can fix it.
      const local = localFault(e, dir);
      if (local) throw local;
      attempts.push(attemptOf(url, e instanceof LayerError || e instanceof FetchFailure ? e : new LayerError('LAYER_INTERNAL', String((e as Error).message ?? e))));
    }
  }
  const code = attempts.some((a) => a.code === 'LAYER_REPO_CHECKSUM') ? 'LAYER_REPO_CHECKSUM' : 'LAYER_REPO_UNREACHABLE';
  throw new LayerError(code, `${what}: cannot download ${record.location}; tried:\n${attempts.length ? describeAttempts(attempts) : '  (no mirror to try)'}`, {
    hint: `configured at ${repo.config.source}`,
  });
}

/** The package as its local repo holds it, when a file:// baseurl has it with the right size and checksum. */
async function inPlace(item: PackageDownload, sum: { algo: string; hex: string }): Promise<DownloadedPackage | undefined> {
  const { repo, record } = item;
  if (!record.location || record.location.split('/').includes('..')) return undefined;
  for (const base of repo.config.baseurls) {
    if (!base.startsWith('file:')) continue;
    let path: string;
    try {
      path = fileURLToPath(joinUrl(base, record.location));
    } catch {
      continue;
    }
    const have = await hashFile(path, sum.algo);
    if (have && have.hex === sum.hex && (record.downloadSize === undefined || have.size === record.downloadSize)) {
      return { path, cached: false, bytes: have.size, inPlace: true };
    }
  }
  return undefined;
}

/** A system error of this machine's cache (disk full, read-only, quota, or a path under `dir`) as LAYER_IO. */
function localFault(e: unknown, dir: string): LayerError | undefined {
  const io = ioError(e, 'writing the package cache');
  if (!io) return undefined;
  const { code, path } = e as { code: string; path?: string };
  const always = ['ENOSPC', 'EDQUOT', 'EROFS', 'EIO', 'EFBIG'].includes(code);
  return always || (path !== undefined && path.startsWith(dir)) ? io : undefined;
}
