/**
 * Running scriptlets without touching the store: the assembled tree is a hardlink checkout, so
 * its files ARE the store's objects, and a scriptlet editing one in place (`echo >> /etc/x`,
 * `sed -i` on a kept inode, `chown`) would corrupt the object for every commit that uses it.
 *
 * As root, the tree is the lower layer of an overlayfs mount; scriptlets see and change the
 * merged view, every write lands in the upper directory (copy-up), and afterwards the upper
 * directory is folded into the tree by rename: a changed file replaces the tree's directory
 * entry, never the inode behind it. Whiteouts delete, opaque directories replace. Overlay's own
 * `trusted.overlay.*` xattrs are stripped so they never reach a commit. On failure the upper
 * directory is discarded and the tree is as it was.
 *
 * Without root (no mount), every hardlinked file of the tree is replaced by a private copy
 * first (slower, same guarantee).
 */
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, readdirSync, renameSync, rmSync, type Stats } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as xattr from 'fs-xattr';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;

function stripOverlayXattrs(path: string): void {
  let names: string[];
  try {
    names = xattr.listAttributesSync(path);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith('trusted.overlay.')) xattr.removeAttributeSync(path, n);
}

const isWhiteout = (st: Stats) => st.isCharacterDevice() && st.rdev === 0;

function isOpaque(path: string): boolean {
  try {
    return Buffer.from(xattr.getAttributeSync(path, 'trusted.overlay.opaque')).toString() === 'y';
  } catch {
    return false;
  }
}

/** Fold overlay `upper` into `lower` (same filesystem) by renames. */
export function foldUpper(upper: string, lower: string): void {
  for (const name of readdirSync(upper)) {
    const u = join(upper, name);
    const l = join(lower, name);
    const st = lstatSync(u);
    const lst = lstatSync(l, { throwIfNoEntry: false });
    if (isWhiteout(st)) {
      if (lst) rmSync(l, { recursive: true, force: true });
      continue;
    }
    if (st.isDirectory()) {
      if (lst && (!lst.isDirectory() || isOpaque(u))) rmSync(l, { recursive: true, force: true });
      if (!lst || !lst.isDirectory() || isOpaque(u)) mkdirSync(l, { mode: 0o700 });
      foldUpper(u, l);
      chownSync(l, st.uid, st.gid);
      chmodSync(l, st.mode & 0o7777);
      continue;
    }
    if (lst?.isDirectory()) rmSync(l, { recursive: true, force: true });
    stripOverlayXattrs(u);
    renameSync(u, l);
  }
}

/** Replace every multiply-linked regular file under `dir` by a private copy (non-root fallback). */
export function breakHardlinks(dir: string): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) breakHardlinks(p);
    else if (st.isFile() && st.nlink > 1) {
      const tmp = `${p}.layer-copy`;
      copyFileSync(p, tmp);
      if (isRoot) chownSync(tmp, st.uid, st.gid);
      chmodSync(tmp, st.mode & 0o7777);
      for (const n of xattr.listAttributesSync(p)) xattr.setAttributeSync(tmp, n, xattr.getAttributeSync(p, n));
      renameSync(tmp, p);
    }
  }
}

/**
 * Run `fn` on a writable view of `tree` whose writes reach `tree` only through renames, and
 * only when `fn` succeeds. `scratch` must be on the tree's filesystem.
 */
export async function withWritableView<T>(
  tree: string,
  scratch: string,
  fn: (view: string) => Promise<T>,
  report?: { warn(code: string, message: string): void },
): Promise<T> {
  const copyUp = async () => {
    breakHardlinks(tree);
    return fn(tree);
  };
  // overlayfs options are comma/colon separated: such paths cannot be passed.
  if (!isRoot || /[,:]/.test(tree + scratch)) return copyUp();
  const [upper, work, merged] = ['upper', 'work', 'merged'].map((d) => join(scratch, d)) as [string, string, string];
  for (const d of [upper, work, merged]) await mkdir(d, { recursive: true });
  const base = `lowerdir=${tree},upperdir=${upper},workdir=${work}`;
  try {
    // No redirect_dir/metacopy/index: every change must be a plain copy-up we can fold back.
    await run('mount', ['-t', 'overlay', 'overlay', '-o', `${base},redirect_dir=off,metacopy=off,index=off`, merged]).catch(() =>
      run('mount', ['-t', 'overlay', 'overlay', '-o', base, merged]),
    );
  } catch (err) {
    report?.warn('scriptlet.no-overlay', `cannot mount an overlay for the scriptlets (${(err as Error).message.split('\n')[0]}); copying the tree's files instead`);
    return copyUp();
  }
  let result: T;
  try {
    result = await fn(merged);
  } finally {
    await run('umount', [merged]).catch(() => run('umount', ['-l', merged]));
  }
  try {
    foldUpper(upper, tree);
  } finally {
    await rm(upper, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
  return result;
}
