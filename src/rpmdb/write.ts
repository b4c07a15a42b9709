/**
 * Writing a tree's rpmdb from scratch, as rpm 4.16+ would after installing the same packages
 * (formats.md §5): all 18 index tables with rpm's rows, headers carrying install-time tags,
 * journal_mode DELETE so read-only and non-root readers can open it (§5.4).
 *
 * Crash safety: the database is built in a temp file in the same directory, fsynced, and
 * renamed over `rpmdb.sqlite`; a crash leaves either the old database or the new one, plus at
 * worst a stray `.rpmdb.sqlite.tmp-*` that the next write removes. A replaced rpm-written
 * database is first checkpointed into its main file and its `-wal`/`-shm` removed (settleOld),
 * because SQLite would replay a stale WAL onto the new file.
 * Locking: none; the caller owns the tree being composed (no rpm may run on it concurrently).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openSqlite } from './driver.js';
import type { HeaderRow } from './headers.js';
import { LayerError, withContext } from '../errors.js';
import { parseHeaderBlob, type RpmHeader, TAG } from '../rpm/index.js';
import { installedHeaderBlob, type InstallStamp } from './installed.js';
import { indexRows } from './keys.js';
import { rpmdbWriteDir, SQLITE_NAME } from './locate.js';
import { resolveInTree } from './treepath.js';
import { createSchema, INDEX_TABLES } from './schema.js';

/** One package to record. */
export type RpmdbEntry =
  /** A header read from an existing rpmdb (openRpmdb): stored verbatim, install tags and all. */
  | { kind: 'installed'; header: RpmHeader }
  /** A package file's headers: install-time tags are added (formats.md §5.3). */
  | {
      kind: 'package';
      header: RpmHeader;
      signatureHeader: RpmHeader | undefined;
      /** Per-file FILESTATES (0 normal, 2 not installed, ...); default all normal. */
      fileStates?: readonly number[];
    };

/** The entry for a package file opened with src/rpm's `openRpm` (what compose layers). */
export function packageEntry(pkg: { header: RpmHeader; signatureHeader: RpmHeader }, fileStates?: readonly number[]): RpmdbEntry {
  return { kind: 'package', header: pkg.header, signatureHeader: pkg.signatureHeader, ...(fileStates ? { fileStates } : {}) };
}

/** The entry keeping a package of an existing rpmdb (`openRpmdb(base).packages()`) as it is. */
export function installedEntry(pkg: { header: RpmHeader }): RpmdbEntry {
  return { kind: 'installed', header: pkg.header };
}

/** Symlinks that make other tools find the database (formats.md §5.1). */
export type RpmdbLink = 'usr/share/rpm' | 'var/lib/rpm';

export interface WriteRpmdbOptions extends InstallStamp {
  /**
   * Compatibility symlinks to the real directory, created only where nothing exists yet.
   * Default `['usr/share/rpm']` (rpm-ostree's location). `var/lib/rpm` (upstream's %_dbpath)
   * is opt-in: in an ostree deployment /var is not taken from the commit.
   */
  links?: readonly RpmdbLink[];
  /**
   * fsync the file before its rename and the directory after (default true). A tree that is
   * committed to the store next gets its durability there (one syncfs before any ref names
   * it): syncing the scratch copy first only waits for the disk.
   */
  durable?: boolean;
}

export interface WrittenRpmdb {
  /** The database file inside the tree. */
  file: string;
  packages: number;
  /** Its Packages rows, as openRpmdb would read them back. */
  rows: HeaderRow[];
}

const LINK_TARGETS: Record<RpmdbLink, string> = {
  'usr/share/rpm': '../lib/sysimage/rpm',
  'var/lib/rpm': '../../usr/lib/sysimage/rpm',
};

function blobOf(entry: RpmdbEntry, stamp: InstallStamp, i: number): { blob: Uint8Array; header: RpmHeader } {
  const name = entry.header.string(TAG.NAME) ?? `entry ${i}`;
  if (entry.kind === 'installed') return { blob: entry.header.blob, header: entry.header };
  const blob = installedHeaderBlob(entry.header, entry.signatureHeader, stamp, name, { ...(entry.fileStates ? { fileStates: entry.fileStates } : {}) });
  // Re-parse what we built: it proves the blob is well-formed and gives the indexer the dribbles.
  return { blob, header: parseHeaderBlob(blob, `${name} (installed header)`) };
}

/** Each entry's installed header blob, checked; LAYER_RPMDB naming the package on bad input. */
function builtEntries(entries: readonly RpmdbEntry[], opts: WriteRpmdbOptions): Array<{ blob: Uint8Array; header: RpmHeader }> {
  if (!Number.isInteger(opts.installTid) || opts.installTid < 0 || opts.installTid > 0xffffffff) {
    throw new LayerError('LAYER_RPMDB', `installTid ${opts.installTid} is not a u32`);
  }
  return entries.map((e, i) => blobOf(e, opts, i));
}

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Writes the tree's `rpmdb.sqlite` holding exactly `entries`, in order (hnum 1..n): in the
 * directory where the tree already keeps one (usr/lib/sysimage/rpm, usr/share/rpm or
 * var/lib/rpm, symlinks resolved inside the tree), else in `usr/lib/sysimage/rpm`. Replaces the
 * database there. Throws LAYER_RPMDB naming the package on bad input, before anything on disk
 * changes.
 */
