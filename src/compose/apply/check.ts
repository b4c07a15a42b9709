/**
 * Step check: rpm's transaction check (depcheck.ts) on the new tree's package set, before
 * anything is imported or checked out: a package the solver chose whose Requires nothing in
 * the tree satisfies (a broken weak dependency, a repo with a hole) fails the transaction,
 * naming the package and the capability, instead of becoming the next boot's root.
 */
import { formatNevra } from '../../nevra.js';
import type { PackageRecord } from '../../solver/index.js';
import { checkDependencies, dependencyError, type CheckedPackage } from '../depcheck.js';
import type { ApplyState } from './state.js';
import { need } from './state.js';

export async function checkTransaction(s: ApplyState): Promise<void> {
  const base = new Map<string, PackageRecord>(s.base.records.map((r) => [formatNevra(r), r]));
  const checked = (nevra: string, r: PackageRecord | undefined): CheckedPackage[] => (r ? [{ ...r, nevra }] : []);
  const kept = s.kept.flatMap((p) => checked(p.nevra, base.get(p.nevra)));
  const installed = s.installs.flatMap((step) => checked(step.nevra, need(s.rpms, step.nevra, 'opened package').toRecord()));
  const removed = s.plan.removed.flatMap((n) => checked(n, base.get(n)));
  const problems = checkDependencies([...kept, ...installed], installed, removed);
  if (problems.length > 0) throw dependencyError(problems);
}
