/**
 * Composing with a partial tree: when all the scriptlets step would run is ldconfig
 * (scriptlets-transaction.ts transactionWork: a library layered onto a base, glibc's
 * `%transfiletriggerin -p /sbin/ldconfig`, or a recipe base whose packages have no other
 * scriptlets), only what ldconfig and the rpmdb writer look at is checked out: library-named
 * files, every symlink (a directory alias such as lib -> usr/lib) and what a library-named one
 * points at, ld.so.conf and its directory, passwd and group (ownership is resolved against
 * them), the ldconfig binary, the rpmdb's directories (RPMDB_DIRS: checked out whole), and
 * every top-level entry (bubblewrap's mount points are decided on those). The steps after run
 * on that tree as on a full one; the commit is the object-level union of the layers with that
 * tree laid over it (Store.overlayTree): the same commit the full checkout gives
 * (test/compose/partial.test.ts).
 *
 * Why: the full checkout links every file of the base into a scratch directory, and the
 * commit reads every one back, to take in an ld.so.cache and a few soname links. On the
 * demo base that was 600 entries checked out, committed and removed for 60 that matter; on a
 * distribution base, tens of thousands.
 *
 * `ldconfigInputs` says undefined whenever the full checkout must run instead: other work than
 * ldconfig, anything that rules out the object-level union (direct.ts planUnion: removed base
 * packages, a kernel, a file conflict, a repository not in bare mode or a caller not root), or
 * a library link leading out of the tree or in a loop.
 */
import { readByLdconfig } from '../scriptlets-transaction.js';
import type { Checksum, Store, UnionDir } from '../../store/index.js';
import { RPMDB_DIRS } from '../../rpmdb/index.js';
import { planUnion } from './direct.js';
import type { ApplyState } from './state.js';

/** A partial tree: the union it was checked out from, what was placed (Store.overlayTree), and the union's files. */
export interface PartialTree {
  union: UnionDir;
  placed: Set<string>;
  /** Every file of the union by path, with its content checksum (Store.unionFiles). */
  files: ReadonlyMap<string, Checksum>;
  /** Its ldconfig inputs' key (ldconfig-memo.ts ldconfigKey). */
  key: string;
}

/** Account databases resolveOwnership reads (after usr/etc is moved to etc for the scriptlets). */
const ACCOUNTS = new Set(['passwd', 'group', 'shadow', 'gshadow']);

/** What ldconfig would see of the plan's union: the paths a partial tree holds (nothing checked out yet). */
export interface LdconfigInputs extends Omit<PartialTree, 'key'> {
  /** The files checked out (the rest of `placed` are directories). */
  want: ReadonlySet<string>;
}

/** The partial tree the plan's union gives, not checked out; undefined when the full checkout must run (see the module comment). */
export function ldconfigInputs(s: ApplyState): LdconfigInputs | undefined {
  const union = planUnion(s);
  if (!union) return undefined;
  const store = s.ctx.store;
  const files = store.unionFiles(union);
  const want = wantedFiles(store, union, files);
  if (!want) return undefined;
  return { union, files, want, placed: store.unionPartPaths(union, (path) => want.has(path), anchored) };
}

/** Check `inputs` out into `s.root`: the partial tree the later steps work on, with its ldconfig key (ldconfig-memo.ts). */
export function checkoutPartial(s: ApplyState, inputs: LdconfigInputs, key: string): PartialTree {
  const placed = s.ctx.store.checkoutUnionPart(inputs.union, s.root, (path) => inputs.want.has(path), anchored);
  return { union: inputs.union, placed, files: inputs.files, key };
}

/**
 * The files to check out: those `wanted` names, every symlink, and what a library-named
 * symlink points at, through any chain of links (ldconfig reads the target's ELF header for
 * its soname: Debian's `usr/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/...` goes
 * through the `lib -> usr/lib` link; alternatives through /etc/alternatives). Undefined when a
 * target leaves the tree or the links loop: the full checkout then decides, as ldconfig would.
 */
