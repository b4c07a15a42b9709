/**
 * Step scriptlets: %pre, ownership, %post, %posttrans and the base's %transfiletriggerin run in
 * bubblewrap on an overlay of the assembled tree (overlay.ts), so a scriptlet never writes
 * the store's objects. Scriptlets expect /etc where the tree keeps usr/etc: it is moved there
 * for the duration and back, whatever happens. A transaction with nothing to run (see
 * transactionHasWork) skips all of it: dnf would run nothing either. A partial tree whose
 * inputs an earlier compose had takes that compose's ldconfig output (ldconfig-memo.ts).
 */
import { readdir, rename, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readScriptlets, TAG } from '../../rpm/index.js';
import type { InstalledPackage } from '../../rpmdb/index.js';
import { withWritableView } from '../overlay.js';
import { LDCONFIG_REUSED, noteLdconfig, replayLdconfig } from './ldconfig-memo.js';
import { runTransactionScriptlets, transactionHasWork, transactionWork, type TransactionOptions, type TransactionPackage } from '../scriptlets-transaction.js';
import { slotOf } from '../scriptlets.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

/** Mount points bwrap creates when the tree lacks them: not ours to ship. */
const MOUNT_POINTS = ['tmp', 'run', 'proc', 'dev', 'sys', 'var'];

export async function runScriptlets(s: ApplyState): Promise<void> {
  if (s.union || s.installs.length === 0) return;
  const { txn, options } = scriptletTransaction(s);
  // Nothing to run (no scriptlet, trigger, owner or library): skip the overlay mount and bwrap.
  if (!transactionHasWork(txn, options)) return;
  // A partial tree (ldconfig alone) whose inputs an earlier compose had: its output (ldconfig-memo.ts).
  if (s.partial && replayLdconfig(s.ctx.store, s.ctx.cacheDir, s.partial.key, s.root)) {
    s.ctx.report.info('scriptlet.ldconfig-reused', LDCONFIG_REUSED);
    return;
  }
  const before = new Set(await readdir(s.root));
  await withEtc(s.root, () => withWritableView(s.root, s.scratch, (view) => runTransactionScriptlets(view, txn, options), s.ctx.report));
  for (const m of MOUNT_POINTS) if (!before.has(m)) await rmdir(join(s.root, m)).catch(() => {});
  if (s.partial) noteLdconfig(s.ctx.store, s.ctx.cacheDir, s.root, s.partial);
}

/** What this step would do: nothing, ldconfig alone, or more (scriptlets-transaction.ts transactionWork). */
export function scriptletWork(s: ApplyState): ReturnType<typeof transactionWork> {
  if (s.installs.length === 0) return 'none';
  const { txn, options } = scriptletTransaction(s);
  return transactionWork(txn, options);
}

/** Built once per compose: the checkout step asks first (scriptletWork), this step after. */
const transactions = new WeakMap<ApplyState, { txn: TransactionPackage[]; options: TransactionOptions }>();

/** The transaction this step would run: the layered packages' scriptlets and files, the base's file triggers. */
export function scriptletTransaction(s: ApplyState): { txn: TransactionPackage[]; options: TransactionOptions } {
  const known = transactions.get(s);
  if (known) return known;
  const made = buildTransaction(s);
  transactions.set(s, made);
  return made;
}

function buildTransaction(s: ApplyState): { txn: TransactionPackage[]; options: TransactionOptions } {
  const txn: TransactionPackage[] = s.installs.map((step) => {
    const rpm = need(s.rpms, step.nevra, 'opened package');
    const prefixes = rpm.header.strings(TAG.PREFIXES);
    return { name: rpm.name, nevra: rpm.nevra, scriptlets: rpm.scriptlets, files: rpm.files, ...(prefixes.length ? { prefixes } : {}) };
  });
  const timeout = s.plan.options.scriptletTimeoutMs;
  return { txn, options: { report: s.ctx.report, installed: baseTriggers(s.kept), ...(timeout ? { timeoutMs: timeout } : {}) } };
}

/**
 * The base packages' %transfiletriggerin scriptlets (glibc's ldconfig, systemd's reloads...):
 * they fire for layered files under their prefixes; nothing else of the base runs.
 */
function baseTriggers(kept: readonly InstalledPackage[]): NonNullable<TransactionOptions['installed']> {
  const out: NonNullable<TransactionOptions['installed']>[number][] = [];
  for (const p of kept) {
    if (!p.header.has(TAG.TRANSFILETRIGGERSCRIPTS)) continue;
    const scriptlets = readScriptlets(p.header, `base package ${p.nevra}`).filter((x) => slotOf(x) === 'transfiletriggerin');
    if (scriptlets.length) out.push({ name: p.name, nevra: p.nevra, scriptlets });
  }
  return out;
}

async function withEtc<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const usrEtc = join(root, 'usr/etc');
  const etc = join(root, 'etc');
  const move = (await stat(usrEtc).catch(() => undefined))?.isDirectory() && !(await stat(etc).catch(() => undefined));
  if (!move) return fn();
  await rename(usrEtc, etc);
  try {
    return await fn();
  } finally {
    await rename(etc, usrEtc);
  }
}
