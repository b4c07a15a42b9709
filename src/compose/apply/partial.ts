/**
 * Composing with a partial tree: when all the scriptlets step would run is ldconfig
 * (scriptlets-transaction.ts onlyLdconfig: a library layered onto a base, glibc's
 * `%transfiletriggerin -p /sbin/ldconfig`, or a recipe base whose packages have no other
 * scriptlets), only what ldconfig and the rpmdb writer look at is checked out: library-named
 * files, every symlink (a directory alias such as lib -> usr/lib), ld.so.conf and its
 * directory, passwd and group (ownership is resolved against them), the ldconfig binary, the
 * rpmdb's directories, and every top-level entry (bubblewrap's mount points are decided on
 * those). The steps after run on that tree as on a full one; the commit is the object-level
 * union of the layers with that tree laid over it (Store.overlayTree): the same commit the
 * full checkout gives (test/compose/partial.test.ts).
 *
 * Why: the full checkout links every file of the base into a scratch directory, and the
 * commit reads every one back, to take in an ld.so.cache and a few soname links. On the
 * demo base that was 600 entries checked out, committed and removed for 60 that matter; on a
 * distribution base, tens of thousands.
 *
 * `partialUnion` says undefined whenever the full checkout must run instead: other work than
 * ldconfig, removed base packages (prunedBase), a kernel (kernel.ts needs the whole tree), a
 * file conflict (the checkout reports it), a repository not in bare mode or a caller not root.
 */
import { readByLdconfig } from '../scriptlets-transaction.js';
import type { UnionDir } from '../../store/index.js';
import { hasKernel } from './direct.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

/** A partial tree: the union it was checked out from and what was placed (Store.overlayTree). */
export interface PartialTree {
  union: UnionDir;
  placed: Set<string>;
}

/** Where the rpmdb writer looks for a database (rpmdb/write.ts): checked out whole. */
const RPMDB_DIRS = ['usr/lib/sysimage/rpm', 'usr/share/rpm', 'var/lib/rpm'];
/** Account databases resolveOwnership reads (after usr/etc is moved to etc for the scriptlets). */
const ACCOUNTS = new Set(['passwd', 'group', 'shadow', 'gshadow']);

/** Check out the part of the plan's union ldconfig needs into `s.root`, or undefined (see the module comment). */
export function partialUnion(s: ApplyState, ldconfigOnly: boolean): PartialTree | undefined {
  const { plan, ctx } = s;
  if (ctx.direct === false || !ldconfigOnly || plan.removed.length > 0) return undefined;
  if (ctx.store.mode !== 'bare' || process.geteuid?.() !== 0) return undefined;
  const commits = [...(plan.base.commit ? [plan.base.commit] : []), ...s.installs.map((step) => need(s.commits, step.nevra, 'package commit'))];
  const union = ctx.store.unionOf(commits, plan.options.replaceFiles ? { replaceFiles: true } : {});
  if (!union || hasKernel(ctx.store, union)) return undefined;
  const placed = ctx.store.checkoutUnionPart(union, s.root, (f) => wanted(f.path) || f.isSymlink(), anchored);
  return { union, placed };
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

/** Directories checked out even when empty: top-level ones, /etc, ld.so.conf.d, the rpmdb's. */
function anchored(path: string): boolean {
  if (!path.includes('/')) return true;
  return path === 'usr/etc' || path.endsWith('/ld.so.conf.d') || RPMDB_DIRS.some((d) => path === d || path.startsWith(`${d}/`));
}

/** The commit step's tree: the union with the partial tree laid over it. */
export function overlaid(s: ApplyState, part: PartialTree): UnionDir {
  s.ctx.store.overlayTree(part.union, s.root, part.placed);
  return part.union;
}
