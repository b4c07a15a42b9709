/**
 * Finding a tree's rpmdb (formats.md §5.1). Fedora ≥ 36 and layer keep it in
 * `usr/lib/sysimage/rpm`; rpm-ostree trees keep it in `usr/share/rpm`; older trees in `var/lib/rpm`. Only the sqlite backend
 * (rpm ≥ 4.16) is supported: a Berkeley DB (`Packages`) or ndb (`Packages.db`) database is a
 * clear LAYER_RPMDB error rather than an empty package list.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LayerError } from '../errors.js';
import { resolveInTree } from './treepath.js';

/** Where layer writes the database inside a tree, and rpm's `--dbpath` for it. */
export const RPMDB_DIR = 'usr/lib/sysimage/rpm';
/**
 * Directories searched inside a tree, in order: layer's and Fedora's, rpm-ostree's, then
 * upstream rpm's default %_dbpath (still used by e.g. CentOS Stream 9 images).
 */
export const RPMDB_DIRS: readonly string[] = [RPMDB_DIR, 'usr/share/rpm', 'var/lib/rpm'];
export const SQLITE_NAME = 'rpmdb.sqlite';

const OTHER_BACKENDS: readonly [file: string, backend: string][] = [
  ['Packages.db', 'ndb'],
  ['Packages', 'bdb (Berkeley DB)'],
];

const isFile = (p: string): boolean => fs.statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
const isDir = (p: string): boolean => fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() ?? false;

/** The sqlite file in a dbpath directory, or a LAYER_RPMDB error naming the backend found there. */
function inDbDir(dir: string): string | undefined {
  const sqlite = path.join(dir, SQLITE_NAME);
  if (isFile(sqlite)) return sqlite;
  for (const [file, backend] of OTHER_BACKENDS) {
    if (isFile(path.join(dir, file))) {
      throw new LayerError('LAYER_RPMDB', `${dir}: rpmdb uses the ${backend} backend, which layer does not support`, {
        hint: 'only the sqlite backend (rpm >= 4.16) is supported; convert with `rpmdb --rebuilddb --define "_db_backend sqlite"`',
      });
    }
  }
  return undefined;
}

/**
 * Resolves `target` to the rpmdb.sqlite file: `target` may be that file, a dbpath directory
 * holding it, or a tree root (searched at {@link RPMDB_DIRS}).
 */
export function locateRpmdb(target: string): string {
  if (isFile(target)) return target;
  if (!isDir(target)) throw new LayerError('LAYER_RPMDB', `${target}: no such file or directory`);
  const direct = inDbDir(target);
  if (direct) return direct;
  for (const rel of RPMDB_DIRS) {
    const dir = resolveInTree(target, rel);
    if (!isDir(dir)) continue;
    const found = inDbDir(dir);
    if (found) return found;
  }
  throw new LayerError('LAYER_RPMDB', `${target}: no rpmdb found (looked for ${RPMDB_DIRS.map((d) => `${d}/${SQLITE_NAME}`).join(', ')})`);
}

/**
 * The directory `writeRpmdb` writes to: where the tree's existing sqlite database lives (so a
 * base tree's own links, e.g. rpm-ostree's usr/share/rpm, keep pointing at it), otherwise
 * {@link RPMDB_DIR}. Symlinks are resolved inside the tree.
 */
export function rpmdbWriteDir(treeRoot: string): string {
  for (const rel of RPMDB_DIRS) {
    const dir = resolveInTree(treeRoot, rel);
    if (isFile(path.join(dir, SQLITE_NAME))) return dir;
  }
  return resolveInTree(treeRoot, RPMDB_DIR);
}
