/**
 * On-disk metadata cache of one repo, `<cacheDir>/<repoid>/`:
 *
 *   repomd.xml            the committed index; everything below is only trusted through it
 *   state.json            { fetchedAt, baseurl } of that repomd (drives metadata_expire)
 *   data/<hex>-<name>     verified metadata files, named by their repomd checksum
 *   solv/<key>.solv       libsolv cache of a load, keyed by the repomd digest (+ variant)
 *   tmp/<pid>/            downloads in progress, per process
 *
 * Crash safety: every file is written to tmp/ (or a `.tmp` sibling) and renamed into place only
 * after its checksum (and decompressed checksum, and parse) verified. Data files are
 * content-addressed, so a new download never overwrites the last good copy; repomd.xml is
 * renamed last, which commits the new generation. A crash at any point leaves the previous
 * generation complete. Old data files are removed only after the commit.
 * Locking: none needed for safety: temp files are per process, data files are content-addressed
 * (two writers rename identical bytes), repomd.xml/state.json are replaced atomically (last
 * writer wins, each a complete generation). Leftovers of dead processes are removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { accessSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parseRepomd, type Repomd, type RepomdRecord } from './repomd.js';

export interface CacheState {
  /** ms since epoch when repomd.xml was last fetched (or confirmed unchanged). */
  fetchedAt: number;
  baseurl: string;
}

export interface CachedRepomd {
  bytes: Uint8Array;
  repomd: Repomd;
  /** sha256 of repomd.xml: the key of everything derived from this generation. */
  digest: string;
  state: CacheState | undefined;
}

export class RepoCache {
  readonly dir: string;

  constructor(cacheDir: string, repoId: string) {
    this.dir = join(cacheDir, repoId);
  }

  /** Per-process temp dir, so two processes refreshing one cache never delete each other's work. */
  get tmpDir(): string {
    return join(this.dir, 'tmp', String(process.pid));
  }

  private tmpMade = false;

  /** Create the layout and drop leftovers of interrupted downloads (of processes now gone). */
  async prepare(): Promise<void> {
    const root = join(this.dir, 'tmp');
    // data/ and solv/; then dead processes' temp dirs are swept. This process's own temp dir is made by
    // the first tmpPath(): most commands write nothing here, and a directory made and swept
    // again per repo and command cost two inode operations (0.3-1 ms each on the bench disk).
    // Synchronously, as read() and hasData(): each call is microseconds, and a thread-pool round
    // trip per call, for every repo on every command, cost more than the calls (the first plan's
    // refresh of six cached repos: ~7 ms through the pool, stage marks of single upgrades).
    for (const d of [join(this.dir, 'data'), join(this.dir, 'solv')]) mkdirSync(d, { recursive: true });
    let left: string[];
    try {
      left = readdirSync(root);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      left = [];
    }
    const dead = left.filter((d) => d !== String(process.pid) && !alive(Number(d)));
    await Promise.all(dead.map((d) => rm(join(root, d), { recursive: true, force: true })));
  }

  /** A fresh temp path inside the cache (same filesystem, so rename is atomic). */
  tmpPath(hint: string): string {
    if (!this.tmpMade) {
      mkdirSync(this.tmpDir, { recursive: true });
      this.tmpMade = true;
    }
    return join(this.tmpDir, `${randomBytes(6).toString('hex')}-${hint}`);
  }

