/**
 * Where a file from an RPM payload goes in an image-based tree, following rpm-ostree:
 *
 * | payload path | goes to |
 * | --- | --- |
 * | `etc/…` | `usr/etc/…` (ostree merges it into /etc at deploy time, formats.md §3) |
 * | `boot/…` | `usr/lib/ostree-boot/…` |
 * | `var/…`, `run/…`, `tmp/…` | not into the tree: a tmpfiles.d line creates it at boot — `d` for a directory, `L` for a symlink; a regular file is stored under `usr/share/factory/<path>` and copied by a `C` line (systemd's factory convention) |
 * | `opt`, `usr/local` themselves | skipped: the base tree has them as symlinks into /var (`var/opt`, `var/usrlocal`) |
 * | directories below them | `d /var/opt/…`, `d /var/usrlocal/…` tmpfiles lines |
 * | files or symlinks below them | **rejected** (LAYER_STORE): they would land in mutable /var where updates never reach |
 * | anything else | unchanged |
 */
import { formatEvr } from '../nevra.js';
import { LayerError } from '../errors.js';
import type { FileType } from '../rpm/index.js';

export type Placement =
  | { kind: 'tree'; path: string }
  /** Created at boot by systemd-tmpfiles; `path` is absolute. */
  | { kind: 'tmpfiles'; path: string }
  | { kind: 'skip' };

const FACTORY = 'usr/share/factory';

function under(path: string, top: string): string | undefined {
  if (path === top) return '';
  return path.startsWith(`${top}/`) ? path.slice(top.length + 1) : undefined;
}

/** Where the payload entry `path` (relative, normalised) of type `type` goes. */
export function placeEntry(path: string, type: FileType, pkg: string): Placement {
  let rest = under(path, 'etc');
  if (rest !== undefined) return { kind: 'tree', path: rest ? `usr/etc/${rest}` : 'usr/etc' };
  rest = under(path, 'boot');
  if (rest !== undefined) return { kind: 'tree', path: rest ? `usr/lib/ostree-boot/${rest}` : 'usr/lib/ostree-boot' };
  for (const [top, varPath] of [['opt', '/var/opt'], ['usr/local', '/var/usrlocal']] as const) {
    rest = under(path, top);
    if (rest === undefined) continue;
    if (rest === '') return { kind: 'skip' };
    if (type === 'dir') return { kind: 'tmpfiles', path: `${varPath}/${rest}` };
    throw new LayerError('LAYER_STORE', `${pkg}: /${path}: content under /${top} is not supported on image-based systems (/${top} is a symlink into ${varPath}, which updates never touch)`, {
      hint: `repackage the software to install under /usr`,
    });
  }
  for (const top of ['var', 'run', 'tmp']) {
    if (under(path, top) !== undefined) return { kind: 'tmpfiles', path: `/${path}` };
  }
  return { kind: 'tree', path };
}

/** Where the factory copy of a regular file bound for mutable storage lives in the tree. */
export function factoryPath(absPath: string): string {
  return `${FACTORY}${absPath}`;
}

/** tmpfiles.d(5) quoting: C-style escapes for whitespace, quotes, backslash and control bytes. */
export function tmpfilesQuote(s: string): string {
  return s.replace(/[\s\\"'\x00-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * rpm-ostree's ref escaping (`rpmostree/pkg/<name>/<evr>.<arch>`): ASCII letters, digits, `.`
 * and `-` stay; `_` becomes `__`; any other byte becomes `_XX` (uppercase hex). The epoch is
 * left out when 0, else written `E:` (so `_3A`).
 */
export function escapeRefPart(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9.-]/.test(c)) out += c;
    else if (c === '_') out += '__';
    else out += `_${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function packageRef(p: { name: string; epoch: number; version: string; release: string; arch: string }): string {
  const evr = formatEvr(p);
  return `layer/pkg/${escapeRefPart(p.name)}/${escapeRefPart(evr)}.${escapeRefPart(p.arch)}`;
}
