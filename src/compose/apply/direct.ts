/**
 * Composing without a scratch tree: when nothing would touch the assembled tree but the rpmdb
 * writer, the new commit is built from objects. The base and package commits are unioned at
 * the object level (store union.ts), the new rpmdb file (and rpm-ostree's usr/share/rpm link
 * when missing) becomes a content object, and the commit is written, with the same checksums
 * the checkout → rpmdb → commit path gives for the same inputs (test/compose/direct.test.ts).
 *
 * Why: that path links every file of the base into a scratch directory and reads every one
 * back, a few syscalls per file, to recommit a tree that differs in a few directories.
 *
 * `directUnion` says undefined whenever one of the path's other effects could happen, and the
 * caller then takes the checkout: a removal (prunedBase), a scriptlet, trigger, non-root owner
 * or ldconfig input (scriptlets.ts), a kernel (kernel.ts), a file conflict (reported by the
 * checkout), an rpmdb not plainly in usr/lib/sysimage/rpm, a setgid or xattr-carrying parent
 * directory (it would change what a new file is created with), a repository not in bare mode
 * or a caller not root (hardlinked checkouts then carry other owners and modes).
 */
import { lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { writeRpmdbFile, SQLITE_NAME, RPMDB_DIR, RPMDB_DIRS, type HeaderRow, type RpmdbEntry } from '../../rpmdb/index.js';
import { decodeDirMeta, UnionDir, type Store } from '../../store/index.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

/** What rpm-ostree's usr/share/rpm link points at (rpmdb/write.ts LINK_TARGETS). */
const SHARE_LINK = '../lib/sysimage/rpm';

/** The object-level union for this plan, or undefined when the checkout path must run. */
export function directUnion(s: ApplyState, hasWork: boolean): UnionDir | undefined {
  if (hasWork || !s.plan.base.commit) return undefined;
  const root = planUnion(s);
  return root && rpmdbPlain(s.ctx.store, root) ? root : undefined;
}

/**
 * The plan's base (when it has one) and packages unioned at the object level, when a compose
 * may work from that instead of a whole checkout (here and partial.ts): not turned off
 * (`direct: false`), no base package removed (prunedBase), a bare repository and a root caller
 * (hardlinked checkouts carry the committed owners), no file conflict (the checkout reports it)
 * and no kernel (kernel.ts needs the whole tree).
 */
export function planUnion(s: ApplyState): UnionDir | undefined {
  const { plan, ctx } = s;
  if (ctx.direct === false || plan.removed.length > 0) return undefined;
  if (ctx.store.mode !== 'bare' || process.geteuid?.() !== 0) return undefined;
  const commits = [...(plan.base.commit ? [plan.base.commit] : []), ...s.installs.map((step) => need(s.commits, step.nevra, 'package commit'))];
  const root = ctx.store.unionOf(commits, plan.options.replaceFiles ? { replaceFiles: true } : {});
  return root && !hasKernel(ctx.store, root) ? root : undefined;
}

/** Whether kernel.ts could find or prepare a kernel (any usr/lib/modules/KVER/vmlinuz; any doubt counts). */
function hasKernel(store: Store, root: UnionDir): boolean {
  const lib = root.find(store, 'usr/lib');
  if (!lib || lib.files.has('modules')) return true;
  const modules = lib.dir(store, 'modules');
  if (!modules) return false;
  if (modules.files.size > 0) return true;
  return [...modules.dirs.keys()].some((kver) => {
    const d = modules.dir(store, kver);
    return d === undefined || d.files.has('vmlinuz') || d.dirs.has('vmlinuz');
  });
}

/** A directory whose metadata leaves new entries as the process creates them (no setgid, no xattrs). */
function plainParent(store: Store, dir: UnionDir): boolean {
  const m = decodeDirMeta(store.readMetadata('dirmeta', dir.meta), 'store');
  return (m.mode & 0o2000) === 0 && m.xattrs.length === 0;
}

/** The rpmdb is usr/lib/sysimage/rpm/rpmdb.sqlite alone, and usr/share/rpm exists or can be linked plainly. */
function rpmdbPlain(store: Store, root: UnionDir): boolean {
  const rpm = root.find(store, RPMDB_DIR);
  if (!rpm || [...rpm.files.keys()].join('/') !== SQLITE_NAME || !plainParent(store, rpm)) return false;
  return shareLinkable(store, root);
}

/** usr/share exists, and its rpm entry is there or can be linked plainly (directDatabase). */
function shareLinkable(store: Store, root: UnionDir): boolean {
  const share = root.find(store, 'usr/share');
  if (!share) return false;
  return share.files.has('rpm') || share.dirs.has('rpm') || plainParent(store, share);
}

/**
 * Whether step rpmdb can write `root`'s database without a tree (directDatabase) as the tree
 * path would: rpmdbPlain, or, for a tree composed from nothing, no database in any of
 * RPMDB_DIRS and usr/lib/sysimage/rpm empty or missing below plain directories. The missing
 * directories are then added to `root` with the metadata the rpmdb writer's mkdir gives them
 * (read off one made in the scratch directory with the same mode, by the same process).
 */
export function rpmdbWritable(s: ApplyState, root: UnionDir): boolean {
  const store = s.ctx.store;
  if (rpmdbPlain(store, root)) return true;
  if (RPMDB_DIRS.some((d) => root.find(store, d)?.files.has(SQLITE_NAME))) return false;
  const parts = RPMDB_DIR.split('/');
  let dir = root;
  let have = 0;
  for (const name of parts) {
    // A file or link on the way: the tree path would resolve it; leave that to the tree.
    if (dir.files.has(name)) return false;
    const next = dir.dir(store, name);
    if (!next) break;
    dir = next;
    have++;
  }
  if (have === parts.length && (dir.files.size > 0 || dir.dirs.size > 0)) return false;
  if (!plainParent(store, dir) || !shareLinkable(store, root)) return false;
  if (have === parts.length) return true;
  const made = join(s.scratch, 'rpmdb-dir');
  mkdirSync(made, { recursive: true, mode: 0o755 });
  const st = lstatSync(made);
  // A setgid or ACL-carrying scratch directory would give it other metadata than the tree's.
  if ((st.mode & 0o7000) !== 0 || st.gid !== process.getegid?.()) return false;
  const meta = store.writeDirMeta(made);
  if (decodeDirMeta(store.readMetadata('dirmeta', meta), 'store').xattrs.length > 0) return false;
  for (const name of parts.slice(have)) {
    const sub = new UnionDir(meta);
    dir.dirs.set(name, sub);
    dir = sub;
  }
  return true;
}

/**
 * Step rpmdb without a tree: the database is written as a file of its own and stored as the
 * object the checkout path would commit (owned by this process, as a file it creates in a plain
 * directory is); the usr/share/rpm link likewise when the base lacks it.
 */
export function directDatabase(s: ApplyState, root: UnionDir, entries: readonly RpmdbEntry[], installTid: number): HeaderRow[] {
  const { store } = s.ctx;
  const owner = { uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 };
  const rpm = root.find(store, RPMDB_DIR);
  const share = root.find(store, 'usr/share');
  if (!rpm || !share) throw new Error('assertion failed: directUnion checked usr/lib/sysimage/rpm and usr/share');
  // Built in the store's tmp/ and renamed in as the object: no tree of directories around it,
  // no second copy (each a new inode, 0.3-1 ms apiece on the bench disk).
  const file = store.tmpPath('rpmdb');
  const rows = writeRpmdbFile(file, entries, { installTid, durable: false });
  rpm.files.set(SQLITE_NAME, store.adoptEntry(file, owner));
  if (share.files.has('rpm') || share.dirs.has('rpm')) return rows;
  const tree = join(s.scratch, 'rpmdb-root');
  const link = join(tree, 'share-rpm');
  mkdirSync(tree, { recursive: true });
  if (!lstatSync(link, { throwIfNoEntry: false })) symlinkSync(SHARE_LINK, link);
  share.files.set('rpm', store.writeEntry(link, owner));
  return rows;
}
