/**
 * Reading an installed rpmdb: headers, NEVRAs, solver records and file ownership.
 *
 * Locking: none. The database is opened read-only in place, or copied first when it is in WAL
 * mode (sqlite.ts), so a concurrent rpm writer is never blocked and the tree is never written.
 */
import { LayerError, withContext } from '../errors.js';
import { parseHeaderBlob, type RpmHeader, TAG } from '../rpm/index.js';
import type { Nevra, PackageRecord } from '../solver/types.js';
import { locateRpmdb } from './locate.js';
import { headerRecord } from './record.js';
import { openSqliteReadOnly, type OpenedSqlite } from './sqlite.js';

/** One row of `Packages`, parsed. */
export interface InstalledPackage extends NevraParts {
  /** rpm's header number (`Packages.hnum`); what `rpm -q --qf '%{DBINSTANCE}'` prints. Arch is '' for gpg-pubkey. */
  hnum: number;
  nevra: Nevra;
  /** The stored header, including install-time tags; hand it back to writeRpmdb unchanged. */
  header: RpmHeader;
}

/** `name-[epoch:]version-release[.arch]`, epoch left out when 0, as rpm's `%{nevra}` minus `0:` (src/nevra.ts). */
import { formatNevra, type NevraParts } from '../nevra.js';
export { formatNevra };

export class Rpmdb {
  /** The sqlite file that was opened (inside the tree; a WAL db is read from a private copy). */
  readonly file: string;
  private readonly handle: OpenedSqlite;
  private cache: InstalledPackage[] | undefined;

  /** Use {@link openRpmdb}. */
  constructor(file: string, handle: OpenedSqlite) {
    this.file = file;
    this.handle = handle;
  }

  /** Every installed package, in header-number order. Throws LAYER_RPMDB on a damaged header. */
  packages(): InstalledPackage[] {
    if (this.cache) return this.cache;
    const rows = this.handle.db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all() as { hnum: number; blob: Buffer }[];
    this.cache = rows.map((r) => this.toInstalled(r.hnum, r.blob));
    return this.cache;
  }

  nevras(): Nevra[] {
    return this.packages().map((p) => p.nevra);
  }

  /** Solver records for the installed repo (same shape the rpm/ and repos/ stages produce). */
  records(): PackageRecord[] {
    return this.packages().map((p) => {
      try {
        return headerRecord(p.header);
      } catch (err) {
        throw withContext(`${this.file}: header #${p.hnum}`, err);
      }
    });
  }

  /**
   * Packages owning `path` (absolute, as rpm lists it), through the Basenames index like `rpm -qf`.
   * Paths are compared as strings: unlike rpm, symlinked directories are not resolved.
   */
  ownersOf(path: string): InstalledPackage[] {
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash + 1);
    const base = path.slice(slash + 1);
    const hits = this.handle.db.prepare('SELECT hnum, idx FROM Basenames WHERE key = ? ORDER BY hnum, idx').all(base) as { hnum: number; idx: number }[];
    const byHnum = new Map(this.packages().map((p) => [p.hnum, p]));
    const out: InstalledPackage[] = [];
    for (const { hnum, idx } of hits) {
      const p = byHnum.get(hnum);
      if (!p || out.includes(p)) continue;
      const dirs = p.header.strings(TAG.DIRNAMES);
      const dirIndex = p.header.numbers(TAG.DIRINDEXES)[idx];
      if (dirIndex !== undefined && dirs[dirIndex] === dir) out.push(p);
    }
    return out;
  }

  /** Packages providing `capability` by name (the Providename index, as `rpm -q --whatprovides` uses it). */
  whatProvides(capability: string): InstalledPackage[] {
    const hnums = this.handle.db.prepare('SELECT DISTINCT hnum FROM Providename WHERE key = ? ORDER BY hnum').all(capability) as { hnum: number }[];
    const byHnum = new Map(this.packages().map((p) => [p.hnum, p]));
    return hnums.map((r) => byHnum.get(r.hnum)).filter((p): p is InstalledPackage => p !== undefined);
  }

  close(): void {
    this.handle.close();
  }

  private toInstalled(hnum: number, blob: Buffer): InstalledPackage {
    let header: RpmHeader;
    try {
      header = parseHeaderBlob(new Uint8Array(blob.buffer, blob.byteOffset, blob.byteLength).slice(), `${this.file}: header #${hnum}`);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new LayerError('LAYER_RPMDB', `damaged rpmdb: ${msg}`, { cause: err, hint: 'try `rpm --rebuilddb` on a copy' });
    }
    const name = header.string(TAG.NAME);
    const version = header.string(TAG.VERSION);
    const release = header.string(TAG.RELEASE);
    if (name === undefined || version === undefined || release === undefined) {
      throw new LayerError('LAYER_RPMDB', `${this.file}: header #${hnum} lacks name, version or release`);
    }
    const p = { hnum, name, epoch: header.number(TAG.EPOCH) ?? 0, version, release, arch: header.string(TAG.ARCH) ?? '', header };
    return { ...p, nevra: formatNevra(p) };
  }
}

/**
 * Opens the rpmdb of a tree (`treeRoot`), a dbpath directory, or an `rpmdb.sqlite` file.
 * Throws LAYER_RPMDB when there is none, it is not sqlite (bdb/ndb are named), or it is damaged.
 * Call `close()` when done.
 */
export function openRpmdb(target: string): Rpmdb {
  const file = locateRpmdb(target);
  const handle = openSqliteReadOnly(file);
  try {
    const has = handle.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'Packages'").get();
    if (!has) throw new LayerError('LAYER_RPMDB', `${file}: SQLite database without a Packages table: not an rpmdb`);
    handle.db.prepare('SELECT count(*) FROM Packages').get();
  } catch (err) {
    handle.close();
    if (err instanceof LayerError) throw err;
    throw new LayerError('LAYER_RPMDB', `${file}: unreadable rpmdb: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return new Rpmdb(file, handle);
}
