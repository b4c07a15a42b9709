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
import { readHeaderList, type HeaderRow } from './headers.js';
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
  /**
   * The sqlite file read (inside the tree; a WAL db is read from a private copy), or, read
   * through a header list, the database the list was written from.
   */
  readonly file: string;
  /** The open database; none for one read through its header list (its packages are given). */
  readonly #handle: OpenedSqlite | undefined;
  private cache: InstalledPackage[] | undefined;

  /** Use {@link openRpmdb} or {@link openRpmdbWithHeaders}. */
  constructor(file: string, source: OpenedSqlite | readonly HeaderRow[]) {
    this.file = file;
    if (Array.isArray(source)) this.cache = source.map((r: HeaderRow) => this.toInstalled(r.hnum, r.blob));
    else this.#handle = source as OpenedSqlite;
  }

  /** Every installed package, in header-number order. Throws LAYER_RPMDB on a damaged header. */
  packages(): InstalledPackage[] {
    if (this.cache) return this.cache;
    this.cache = this.headerRows().map((r) => this.toInstalled(r.hnum, r.blob));
    return this.cache;
  }

  /** `Packages` as stored: header numbers and blobs (what a header list keeps). */
  headerRows(): HeaderRow[] {
    if (this.cache || !this.#handle) return this.packages().map((p) => ({ hnum: p.hnum, blob: p.header.blob }));
    return this.#handle.db.prepare('SELECT hnum, blob FROM Packages ORDER BY hnum').all() as { hnum: number; blob: Buffer }[];
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
   * Packages owning `path` (absolute, as rpm lists it), like `rpm -qf`. Paths are compared as
   * strings: unlike rpm, symlinked directories are not resolved. Read from the headers, whose
   * BASENAMES are exactly the Basenames index's rows (keys.ts): no SQLite needed for a database
   * read through its header list.
   */
  ownersOf(path: string): InstalledPackage[] {
    const slash = path.lastIndexOf('/');
    const dir = path.slice(0, slash + 1);
    const base = path.slice(slash + 1);
    return this.packages().filter((p) => {
      const names = p.header.strings(TAG.BASENAMES);
      if (!names.includes(base)) return false;
      const dirs = p.header.strings(TAG.DIRNAMES);
      const dirIndexes = p.header.numbers(TAG.DIRINDEXES);
      return names.some((n, i) => n === base && dirs[dirIndexes[i] ?? -1] === dir);
    });
  }

  /**
   * Packages providing `capability` by name, as `rpm -q --whatprovides` finds them through the
   * Providename index, whose rows are the headers' PROVIDENAME entries (keys.ts).
   */
  whatProvides(capability: string): InstalledPackage[] {
    return this.packages().filter((p) => p.header.strings(TAG.PROVIDENAME).includes(capability));
  }

  close(): void {
    this.#handle?.close();
  }

  private toInstalled(hnum: number, blob: Uint8Array): InstalledPackage {
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
  return new Rpmdb(file, openChecked(file));
}

/** `file` opened read-only, once it is known to hold a readable `Packages` table. */
function openChecked(file: string): OpenedSqlite {
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
  return handle;
}

/**
 * The rpmdb `file` read through its header list `list` (headers.ts), written from the same
 * database: everything it answers comes from the list, and SQLite is never loaded. Undefined
 * when the list is missing or damaged: open the database itself then. Only for a database that
 * cannot change (a commit's, cached by checksum).
 */
export function openRpmdbWithHeaders(file: string, list: string): Rpmdb | undefined {
  const rows = readHeaderList(list);
  return rows ? new Rpmdb(file, rows) : undefined;
}
