/**
 * The installed set of a base commit: its rpmdb, read straight from the store (no checkout),
 * from the first of rpmdb's locations that holds a database (usr/lib/sysimage/rpm, then
 * rpm-ostree's usr/share/rpm, then var/lib/rpm), symlinked directories followed inside the tree.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { LayerError, withContext } from '../errors.js';
import { openRpmdb, RPMDB_DIRS, type InstalledPackage, type Rpmdb } from '../rpmdb/index.js';
import type { PackageRecord } from '../solver/types.js';
import type { Store } from '../store/index.js';

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

/** Read the base commit's rpmdb into `scratch` and open it. A base without one is an error. */
export async function readBase(store: Store, commit: string | null, scratch: string): Promise<BaseSet> {
  if (commit === null) return { commit, packages: [], records: [], rpmdb: undefined };
  const checksum = store.resolveRef(commit);
  for (const dir of RPMDB_DIRS) {
    // A file found at the literal path means no component is a symlink: resolveDir would
    // return the same path after one store lookup per component (~5 ms of tree decoding).
    const real = store.stat(checksum, `${dir}/rpmdb.sqlite`)?.type === 'file' ? dir : resolveDir(store, checksum, dir);
    if (real === undefined || store.stat(checksum, `${real}/rpmdb.sqlite`)?.type !== 'file') continue;
    const local = join(scratch, 'base-rpmdb');
    await mkdir(local, { recursive: true });
    await writeFile(join(local, 'rpmdb.sqlite'), store.readFile(checksum, `${real}/rpmdb.sqlite`));
    try {
      const rpmdb = openRpmdb(join(local, 'rpmdb.sqlite'));
      return { commit: checksum, packages: rpmdb.packages(), records: rpmdb.records(), rpmdb };
    } catch (err) {
      throw withContext(`base commit ${checksum}: /${real}/rpmdb.sqlite`, err);
    }
  }
  throw new LayerError('LAYER_RPMDB', `base commit ${checksum} has no rpmdb (looked in ${RPMDB_DIRS.map((d) => `/${d}`).join(', ')})`, {
    hint: 'a base must carry the rpm database of the packages it contains',
  });
}
