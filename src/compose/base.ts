/**
 * The installed set of a base commit: its rpmdb, read straight from the store (no checkout),
 * from the first of rpmdb's locations that holds a database (usr/lib/sysimage/rpm, then
 * rpm-ostree's usr/share/rpm, then var/lib/rpm), symlinked directories followed inside the tree.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { LayerError, withContext } from '../errors.js';
import { openRpmdb, openRpmdbWithHeaders, Rpmdb, RPMDB_DIRS, writeHeaderList, type HeaderRow, type InstalledPackage } from '../rpmdb/index.js';
import type { PackageRecord } from '../solver/types.js';
import type { Checksum, Store } from '../store/index.js';
import { createScratch, type Scratch } from './scratch.js';

export interface BaseSet {
  commit: string | null;
  /** Installed packages in rpmdb (header number) order; empty for a compose from scratch. */
  packages: InstalledPackage[];
  records: PackageRecord[];
  /** The opened database (for ownersOf / whatProvides); undefined without a base. */
  rpmdb: Rpmdb | undefined;
}

/** Follow symlinks of `rel` (a directory path) inside the commit, at most 8 hops. */
function resolveDir(store: Store, commit: string, rel: string): string | undefined {
  const parts = rel.split('/');
  let cur = '';
  for (let i = 0, hops = 0; i < parts.length; i++) {
    const next = cur ? `${cur}/${parts[i]}` : parts[i]!;
    const e = store.stat(commit, next);
    if (e === undefined) return undefined;
    if (e.type === 'symlink' && e.target !== undefined) {
      if (++hops > 8) return undefined;
      const t = e.target.startsWith('/') ? e.target.slice(1) : posix.join(cur, e.target);
      const rest = parts.slice(i + 1).join('/');
      return resolveDir(store, commit, posix.normalize(rest ? `${t}/${rest}` : t));
    }
    if (e.type !== 'dir') return undefined;
    cur = next;
  }
  return cur;
}

/** Base rpmdbs kept in the cache (the current base and a few recent ones). */
const KEEP_CACHED_BASES = 4;

/**
 * The BaseSet of a commit this process just composed, from the rpmdb rows apply wrote into it
 * (ApplyResult.rpmdbRows): what readBase would read back, without extracting the database from
 * the store, writing it to the cache and opening it with SQLite (~25 ms of an upgrade, between
 * composing its base and planning the layered packages on it).
 */
export function baseFromRows(commit: Checksum, rows: readonly HeaderRow[]): BaseSet {
  const rpmdb = new Rpmdb(`commit ${commit}: rpmdb as written`, rows);
  return { commit, packages: rpmdb.packages(), records: rpmdb.records(), rpmdb };
}

/**
 * readBase for the length of `use`: a scratch directory is made only if the database must be
 * extracted (a tree from nothing needs none, a cached database neither: a directory made and
 * removed is two inode operations, 0.3-1 ms each on the bench disk), and the database is closed
 * and the directory removed when `use` is done.
 */
export async function withBase<T>(store: Store, commit: string | null, cacheDir: string, use: (base: BaseSet) => Promise<T>): Promise<T> {
  let scratch: Scratch | undefined;
  try {
    const base = await readBase(store, commit, async () => (scratch ??= await createScratch(cacheDir)).path, cacheDir);
    try {
      return await use(base);
    } finally {
      base.rpmdb?.close();
    }
  } finally {
    await scratch?.release();
  }
}

/**
 * Read the base commit's rpmdb and open it. A base without one is an error.
 *
 * With `cacheDir`, the database is extracted once per base commit to
 * `cacheDir/base-rpmdb/<checksum>/rpmdb.sqlite` (a commit never changes, so neither does its
 * rpmdb) and later composes open that copy read-only: a warm dry run skips the store lookups,
 * the copy and its removal (~8 ms). Beside it goes the database's header list
 * (rpmdb/headers.ts), from which the installed set is read without loading SQLite at all: a
 * dry run on the 63k repo peaked ~4 MB higher, and took a few ms longer, with it. Without
 * `cacheDir` (or when the cached copy is unusable), the database is copied into `scratch` as
 * before (given as a function, it is asked for only then).
 */