export function writeRpmdb(treeRoot: string, entries: readonly RpmdbEntry[], opts: WriteRpmdbOptions): WrittenRpmdb {
  const built = builtEntries(entries, opts);
  const dir = rpmdbWriteDir(treeRoot);
  const file = path.join(dir, SQLITE_NAME);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const stale of fs.readdirSync(dir)) {
      if (stale.startsWith(`.${SQLITE_NAME}.tmp-`)) fs.rmSync(path.join(dir, stale), { force: true });
    }
  } catch (err) {
    throw withContext(`preparing ${dir}`, err);
  }
  const tmp = path.join(dir, `.${SQLITE_NAME}.tmp-${process.pid}-${Date.now()}`);
  try {
    buildDatabase(tmp, built);
    if (opts.durable !== false) fsyncPath(tmp);
    settleOld(file);
    fs.renameSync(tmp, file);
    for (const side of ['-wal', '-shm', '-journal']) fs.rmSync(`${file}${side}`, { force: true });
    if (opts.durable !== false) fsyncPath(dir);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw withContext(`writing ${file}`, err);
  }
  for (const link of opts.links ?? ['usr/share/rpm']) makeLink(treeRoot, link);
  return { file, packages: built.length, rows: rowsOf(built) };
}

/** A new SQLite database at `file` (which must not exist) holding `built`, hnum 1..n. */
function buildDatabase(file: string, built: ReadonlyArray<{ blob: Uint8Array; header: RpmHeader }>): void {
  const db = openSqlite(file);
  try {
    // Nothing can see this file until it is complete, and a failure discards it: the rollback
    // journal is kept in memory (no -journal file created and deleted per transaction, each a
    // new inode on disk) and nothing is synced per statement (the caller syncs the file once).
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    db.transaction(() => createSchema(db))();
    const putPkg = db.prepare("INSERT INTO 'Packages' (hnum, blob) VALUES (?, ?)");
    const putIdx = new Map(INDEX_TABLES.map((t) => [t.name, db.prepare(`INSERT INTO '${t.name}' (key, hnum, idx) VALUES (?, ?, ?)`)]));
    db.transaction(() => {
      built.forEach(({ blob, header }, i) => {
        const hnum = i + 1;
        putPkg.run(hnum, Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength));
        for (const [table, rows] of indexRows(header)) {
          const stmt = putIdx.get(table);
          if (stmt === undefined) throw new Error(`assertion failed: index table ${table} not in INDEX_TABLES`);
          for (const r of rows) stmt.run(typeof r.key === 'string' ? r.key : Buffer.from(r.key), hnum, r.idx);
        }
      });
    })();
  } finally {
    db.close();
  }
}

/**
 * The database alone, as a new file at `file` (a temp path of the caller's, which must not
 * exist): what writeRpmdb puts in a tree, byte for byte, without the tree. Not synced.
 */
export function writeRpmdbFile(file: string, entries: readonly RpmdbEntry[], opts: WriteRpmdbOptions): HeaderRow[] {
  const built = builtEntries(entries, opts);
  try {
    buildDatabase(file, built);
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw withContext(`writing ${file}`, err);
  }
  return rowsOf(built);
}

const rowsOf = (built: ReadonlyArray<{ blob: Uint8Array }>): HeaderRow[] => built.map(({ blob }, i) => ({ hnum: i + 1, blob }));

/**
 * Folds a replaced database's `-wal` (or hot `-journal`) back into its main file and removes
 * the side files, before the rename. SQLite applies any `-wal` it finds next to a database, even
 * one in DELETE mode, so a stale WAL left beside our new file would silently bring the old
 * contents back. Checkpointing first also means a crash before the rename loses nothing.
 */
function settleOld(file: string): void {
  const sides = ['-wal', '-shm', '-journal'].map((s) => `${file}${s}`);
  if (!sides.some((p) => fs.existsSync(p))) return;
  try {
    const old = openSqlite(file, { fileMustExist: true });
    try {
      old.pragma('journal_mode = DELETE');
    } finally {
      old.close();
    }
  } catch {
    // An unreadable old database is being replaced anyway; its side files must still go.
  }
  for (const p of sides) fs.rmSync(p, { force: true });
}

function makeLink(treeRoot: string, link: RpmdbLink): void {
  const at = path.join(resolveInTree(treeRoot, path.dirname(link)), path.basename(link));
  // Anything already there (the base's own directory or link) is the base's layout: keep it.
  if (fs.lstatSync(at, { throwIfNoEntry: false })) return;
  try {
    fs.mkdirSync(path.dirname(at), { recursive: true, mode: 0o755 });
    fs.symlinkSync(LINK_TARGETS[link], at);
  } catch (err) {
    throw withContext(`linking ${at}`, err);
  }
}
