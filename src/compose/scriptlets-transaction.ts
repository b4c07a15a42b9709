/**
 * All install-time scriptlets of one layering transaction, in the order the compose stage
 * needs them. The files of every layered package must already be in the tree.
 *
 *   1. `%pre` of each layered package, in transaction (install) order — they create the
 *      users and groups the package's files belong to.
 *      (rpm runs each %pre before unpacking that package; like rpm-ostree we lay all files
 *      down first, because the tree is assembled from the store before any script runs.)
 *   2. Ownership: the owner names of the layered packages' files are resolved against the
 *      tree's passwd/group (resolveOwnership), and `applyOwnership` is called so the files
 *      carry the right ids before any %post looks at them.
 *   3. `%post` of each layered package, in order.
 *   4. `%posttrans` of each layered package, in order.
 *   5. `%transfiletriggerin` of every package in the new tree that has one — base packages
 *      included (glibc's ldconfig trigger fires for a layered library) — when files of the
 *      layered packages match its prefixes; higher priority first, as rpm orders them.
 *   6. The tree's own ldconfig (when it has one) refreshes /etc/ld.so.cache once: that is
 *      all the allow-listed Lua scriptlets (glibc's %post) would have done, and packages
 *      that install libraries without a scriptlet are covered too. It runs when a scriptlet
 *      ran (it may have written anything) or a layered file is one ldconfig reads
 *      (readByLdconfig); otherwise the cache cannot have changed. `ldconfig: false` skips it.
 * The first failure stops everything with LAYER_SCRIPTLET (the new deployment is discarded;
 * nothing of the running system has been touched).
 */
import { lchown } from 'node:fs/promises';
import { silentReport, type Report } from '../report.js';
import { resolveInTree } from './sandbox-paths.js';
import {
  runScriptlet, skipReason, slotOf, transFileTriggerMatches,
  type RunScriptletOptions, type Scriptlet, type ScriptletOutcome, type ScriptletPackage,
} from './scriptlets.js';
import { resolveOwnership, type Ownership } from './users.js';

/** A file of a layered package, as far as ownership is concerned (RpmFile has these fields). */
export interface OwnedFile {
  path: string;
  user: string;
  group: string;
}

export interface TransactionPackage extends ScriptletPackage {
  scriptlets: readonly Scriptlet[];
  files: readonly OwnedFile[];
}

export interface TransactionOptions extends Omit<RunScriptletOptions, 'triggerFiles'> {
  report?: Report;
  /**
   * Packages of the tree that are NOT being installed but whose %transfiletriggerin may fire
   * (the base image's packages, from its rpmdb). Their other scriptlets never run.
   */
  installed?: readonly (ScriptletPackage & { scriptlets: readonly Scriptlet[] })[];
  /**
   * Give the files their owners after the %pre scripts ran. Default: lchown each file whose
   * owner is not root:root in the tree. A compose that checks out hardlinks from a store must
   * pass its own (changing a hardlinked inode would change the store object).
   */
  applyOwnership?: (own: Ownership, files: readonly OwnedFile[]) => Promise<void>;
  /** Run the tree's ldconfig at the end (default true). */
  ldconfig?: boolean;
}

export interface TransactionResult {
  ownership: Ownership;
  outcomes: (ScriptletOutcome & { nevra: string })[];
}

/** Run the scriptlets of `layered` (in install order) against `tree`. See the module comment for the order. */
export async function runTransactionScriptlets(
  tree: string,
  layered: readonly TransactionPackage[],
  opts: TransactionOptions = {},
): Promise<TransactionResult> {
  const report = opts.report ?? silentReport;
  const outcomes: TransactionResult['outcomes'] = [];
  const slot = async (name: 'pre' | 'post' | 'posttrans') => {
    for (const pkg of layered) {
      for (const s of pkg.scriptlets) {
        if (slotOf(s) !== name) continue;
        outcomes.push({ ...(await runScriptlet(tree, pkg, s, opts)), nevra: pkg.nevra });
      }
    }
  };

  // Record (and report) what is deliberately not run: %pretrans, uninstall slots, triggers.
  for (const pkg of layered) {
    for (const s of pkg.scriptlets) {
      if (skipReason(slotOf(s))) outcomes.push({ ...(await runScriptlet(tree, pkg, s, opts)), nevra: pkg.nevra });
    }
  }
  await slot('pre');
  const files = layered.flatMap((p) => p.files);
  const ownership = await resolveOwnership(
    tree,
    { users: new Set(files.map((f) => f.user)), groups: new Set(files.map((f) => f.group)) },
    { report },
  );
  await (opts.applyOwnership ?? chownInTree(tree))(ownership, files);
  await slot('post');
  await slot('posttrans');

  const paths = files.map((f) => f.path);
  const triggers = [...(opts.installed ?? []), ...layered]
    .flatMap((pkg) => pkg.scriptlets.filter((s) => slotOf(s) === 'transfiletriggerin').map((s) => ({ pkg, s })))
    .sort((a, b) => (b.s.priority ?? 1_000_000) - (a.s.priority ?? 1_000_000));
  for (const { pkg, s } of triggers) {
    const matches = transFileTriggerMatches(s, paths);
    if (matches.length === 0) continue;
    outcomes.push({ ...(await runScriptlet(tree, pkg, s, { ...opts, triggerFiles: matches })), nevra: pkg.nevra });
  }
  if (opts.ldconfig !== false && (outcomes.some((o) => o.status === 'ran') || files.some((f) => readByLdconfig(f.path)))) {
    const ldconfig = (await resolveInTree(tree, '/usr/sbin/ldconfig')) ? '/usr/sbin/ldconfig' : (await resolveInTree(tree, '/sbin/ldconfig')) ? '/sbin/ldconfig' : undefined;
    if (ldconfig) {
      const ld = { name: 'layer', nevra: 'layer (ld.so cache refresh)' };
      outcomes.push({ ...(await runScriptlet(tree, ld, { kind: 'posttrans', interpreter: ldconfig, body: undefined }, opts)), nevra: ld.nevra });
    } else report.info('scriptlet.no-ldconfig', 'the new tree has no ldconfig; /etc/ld.so.cache left as is');
  }
  return { ownership, outcomes };
}

