/**
 * rpmdb/: rpm's sqlite database (formats.md §5), read and written so that real `rpm` trusts it.
 *
 * Reading — `openRpmdb(treeRoot | dbpathDir | rpmdb.sqlite)` → `Rpmdb`:
 *   `packages()` (hnum, NEVRA, parsed header incl. install-time tags), `nevras()`, `records()`
 *   (PackageRecords for the solver's installed repo, same shape as src/rpm's toRecord),
 *   `ownersOf(path)` (Basenames index, like `rpm -qf`), `whatProvides(cap)`, `close()`.
 *   `openRpmdbWithHeaders(file, list)`: the same answers from a header list (headers.ts)
 *   written beside an unchanging database; SQLite is not loaded at all.
 *   Looks in usr/lib/sysimage/rpm, usr/share/rpm, var/lib/rpm (links resolved inside the tree).
 *   bdb/ndb databases are a LAYER_RPMDB error naming the backend. Never writes in the tree: a WAL
 *   database is read from a private copy (with its -wal) so read-only trees work.
 *
 * Writing — `writeRpmdb(treeRoot, entries, { installTid, installTime?, installColor?, links? })`:
 *   `entries` are `installedEntry(pkg)` for headers kept from the base's rpmdb (stored verbatim)
 *   and `packageEntry(rpmPackage, fileStates?)` for layered packages (region unchanged + the
 *   dribbles rpm adds: signature tags, FILESTATES, INSTALLTIME/COLOR/TID, INSTPREFIXES). All 18
 *   index tables get exactly rpm's rows; DELETE mode in the file (the build journals in memory);
 *   temp file + rename. `writeRpmdbFile(file, …)`: the same database as a file of its own.
 *   Layout: the database goes where the tree already keeps one (e.g. rpm-ostree's real
 *   usr/share/rpm), else usr/lib/sysimage/rpm with a `usr/share/rpm -> ../lib/sysimage/rpm`
 *   link; `var/lib/rpm -> ../../usr/lib/sysimage/rpm` is opt-in (`links`), since /var of an
 *   ostree deployment does not come from the commit (it needs a tmpfiles.d entry there).
 */
export { openRpmdb, openRpmdbWithHeaders, Rpmdb, formatNevra, type InstalledPackage } from './read.js';
export { writeHeaderList, readHeaderList, type HeaderRow } from './headers.js';
export { writeRpmdb, writeRpmdbFile, packageEntry, installedEntry, type RpmdbEntry, type RpmdbLink, type WriteRpmdbOptions, type WrittenRpmdb } from './write.js';
export type { InstallStamp } from './installed.js';
export { locateRpmdb, rpmdbWriteDir, RPMDB_DIR, RPMDB_DIRS, SQLITE_NAME } from './locate.js';
export { INDEX_TABLES, REQUIRED_TABLES } from './schema.js';