function wantedFiles(store: Store, union: UnionDir, files: ReadonlyMap<string, Checksum>): Set<string> | undefined {
  // At scriptlet time usr/etc is moved to etc: a link into /etc lands in usr/etc (scriptlets.ts withEtc).
  const etcMoved = !union.dirs.has('etc') && !union.files.has('etc') && union.find(store, 'usr/etc') !== undefined;
  const links = new Links(store, files, etcMoved);
  const out = new Set<string>();
  for (const [path, csum] of files) {
    const target = links.target(csum);
    if (target === undefined && !wanted(path)) continue;
    out.add(path);
    if (target === undefined || !readByLdconfig(`/${path}`)) continue;
    let at = path;
    let link: string | undefined = target;
    for (let hops = 0; link !== undefined; hops++) {
      const next = hops < MAX_HOPS ? links.resolve(at, link) : null;
      if (next === null) return undefined;
      const found = files.get(next);
      if (found === undefined) break; // dangling in the full tree too
      out.add(next);
      at = next;
      link = links.target(found);
    }
  }
  return out;
}

/** Symlink hops followed before a chain counts as a loop (the kernel's limit is 40; ldconfig's trees need a few). */
const MAX_HOPS = 16;

/** Symlinks of a union, resolved at the object level as the tree would resolve them. */
class Links {
  private readonly targets = new Map<Checksum, string | undefined>();
  constructor(
    private readonly store: Store, private readonly files: ReadonlyMap<string, Checksum>, private readonly etcMoved: boolean,
  ) {}

  target(csum: Checksum): string | undefined {
    if (!this.targets.has(csum)) this.targets.set(csum, this.store.symlinkTarget(csum));
    return this.targets.get(csum);
  }

  /** The tree path symlink `link` at `at` names, every directory on the way resolved; null when it leaves the tree or loops. */
  resolve(at: string, link: string): string | null {
    let parts = this.join(at.split('/').slice(0, -1), link);
    let hops = 0;
    for (let i = 0; parts !== null && i < parts.length - 1; i++) {
      const csum = this.files.get(parts.slice(0, i + 1).join('/'));
      const target = csum === undefined ? undefined : this.target(csum);
      if (target === undefined) continue;
      if (++hops > MAX_HOPS) return null;
      const to = this.join(parts.slice(0, i), target);
      parts = to === null ? null : [...to, ...parts.slice(i + 1)];
      i = -1; // the target may hold links of its own: walk again from the top
    }
    return parts === null ? null : parts.join('/');
  }

  /** `link` taken from directory `dir` (parts), normalized; null when `..` leaves the tree. */
  private join(dir: readonly string[], link: string): string[] | null {
    const parts = link.startsWith('/') ? [] : [...dir];
    for (const p of link.split('/')) {
      if (p === '' || p === '.') continue;
      if (p !== '..') parts.push(p);
      else if (parts.pop() === undefined) return null;
    }
    if (this.etcMoved && parts[0] === 'etc') parts.splice(0, 1, 'usr', 'etc');
    return parts;
  }
}

/** A file ldconfig, the rpmdb writer or the ownership step reads, by its path in the tree. */
function wanted(path: string): boolean {
  const slash = path.lastIndexOf('/');
  const dir = path.slice(0, slash);
  const name = path.slice(slash + 1);
  if (slash < 0 || readByLdconfig(`/${path}`) || name === 'ldconfig') return true;
  if ((dir === 'usr/etc' || dir === 'etc') && ACCOUNTS.has(name)) return true;
  return RPMDB_DIRS.some((d) => path.startsWith(`${d}/`));
}

/** Directories checked out even when empty: top-level ones, /etc, ld.so.conf.d, the rpmdb's and those above them. */
function anchored(path: string): boolean {
  if (!path.includes('/')) return true;
  // The rpmdb's directories, those below them, and those above them: a directory the rpmdb
  // writer makes takes its group and setgid bit from its parent, so the parent must be there
  // with its metadata, as in a full checkout (a setgid usr/lib/sysimage gave rpm/ 0755 here
  // and 02755 there: test/compose/partial.test.ts).
  return path === 'usr/etc' || path.endsWith('/ld.so.conf.d')
    || RPMDB_DIRS.some((d) => path === d || path.startsWith(`${d}/`) || d.startsWith(`${path}/`));
}

/** The commit step's tree: the union with the partial tree laid over it. */
export function overlaid(s: ApplyState, part: PartialTree): UnionDir {
  s.ctx.store.overlayTree(part.union, s.root, part.placed);
  return part.union;
}
