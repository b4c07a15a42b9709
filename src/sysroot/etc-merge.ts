/**
 * The `/etc` three-way merge of a new deployment (formats.md §3, ostree's
 * merge_configuration_from): new `/etc` = a copy of the new `/usr/etc`; then every path the
 * admin removed from the merge deployment's `/etc` (relative to its `/usr/etc`) is removed, and
 * every path the admin modified or added is copied over, whole-file: local wins, no textual
 * merge. Content, type, mode and uid/gid count as modifications; xattrs do not.
 *
 * `/etc` is a real copy, never hardlinks into the object store: admins edit it in place.
 */
import { chmodSync, copyFileSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';

export interface EtcChanges {
  modified: string[];
  added: string[];
  removed: string[];
}

function lstatOrUndef(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function listTree(root: string, rel = '', out: string[] = []): string[] {
  for (const name of readdirSync(join(root, rel)).sort()) {
    const r = rel ? `${rel}/${name}` : name;
    out.push(r);
    if (lstatSync(join(root, r)).isDirectory()) listTree(root, r, out);
  }
  return out;
}

function sameEntry(a: string, sa: Stats, b: string, sb: Stats): boolean {
  if (sa.mode !== sb.mode || sa.uid !== sb.uid || sa.gid !== sb.gid) return false;
  if (sa.isSymbolicLink()) return readlinkSync(a) === readlinkSync(b);
  if (sa.isFile()) return sa.size === sb.size && (sa.ino === sb.ino || readFileSync(a).equals(readFileSync(b)));
  return true;
}

/** What the admin changed in `etc` relative to `usrEtc` (paths relative to /etc, parents before children). */
export function diffEtc(usrEtc: string, etc: string): EtcChanges {
  const changes: EtcChanges = { modified: [], added: [], removed: [] };
  const local = existsSync(etc) ? listTree(etc) : [];
  const localSet = new Set(local);
  for (const rel of local) {
    const sl = lstatSync(join(etc, rel));
    const sd = lstatOrUndef(join(usrEtc, rel));
    if (!sd) changes.added.push(rel);
    else if ((sd.mode & 0o170000) !== (sl.mode & 0o170000) || !sameEntry(join(usrEtc, rel), sd, join(etc, rel), sl)) changes.modified.push(rel);
  }
  if (existsSync(usrEtc)) {
    for (const rel of listTree(usrEtc)) {
      // A removed directory counts once; its children go with it.
      if (!localSet.has(rel) && !changes.removed.some((r) => rel.startsWith(`${r}/`))) changes.removed.push(rel);
    }
  }
  return changes;
}

/** Copy one entry (not a directory's children), keeping type, mode and owner. */
function copyEntry(from: string, to: string): void {
  const s = lstatSync(from);
  const existing = lstatOrUndef(to);
  if (existing && !(existing.isDirectory() && s.isDirectory())) rmSync(to, { recursive: true, force: true });
  if (s.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
  else if (s.isDirectory()) mkdirSync(to, { recursive: true });
  else if (s.isFile()) copyFileSync(from, to);
  else return; // sockets, fifos, devices have no place in /etc; ostree skips them too
  if (process.getuid?.() === 0) lchownSync(to, s.uid, s.gid);
  if (!s.isSymbolicLink()) chmodSync(to, s.mode & 0o7777);
}

function copyTree(from: string, to: string): void {
  copyEntry(from, to);
  if (!lstatSync(from).isDirectory()) return;
  for (const name of readdirSync(from)) copyTree(join(from, name), join(to, name));
}

/**
 * Write `<deployment>/etc`: a copy of its `usr/etc`, with `merge` (the merge deployment's
 * usr/etc and etc) applied when given. Returns the local changes that were carried.
 */
export function writeMergedEtc(deployment: string, merge: { usrEtc: string; etc: string } | undefined): EtcChanges {
  const etc = join(deployment, 'etc');
  const usrEtc = join(deployment, 'usr/etc');
  if (existsSync(usrEtc)) copyTree(usrEtc, etc);
  else mkdirSync(etc, { recursive: true });
  if (!merge) return { modified: [], added: [], removed: [] };
  const changes = diffEtc(merge.usrEtc, merge.etc);
  for (const rel of changes.removed) rmSync(join(etc, rel), { recursive: true, force: true });
  for (const rel of [...changes.modified, ...changes.added]) {
    const src = join(merge.etc, rel);
    const dst = join(etc, rel);
    const srcIsDir = lstatSync(src).isDirectory();
    const d = lstatOrUndef(dst);
    if (!srcIsDir && d?.isDirectory()) {
      throw new LayerError('LAYER_SYSROOT', `/etc merge: locally modified /etc/${rel} is a directory in the new deployment`, {
        hint: `move your /etc/${rel} aside and retry`,
      });
    }
    mkdirSync(join(dst, '..'), { recursive: true });
    copyEntry(src, dst);
  }
  return changes;
}
