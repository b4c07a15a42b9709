/**
 * rpmdb/: rpm's sqlite database (formats.md §5), read and written so that real `rpm` trusts it.
 *
 * - `openRpmdb(treeRoot | dbPath)` → `Rpmdb`: installed headers, NEVRAs, solver records for the
 *   installed repo, file ownership (`ownersOf`) and `whatProvides`. Never writes in the tree.
 * - `writeRpmdb(treeRoot, entries, { installTid })` writes `usr/lib/sysimage/rpm/rpmdb.sqlite`
 *   (plus a `usr/share/rpm` symlink) holding existing headers verbatim and packages' headers
 *   with the install-time tags rpm adds.
 */
export { openRpmdb, Rpmdb, formatNevra, type InstalledPackage } from './read.js';
export { writeRpmdb, packageEntry, installedEntry, type RpmdbEntry, type RpmdbLink, type WriteRpmdbOptions, type WrittenRpmdb } from './write.js';
export type { InstallStamp } from './installed.js';
export { locateRpmdb, RPMDB_DIR, RPMDB_DIRS } from './locate.js';
export { INDEX_TABLES, REQUIRED_TABLES } from './schema.js';
