/**
 * ldconfig's output taken from an earlier compose with the same inputs (partial trees only).
 *
 * When all a compose runs is ldconfig (partial.ts), the partial tree holds exactly what
 * ldconfig reads: library-named files, every symlink and what library-named ones point at,
 * ld.so.conf and its directory, the ldconfig binary. ldconfig is a function of those: the
 * same inputs give the same ld.so.cache and soname links, and running it again changes
 * nothing (it is idempotent, so one run or several give the same tree). A compose therefore
 * keys its inputs (the placed paths with their object checksums, the scriptlets that would
 * run) and, after ldconfig ran, notes what it wrote as store objects under that key. The next
 * compose with the same key checks nothing out: it sets those objects into its object-level
 * union and commits that, as direct.ts does (noteIntoUnion); where step rpmdb cannot work
 * without a tree, the partial tree is checked out and they are placed in it (replayLdconfig).
 * Either way no overlay is mounted and no bubblewrap started, and the commit is the one running
 * ldconfig would give (test/compose/partial.test.ts). rpm does the same on a package-mode host
 * in its own terms: glibc's ldconfig trigger fires only when a transaction installs files under
 * the library directories; an upgrade of a recipe base recomposes every package, so without
 * this its ldconfig would run on every upgrade, whatever changed.
 *
 * The notes live in the state cache (`<cacheDir>/ldconfig/<key>`, a line `checksum path` per
 * output), MEMO_KEPT at most. A note is used only when it parses and every object it names is
 * in the store; otherwise it is dropped and ldconfig runs. Nothing is noted when ldconfig
 * deleted an entry, made a directory or wrote nothing.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Checksum, Store, UnionDir } from '../../store/index.js';
import { readByLdconfig, type TransactionOptions, type TransactionPackage } from '../scriptlets-transaction.js';
import { slotOf } from '../scriptlets.js';
import type { PartialTree } from './partial.js';

/** What the compose reports when ldconfig's output came from a note. */
export const LDCONFIG_REUSED = 'ldconfig not run: its inputs are an earlier compose\'s, whose output is in the store';

/** Notes kept; the oldest go first (each is a few lines). */
const MEMO_KEPT = 32;
const KEY_VERSION = 'layer ldconfig memo 1';
const CHECKSUM = /^[0-9a-f]{64}$/;

/** An output: its path in the tree and its content object. */
type Output = readonly [path: string, csum: Checksum];

function memoDir(cacheDir: string): string {
  return join(cacheDir, 'ldconfig');
}

/**
 * The key of a partial tree's ldconfig run: every placed path with its object checksum
 * (directories by name), the scriptlets and triggers that would run, and whether a package
 * installs a file ldconfig reads (which alone makes the final refresh run).
 */
export function ldconfigKey(part: Pick<PartialTree, 'placed' | 'files'>, txn: readonly TransactionPackage[], options: Pick<TransactionOptions, 'installed'>): string {
  const h = createHash('sha256').update(`${KEY_VERSION}\n`);
  for (const path of [...part.placed].sort()) h.update(`${path}\0${part.files.get(path) ?? 'dir'}\n`);
  const scripts = [...txn, ...(options.installed ?? [])].flatMap((p) => p.scriptlets.map((s) => JSON.stringify([slotOf(s), s.interpreter ?? '', s.body ?? ''])));
  for (const s of scripts.sort()) h.update(`${s}\n`);
  h.update(txn.some((p) => p.files.some((f) => readByLdconfig(f.path))) ? 'libraries\n' : 'no libraries\n');
  return h.digest('hex');
}

/**
 * The outputs noted under `key`, when there is a note and every object it names is in the
 * store; an unusable note is dropped.
 */
function readNote(store: Store, cacheDir: string, key: string): Output[] | undefined {
  const file = join(memoDir(cacheDir), key);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const outputs = parseNote(text);
  if (outputs?.every(([, csum]) => store.hasContent(csum))) return outputs;
  rmSync(file, { force: true });
  return undefined;
}

/**
 * The outputs noted under `key` set into `union` (an object-level tree, no checkout at all);
 * false when there is no usable note or an output's directory is not one in `union`, which is
 * then untouched. `ready` runs once the note is known to fit, before anything is set: the
 * caller's own condition (step rpmdb's, without a tree), which may still refuse.
 */