  /** The committed repomd, or undefined when there is none or it is unreadable. */
  async read(): Promise<CachedRepomd | undefined> {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(this.dir, 'repomd.xml'));
    } catch {
      return undefined;
    }
    let repomd: Repomd;
    try {
      repomd = parseRepomd(bytes, join(this.dir, 'repomd.xml'));
    } catch {
      return undefined;
    }
    let state: CacheState | undefined;
    try {
      state = JSON.parse(readFileSync(join(this.dir, 'state.json'), 'utf8')) as CacheState;
    } catch {
      state = undefined;
    }
    return { bytes, repomd, digest: sha256(bytes), state };
  }

  dataPath(rec: RepomdRecord): string {
    // createrepo_c names files `<checksum>-<type>...` already; other layouts get the prefix.
    const name = basename(rec.location);
    return join(this.dir, 'data', name.startsWith(`${rec.checksum.hex}-`) ? name : `${rec.checksum.hex}-${name}`);
  }

  /** Whether the verified copy of `rec` is present (size checked; content was verified before rename). */
  async hasData(rec: RepomdRecord): Promise<boolean> {
    try {
      const st = statSync(this.dataPath(rec));
      return rec.size === undefined || st.size === rec.size;
    } catch {
      return false;
    }
  }

  /** Move a verified temp file into data/. */
  async commitData(tmp: string, rec: RepomdRecord): Promise<string> {
    const dest = this.dataPath(rec);
    await rename(tmp, dest);
    return dest;
  }

  /** Commit a new generation: state first, repomd.xml last (the commit point), then prune. */
  async commitRepomd(bytes: Uint8Array, state: CacheState): Promise<void> {
    await writeAtomic(join(this.dir, 'state.json'), JSON.stringify(state), this.tmpPath('state'));
    await writeAtomic(join(this.dir, 'repomd.xml'), bytes, this.tmpPath('repomd'));
    await this.prune(parseRepomd(bytes, 'repomd.xml'), sha256(bytes));
  }

  /** Refresh the timestamp of an unchanged generation. */
  async touch(state: CacheState): Promise<void> {
    await writeAtomic(join(this.dir, 'state.json'), JSON.stringify(state), this.tmpPath('state'));
  }

  solvPath(key: string): string {
    return join(this.dir, 'solv', `${key}.solv`);
  }

  async writeSolv(key: string, bytes: Uint8Array, info: unknown): Promise<void> {
    await writeAtomic(`${this.solvPath(key)}.json`, JSON.stringify(info), this.tmpPath('solvinfo'));
    await writeAtomic(this.solvPath(key), bytes, this.tmpPath('solv'));
  }

  async dropSolv(key: string): Promise<void> {
    await rm(this.solvPath(key), { force: true });
    await rm(`${this.solvPath(key)}.json`, { force: true });
  }

  /** The sidecar info of a cached `.solv`, without reading the `.solv` itself (undefined when either is missing). */
  async readSolvInfo(key: string): Promise<unknown> {
    // Synchronously: a sidecar of a few bytes, looked up once per repo and plan. Through libuv's
    // pool each lookup waited behind whatever else was queued there (the layered plan of an
    // upgrade: 6-8 ms for its first repo, stage marks of single runs) for a read of microseconds.
    try {
      accessSync(this.solvPath(key), constants.R_OK);
      return JSON.parse(readFileSync(`${this.solvPath(key)}.json`, 'utf8')) as unknown;
    } catch {
      return undefined;
    }
  }

  /**
   * A cached `.solv`: its path (libsolv reads the file itself, in chunks) and its sidecar info;
   * undefined when either is missing.
   */
  async cachedSolv(key: string): Promise<{ path: string; info: unknown } | undefined> {
    const info = await this.readSolvInfo(key);
    return info === undefined ? undefined : { path: this.solvPath(key), info };
  }

  /** Remove data files and solv caches the current generation does not reference. */
  private async prune(repomd: Repomd, digest: string): Promise<void> {
    const keep = new Set([...repomd.records.values()].map((r) => basename(this.dataPath(r))));
    for (const f of await readdir(join(this.dir, 'data'))) {
      // A data file's sidecars (repo.ts: facts, sizes) go with it, not before it.
      if (!keep.has(f.replace(/\.(facts\.json|sizes\.tsv)$/, ''))) await rm(join(this.dir, 'data', f), { force: true });
    }
    for (const f of await readdir(join(this.dir, 'solv'))) {
      if (!f.startsWith(digest)) await rm(join(this.dir, 'solv', f), { force: true });
    }
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function sha256(b: Uint8Array | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Write via a temp file and rename, so readers see the old or the new content, never a part. */
export async function writeAtomic(dest: string, data: Uint8Array | string, tmp: string): Promise<void> {
  await writeFile(tmp, data, { flush: true });
  await rename(tmp, dest);
}