export async function readBase(
  store: Store, commit: string | null, scratch: string | (() => Promise<string>), cacheDir?: string,
): Promise<BaseSet> {
  if (commit === null) return { commit, packages: [], records: [], rpmdb: undefined };
  const checksum = store.resolveRef(commit);
  const cached = cacheDir === undefined ? undefined : join(cacheDir, 'base-rpmdb', checksum);
  if (cached !== undefined && existsSync(join(cached, 'rpmdb.sqlite'))) {
    try {
      const file = join(cached, 'rpmdb.sqlite');
      const rpmdb = openRpmdbWithHeaders(file, join(cached, HEADER_LIST)) ?? listed(openRpmdb(file), cached);
      return { commit: checksum, packages: rpmdb.packages(), records: rpmdb.records(), rpmdb };
    } catch {
      // Only a cache: a damaged copy is dropped and the store's database read again below.
      await rm(cached, { recursive: true, force: true });
    }
  }
  for (const dir of RPMDB_DIRS) {
    // A file found at the literal path means no component is a symlink: resolveDir would
    // return the same path after one store lookup per component (~5 ms of tree decoding).
    const literal = store.stat(checksum, `${dir}/rpmdb.sqlite`)?.type === 'file';
    const real = literal ? dir : resolveDir(store, checksum, dir);
    if (real === undefined || (!literal && store.stat(checksum, `${real}/rpmdb.sqlite`)?.type !== 'file')) continue;
    const bytes = store.readFile(checksum, `${real}/rpmdb.sqlite`);
    // With a cache the copy goes there (and is dropped if it does not open): no scratch needed.
    const kept = cached !== undefined && (await keepCopy(cached, bytes));
    let local: string;
    if (kept && cached !== undefined) local = cached;
    else {
      // A function makes the scratch directory only now: a warm cache needs none.
      local = join(typeof scratch === 'string' ? scratch : await scratch(), 'base-rpmdb');
      await mkdir(local, { recursive: true });
      await writeFile(join(local, 'rpmdb.sqlite'), bytes);
    }
    try {
      const opened = openRpmdb(join(local, 'rpmdb.sqlite'));
      const rpmdb = kept ? listed(opened, local) : opened;
      return { commit: checksum, packages: rpmdb.packages(), records: rpmdb.records(), rpmdb };
    } catch (err) {
      if (kept && cached !== undefined) await rm(cached, { recursive: true, force: true });
      throw withContext(`base commit ${checksum}: /${real}/rpmdb.sqlite`, err);
    }
  }
  throw new LayerError('LAYER_RPMDB', `base commit ${checksum} has no rpmdb (looked in ${RPMDB_DIRS.map((d) => `/${d}`).join(', ')})`, {
    hint: 'a base must carry the rpm database of the packages it contains',
  });
}

/** The header list a cached base rpmdb keeps beside it. */
const HEADER_LIST = 'headers.list';

/**
 * Write the header list of `rpmdb` (a cached base's) into `dir`, if it is not there yet.
 * A cache: failing to write it only means the next command reads SQLite again.
 */
function listed(rpmdb: Rpmdb, dir: string): Rpmdb {
  try {
    rpmdb.packages(); // parsed once: the rows below come from it, not from a second query
    writeHeaderList(join(dir, HEADER_LIST), rpmdb.headerRows());
  } catch {
    // Read-only cache, full disk: the database itself still answers.
  }
  return rpmdb;
}

/**
 * Publish a base rpmdb under `dest` (a temp directory renamed into place, so readers see a
 * whole file or none; a concurrent writer's copy is as good as ours), then drop all but the few
 * most recently extracted. True when `dest` holds the database; failing to cache is not an
 * error (false): the caller copies into its scratch directory instead.
 */
async function keepCopy(dest: string, bytes: Uint8Array): Promise<boolean> {
  const parent = dirname(dest);
  try {
    await mkdir(parent, { recursive: true });
    const tmp = await mkdtemp(join(parent, '.tmp-'));
    await writeFile(join(tmp, 'rpmdb.sqlite'), bytes);
    await rename(tmp, dest).catch(() => rm(tmp, { recursive: true, force: true }));
    const names = await readdir(parent);
    const age = async (n: string) => (await stat(join(parent, n)).catch(() => undefined))?.mtimeMs ?? 0;
    const bases = await Promise.all(names.filter((n) => !n.startsWith('.tmp-')).map(async (n) => ({ n, t: await age(n) })));
    const stale = bases.sort((a, b) => b.t - a.t).slice(KEEP_CACHED_BASES).map((e) => e.n);
    // Temp dirs of killed processes (an hour old: a live writer needs milliseconds).
    for (const n of names.filter((n) => n.startsWith('.tmp-'))) if (Date.now() - (await age(n)) > 3600_000) stale.push(n);
    for (const n of stale) await rm(join(parent, n), { recursive: true, force: true });
    return existsSync(join(dest, 'rpmdb.sqlite'));
  } catch {
    return false;
  }
}