export function noteIntoUnion(store: Store, cacheDir: string, key: string, union: UnionDir, ready: () => boolean): boolean {
  const outputs = readNote(store, cacheDir, key);
  if (!outputs) return false;
  const places = outputs.map(([path, csum]) => {
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 1);
    const dir = slash < 0 ? union : union.find(store, path.slice(0, slash));
    return dir && !dir.dirs.has(name) ? { dir, name, csum } : undefined;
  });
  if (places.some((p) => p === undefined) || !ready()) return false;
  for (const p of places) p?.dir.files.set(p.name, p.csum);
  return true;
}

/**
 * Link the outputs noted under `key` into `root`; false when there is no usable note or an
 * output's directory is not one in `root`, which is then untouched.
 */
export function replayLdconfig(store: Store, cacheDir: string, key: string, root: string): boolean {
  const outputs = readNote(store, cacheDir, key);
  // Every parent directory in the tree, before anything changes.
  if (!outputs?.every(([path]) => dirsOnTheWay(root, path))) return false;
  for (const [path, csum] of outputs) {
    const dest = join(root, path);
    rmSync(dest, { force: true });
    store.checkoutFile(csum, dest);
  }
  return true;
}

/**
 * Note what ldconfig wrote into `root` (partial tree `part`) under its key: every file or
 * symlink that is not the object it was checked out from, stored as a content object.
 * Nothing is noted when a placed entry is gone, a directory is new, or nothing was written.
 */
export function noteLdconfig(store: Store, cacheDir: string, root: string, part: PartialTree): void {
  const { key } = part;
  const outputs: Output[] = [];
  const seen = new Set<string>();
  const walk = (rel: string): boolean => {
    for (const name of readdirSync(rel === '' ? root : join(root, rel))) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const abs = join(root, path);
      const st = lstatSync(abs);
      seen.add(path);
      if (st.isDirectory()) {
        if (!part.placed.has(path) || !walk(path)) return false;
        continue;
      }
      const csum = part.files.get(path);
      if (csum !== undefined && part.placed.has(path) && sameInode(st, store.objectPath(csum, 'file'))) continue;
      if (!st.isFile() && !st.isSymbolicLink()) return false;
      outputs.push([path, store.writeEntry(abs)]);
    }
    return true;
  };
  if (!walk('') || outputs.length === 0) return;
  for (const path of part.placed) if (path !== '' && !seen.has(path)) return;
  const dir = memoDir(cacheDir);
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.${key}.${process.pid}.tmp`);
  writeFileSync(tmp, outputs.map(([path, csum]) => `${csum} ${path}\n`).join(''));
  renameSync(tmp, join(dir, key));
  trim(dir);
}

function parseNote(text: string): Output[] | undefined {
  const out: Output[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const csum = line.slice(0, 64);
    const path = line.slice(65);
    const parts = path.split('/');
    if (!CHECKSUM.test(csum) || line[64] !== ' ' || parts.some((p) => p === '' || p === '.' || p === '..')) return undefined;
    out.push([path, csum as Checksum]);
  }
  return out.length > 0 ? out : undefined;
}

function sameInode(st: { dev: number; ino: number }, object: string): boolean {
  const o = lstatSync(object, { throwIfNoEntry: false });
  return o !== undefined && o.dev === st.dev && o.ino === st.ino;
}

/** Whether every directory above `path` in `root` is one, not a symlink (a note never leads out of the tree). */
function dirsOnTheWay(root: string, path: string): boolean {
  const parts = path.split('/').slice(0, -1);
  return parts.every((_, i) => lstatSync(join(root, ...parts.slice(0, i + 1)), { throwIfNoEntry: false })?.isDirectory() === true);
}

/** Keep the MEMO_KEPT newest notes. */
function trim(dir: string): void {
  const notes = readdirSync(dir).filter((n) => CHECKSUM.test(n));
  if (notes.length <= MEMO_KEPT) return;
  const byAge = notes.map((n) => ({ n, t: statSync(join(dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
  for (const { n } of byAge.slice(0, notes.length - MEMO_KEPT)) unlinkSync(join(dir, n));
}