/**
 * Whether ldconfig would look at `path`: its configuration (/etc/ld.so.conf, .d/), or a name it
 * considers in a library directory — glibc's ldconfig skips every entry whose name neither
 * starts with "lib" or "ld-" nor contains ".so" (elf/ldconfig.c, search_dir). Directories
 * count too: a new one may be named by a new ld.so.conf.d file.
 */
export function readByLdconfig(path: string): boolean {
  if (path.includes('/ld.so.conf')) return true;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return (name.startsWith('lib') || name.startsWith('ld-')) && name.includes('.so');
}

/**
 * What running the transaction would do:
 * - 'none': nothing can change. No layered package has a scriptlet (even a skipped slot is
 *   recorded), no base %transfiletriggerin matches a layered file, every file is root's, and
 *   ldconfig reads no layered file. The compose needs no writable view, no bubblewrap and no
 *   ldconfig: the tree is final as assembled.
 * - 'ldconfig': ldconfig is all it runs. Every file is root's, and every scriptlet and matching
 *   trigger that would run is ldconfig itself with no script (`%post -p /sbin/ldconfig`,
 *   glibc's `%transfiletriggerin -p /sbin/ldconfig`). ldconfig reads library-named entries,
 *   symlinks and ld.so.conf, and writes ld.so.cache and soname links: such a transaction needs
 *   only those in its tree (apply/partial.ts).
 * - 'other': anything else.
 */
export function transactionWork(
  layered: readonly TransactionPackage[], opts: Pick<TransactionOptions, 'installed' | 'ldconfig'> = {},
): 'none' | 'ldconfig' | 'other' {
  const files = layered.flatMap((p) => p.files);
  const paths = files.map((f) => f.path);
  const notRoot = files.some((f) => f.user !== 'root' || f.group !== 'root');
  const scriptlets = layered.flatMap((p) => p.scriptlets);
  const triggers = (opts.installed ?? []).flatMap((p) => p.scriptlets.filter((s) => slotOf(s) === 'transfiletriggerin'));
  const matching = triggers.filter((s) => transFileTriggerMatches(s, paths).length > 0);
  const readsLibraries = opts.ldconfig !== false && paths.some(readByLdconfig);
  if (scriptlets.length === 0 && !notRoot && matching.length === 0 && !readsLibraries) return 'none';
  if (opts.ldconfig === false || notRoot) return 'other';
  const runs = [...scriptlets.filter((s) => !skipReason(slotOf(s))), ...matching];
  return runs.every((s) => s.body === undefined && /^(\/usr)?\/sbin\/ldconfig$/.test(s.interpreter ?? '')) ? 'ldconfig' : 'other';
}

/** Whether running the transaction could change anything (transactionWork is not 'none'). */
export function transactionHasWork(layered: readonly TransactionPackage[], opts: Pick<TransactionOptions, 'installed' | 'ldconfig'> = {}): boolean {
  return transactionWork(layered, opts) !== 'none';
}

/** The default applyOwnership: lchown inside the tree (never following a symlink out of it). */
function chownInTree(tree: string) {
  return async (own: Ownership, files: readonly OwnedFile[]): Promise<void> => {
    for (const f of files) {
      const uid = own.uid.get(f.user) ?? 0;
      const gid = own.gid.get(f.group) ?? 0;
      if (uid === 0 && gid === 0) continue;
      // Resolve the parent inside the tree, then lchown the entry itself.
      const slash = f.path.lastIndexOf('/');
      const parent = await resolveInTree(tree, f.path.slice(0, slash) || '/');
      if (!parent) continue; // %ghost or not laid down: nothing to own
      await lchown(`${parent}/${f.path.slice(slash + 1)}`, uid, gid).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
  };
}
