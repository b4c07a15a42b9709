/**
 * A writer for the cpio "newc" format (SVR4 without CRC, magic `070701`), the one format the
 * kernel unpacks as an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst):
 * a 110-byte ASCII header of thirteen 8-digit hex fields, the NUL-terminated name padded so the
 * data starts on a 4-byte boundary, the data padded to 4 bytes, and a `TRAILER!!!` entry last.
 *
 * Deterministic by construction: entries are written sorted by path, with inode numbers given
 * in that order, uid/gid 0 and one fixed mtime, so the same inputs give the same bytes (and so
 * the same bootcsum and commit).
 */
import { LayerError } from '../errors.js';

export type CpioEntry =
  | { path: string; type: 'dir'; mode: number }
  | { path: string; type: 'file'; mode: number; data: Uint8Array }
  | { path: string; type: 'symlink'; target: string }
  /** A character device node such as /dev/console (c 5 1): made here, no privileges needed. */
  | { path: string; type: 'chardev'; mode: number; major: number; minor: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new LayerError('LAYER_INTERNAL', `assertion failed: cpio field ${n} out of range`);
  return n.toString(16).padStart(8, '0');
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

function record(fields: { ino: number; mode: number; nlink: number; mtime: number; size: number; rmajor: number; rminor: number }, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const head =
    '070701' +
    hex8(fields.ino) + hex8(fields.mode) + hex8(0) + hex8(0) + hex8(fields.nlink) + hex8(fields.mtime) + hex8(fields.size) +
    hex8(0) + hex8(0) + hex8(fields.rmajor) + hex8(fields.rminor) + hex8(nameBytes.length) + hex8(0);
  return Buffer.concat([Buffer.from(head, 'ascii'), nameBytes, Buffer.alloc(pad4(110 + nameBytes.length))]);
}

/**
 * The archive of `entries` (paths relative, no leading `/`), sorted by path; every parent
 * directory must be listed before its children (sorting guarantees it when it is listed at all).
 */
export function writeCpio(entries: readonly CpioEntry[], opts: { mtime?: number } = {}): Buffer {
  const mtime = opts.mtime ?? 0;
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  sorted.forEach((e, i) => {
    if (!e.path || e.path.startsWith('/') || e.path.split('/').some((c) => c === '' || c === '.' || c === '..')) {
      throw new LayerError('LAYER_INTERNAL', `assertion failed: cpio path '${e.path}' is not a normalised relative path`);
    }
    if (seen.has(e.path)) throw new LayerError('LAYER_INTERNAL', `assertion failed: cpio path '${e.path}' listed twice`);
    seen.add(e.path);
    const ino = i + 1;
    if (e.type === 'dir') {
      parts.push(record({ ino, mode: S_IFDIR | e.mode, nlink: 2, mtime, size: 0, rmajor: 0, rminor: 0 }, e.path));
    } else if (e.type === 'chardev') {
      parts.push(record({ ino, mode: S_IFCHR | e.mode, nlink: 1, mtime, size: 0, rmajor: e.major, rminor: e.minor }, e.path));
    } else {
      const data = e.type === 'file' ? Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength) : Buffer.from(e.target, 'utf8');
      const mode = e.type === 'file' ? S_IFREG | e.mode : S_IFLNK | 0o777;
      parts.push(record({ ino, mode, nlink: 1, mtime, size: data.length, rmajor: 0, rminor: 0 }, e.path), data, Buffer.alloc(pad4(data.length)));
    }
  });
  parts.push(record({ ino: 0, mode: 0, nlink: 1, mtime: 0, size: 0, rmajor: 0, rminor: 0 }, 'TRAILER!!!'));
  return Buffer.concat(parts);
}
