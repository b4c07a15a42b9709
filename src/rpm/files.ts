/**
 * The file list from the main header (formats.md §4.4): paths from DIRNAMES/BASENAMES/DIRINDEXES
 * (or legacy OLDFILENAMES), per-file attribute arrays, and hardlink sets.
 */
import { LayerError } from '../errors.js';
import type { RpmHeader } from './header.js';
import { DIGEST_ALGOS, FILEFLAG, TAG } from './tags.js';

export type FileType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface RpmFile {
  /** Position in the header's file arrays. */
  index: number;
  /** Absolute path as in the header (`/usr/bin/hello`). */
  path: string;
  type: FileType;
  /** Full st_mode including the type bits. */
  mode: number;
  size: number;
  /** Lowercase hex, '' for non-regular files and ghosts. */
  digest: string;
  /** RPMFILE_* bits. */
  flags: number;
  user: string;
  group: string;
  /** Symlink target, '' otherwise. */
  linkTarget: string;
  mtime: number;
  inode: number;
  device: number;
  rdev: number;
  /** cap_to_text form, when the package sets capabilities on this file. */
  caps?: string;
  lang: string;
  verifyFlags: number;
  isGhost: boolean;
  isConfig: boolean;
  isDoc: boolean;
}

export function fileTypeOf(mode: number): FileType {
  switch (mode & 0o170000) {
    case 0o040000: return 'dir';
    case 0o120000: return 'symlink';
    case 0o020000: return 'char';
    case 0o060000: return 'block';
    case 0o010000: return 'fifo';
    case 0o140000: return 'socket';
    default: return 'file';
  }
}

/** Node's hash name for the package's FILEDIGESTALGO (absent = MD5). */
export function fileDigestAlgo(h: RpmHeader, what: string): string {
  const id = h.number(TAG.FILEDIGESTALGO) ?? 1;
  const name = DIGEST_ALGOS[id];
  if (!name) throw new LayerError('LAYER_RPM_FORMAT', `${what}: unknown file digest algorithm ${id}`);
  return name;
}

/** The file paths (DIRNAMES[DIRINDEXES[i]] + BASENAMES[i]); lighter than readFiles when only paths matter. */
export function readFilePaths(h: RpmHeader, what: string): string[] {
  if (!h.has(TAG.BASENAMES)) return h.strings(TAG.OLDFILENAMES);
  const base = h.strings(TAG.BASENAMES);
  const dirs = h.strings(TAG.DIRNAMES);
  const idx = h.numbers(TAG.DIRINDEXES);
  if (idx.length !== base.length) throw new LayerError('LAYER_RPM_FORMAT', `${what}: DIRINDEXES has ${idx.length} entries for ${base.length} files`);
  return base.map((b, i) => {
    const d = dirs[idx[i] ?? -1];
    if (d === undefined) throw new LayerError('LAYER_RPM_FORMAT', `${what}: file ${i} (${b}) has dir index ${idx[i]} of ${dirs.length}`);
    return d + b;
  });
}

/** Reads the file list; any per-file array whose length differs from the file count is an error. */
export function readFiles(h: RpmHeader, what: string): RpmFile[] {
  const ps = readFilePaths(h, what);
  const n = ps.length;
  const arr = <T>(tag: number, read: (t: number) => T[], required: boolean): T[] => {
    if (!h.has(tag)) {
      if (required && n > 0) throw new LayerError('LAYER_RPM_FORMAT', `${what}: header lacks tag ${tag} for ${n} files`);
      return [];
    }
    const v = read(tag);
    if (v.length !== n) throw new LayerError('LAYER_RPM_FORMAT', `${what}: tag ${tag} has ${v.length} entries for ${n} files`);
    return v;
  };
  const nums = (t: number): number[] => h.numbers(t);
  const strs = (t: number): string[] => h.strings(t);
  const modes = arr(TAG.FILEMODES, nums, true);
  const sizes = h.has(TAG.LONGFILESIZES) ? arr(TAG.LONGFILESIZES, nums, true) : arr(TAG.FILESIZES, nums, true);
  const digests = arr(TAG.FILEDIGESTS, strs, false);
  const flags = arr(TAG.FILEFLAGS, nums, false);
  const users = arr(TAG.FILEUSERNAME, strs, false);
  const groups = arr(TAG.FILEGROUPNAME, strs, false);
  const links = arr(TAG.FILELINKTOS, strs, false);
  const mtimes = arr(TAG.FILEMTIMES, nums, false);
  const inodes = arr(TAG.FILEINODES, nums, false);
  const devices = arr(TAG.FILEDEVICES, nums, false);
  const rdevs = arr(TAG.FILERDEVS, nums, false);
  const caps = arr(TAG.FILECAPS, strs, false);
  const langs = arr(TAG.FILELANGS, strs, false);
  const verify = arr(TAG.FILEVERIFYFLAGS, nums, false);
  return ps.map((path, i) => {
    const mode = modes[i] ?? 0;
    const fl = flags[i] ?? 0;
    const f: RpmFile = {
      index: i,
      path,
      type: fileTypeOf(mode),
      mode,
      size: sizes[i] ?? 0,
      digest: (digests[i] ?? '').toLowerCase(),
      flags: fl,
      user: users[i] ?? 'root',
      group: groups[i] ?? 'root',
      linkTarget: links[i] ?? '',
      mtime: mtimes[i] ?? 0,
      inode: inodes[i] ?? 0,
      device: devices[i] ?? 0,
      rdev: rdevs[i] ?? 0,
      lang: langs[i] ?? '',
      verifyFlags: verify[i] ?? 0xffffffff,
      isGhost: (fl & FILEFLAG.GHOST) !== 0,
      isConfig: (fl & FILEFLAG.CONFIG) !== 0,
      isDoc: (fl & FILEFLAG.DOC) !== 0,
    };
    if (caps[i]) f.caps = caps[i];
    return f;
  });
}

/**
 * Hardlink sets: regular, non-ghost files sharing (device, inode) with inode > 0
 * (rpmfilesBuildNLink). Maps each member's index to the index of the set's last member in header
 * order, the only one whose payload entry carries data (formats.md §4.5).
 */
export function hardlinkHolders(files: readonly RpmFile[]): Map<number, number> {
  const sets = new Map<string, number[]>();
  for (const f of files) {
    if (f.type !== 'file' || f.isGhost || f.inode <= 0) continue;
    const k = `${f.device}:${f.inode}`;
    const s = sets.get(k);
    if (s) s.push(f.index);
    else sets.set(k, [f.index]);
  }
  const out = new Map<number, number>();
  for (const s of sets.values()) {
    if (s.length < 2) continue;
    const last = s[s.length - 1] as number;
    for (const i of s) out.set(i, last);
  }
  return out;
}
