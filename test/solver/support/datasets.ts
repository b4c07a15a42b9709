/**
 * The real rpm-md data the parity tests and the solver benchmark run on, located and loaded in
 * one place. Missing data is an error naming the path or the command that makes it: these
 * tests never skip silently.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeFilelists, parseFilelists, parsePrimary } from '../../../src/repos/index.js';
import type { PackageRecord } from '../../../src/solver/types.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CACHE_DIR = join(ROOT, '.cache', 'solver-parity');
export const SHARED_REPOS = join(ROOT, '..', 'shared', 'data', 'repos');
export const DEB63K_DIR = join(ROOT, '.cache', 'deb63k');
export const DEB63K_COMMAND = 'bash fixtures/deb63k/generate.sh';

/** Reads a metadata file, gunzipping it when the name ends in `.gz`. */
export function readMetadata(path: string): Buffer {
  const raw = readFileSync(path);
  return path.endsWith('.gz') ? gunzipSync(raw) : raw;
}

export type DatasetName = 'cs9-baseos-2022' | 'cs9-appstream-2025' | 'deb63k';

/** One rpm-md repo on disk and lazily loaded views of it. */
export class Dataset {
  readonly name: DatasetName;
  readonly dir: string;
  readonly primaryPath: string;
  /** Absent when repomd.xml lists no filelists or the listed file is not on disk. */
  readonly filelistsPath: string | undefined;
  #primary: Buffer | undefined;
  #filelists: Buffer | null | undefined;
  #records: Promise<PackageRecord[]> | undefined;

  constructor(name: DatasetName, dir: string) {
    this.name = name;
    this.dir = dir;
    const repomdPath = join(dir, 'repodata', 'repomd.xml');
    if (!existsSync(repomdPath)) throw new Error(`dataset ${name}: missing ${repomdPath}`);
    const repomd = readFileSync(repomdPath, 'utf8');
    const href = (type: string): string | undefined => {
      const m = new RegExp(`<data type="${type}">[\\s\\S]*?<location href="([^"]+)"`).exec(repomd);
      return m ? join(dir, m[1]!) : undefined;
    };
    const primary = href('primary');
    if (!primary || !existsSync(primary)) throw new Error(`dataset ${name}: primary listed in ${repomdPath} is missing (${primary ?? 'not listed'})`);
    this.primaryPath = primary;
    // cs9-appstream-2025's repomd lists files that are not shipped; filelists there is a stub.
    const fl = href('filelists');
    this.filelistsPath = fl && existsSync(fl) ? fl : undefined;
  }

  /** Decompressed primary.xml bytes. */
  primaryXml(): Buffer {
    return (this.#primary ??= readMetadata(this.primaryPath));
  }

  /** Decompressed filelists.xml bytes, if the repo has them. */
  filelistsXml(): Buffer | undefined {
    if (this.#filelists === undefined) this.#filelists = this.filelistsPath ? readMetadata(this.filelistsPath) : null;
    return this.#filelists ?? undefined;
  }

  /**
   * Primary + filelists as PackageRecords (the `kind: 'records'` input), read by repos/'
   * parser: the parity suite thereby also checks that parser against libsolv's own reader.
   */
  records(): Promise<PackageRecord[]> {
    return (this.#records ??= (async () => {
      const records = await parsePrimary(this.primaryXml());
      const filelists = this.filelistsXml();
      if (filelists) mergeFilelists(records, await parseFilelists(filelists));
      return records;
    })());
  }
}

const cache = new Map<DatasetName, Dataset>();

/**
 * Opens a dataset. The CentOS ones come from ../shared/data; deb63k is generated on first use
 * (a few seconds) from Debian's apt lists, and the error says how to make it by hand.
 */
export function dataset(name: DatasetName): Dataset {
  const hit = cache.get(name);
  if (hit) return hit;
  let dir: string;
  if (name === 'deb63k') {
    if (!existsSync(join(DEB63K_DIR, 'repodata', 'repomd.xml'))) {
      try {
        execFileSync('bash', [join(ROOT, 'fixtures/deb63k/generate.sh')], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (err) {
        const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? '';
        throw new Error(`dataset deb63k is missing at ${DEB63K_DIR} and could not be made (${stderr}); ` +
          `run: apt-get update && ${DEB63K_COMMAND}`);
      }
    }
    dir = DEB63K_DIR;
  } else {
    dir = join(SHARED_REPOS, name);
    if (!existsSync(dir)) throw new Error(`dataset ${name}: missing ${dir} (the read-only ../shared checkout)`);
  }
  const d = new Dataset(name, dir);
  cache.set(name, d);
  return d;
}

/** `name-[epoch:]version-release.arch`, the form testsolv prints and Nevra uses. */
export function nevraOf(r: Pick<PackageRecord, 'name' | 'epoch' | 'version' | 'release' | 'arch'>): string {
  return `${r.name}-${r.epoch ? `${r.epoch}:` : ''}${r.version}-${r.release}.${r.arch}`;
}
