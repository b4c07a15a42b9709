/** Package lists and diffs of deployments (`layer db list`, `layer db diff`), read from each tree's rpmdb. */
import { withBase } from '../compose/index.js';
import { LayerError, withContext } from '../errors.js';
import type { Store } from '../store/index.js';
import { openRpmdb } from '../rpmdb/index.js';
import { compareEvr, formatEvr, parseNevra, type Nevra, type NevraParts } from '../nevra.js';
import type { Deployment } from '../sysroot/index.js';
import type { PackageDiff } from './types.js';

export interface ListedPackage {
  name: string;
  nevra: Nevra;
  /** `[epoch:]version-release`, for ordering. */
  evr: string;
}

const listed = (pkgs: ReadonlyArray<NevraParts & { nevra: Nevra }>): ListedPackage[] =>
  pkgs.filter((p) => p.name !== 'gpg-pubkey').map((p) => ({ name: p.name, nevra: p.nevra, evr: formatEvr(p) })).sort((a, b) => (a.nevra < b.nevra ? -1 : 1));

/**
 * The packages of a commit, from its rpmdb in the store (never a deployment's mutable copy: a
 * damaged copy in the current deployment must not block the transaction that replaces it).
 */
export async function listCommitPackages(store: Store, commit: string, cacheDir: string): Promise<ListedPackage[]> {
  return withBase(store, commit, cacheDir, async (base) => listed(base.packages));
}

/**
 * A plan's package set (Plan.packages) as listed packages: what the rpmdb apply writes for it
 * holds (apply/rpmdb.ts: the base's packages less the plan's removals, plus its installs), read
 * without opening that database again (a private copy of it, and every header parsed).
 */
export function listedFromPlan(packages: readonly Nevra[]): ListedPackage[] {
  return listed(packages.map((n) => {
    const parts = parseNevra(n);
    if (!parts) throw new LayerError('LAYER_INTERNAL', `assertion failed: plan package '${n}' is not a NEVRA`);
    return { ...parts, nevra: n };
  }));
}

export function listPackages(tree: string): ListedPackage[] {
  let db;
  try {
    db = openRpmdb(tree);
  } catch (err) {
    throw withContext(`reading the rpmdb of ${tree}`, err);
  }
  try {
    return listed(db.packages());
  } finally {
    db.close();
  }
}

/**
 * What changed from tree `a` to tree `b`, by package name. A name with one version on each
 * side is an upgrade or a downgrade; where either side has several versions of a name
 * (install-only packages such as kernels, kept side by side), each version present on only
 * one side is added or removed, and the versions on both sides are no change.
 */
export function diffPackages(a: ListedPackage[], b: ListedPackage[]): PackageDiff {
  const byName = (l: ListedPackage[]) => {
    const m = new Map<string, ListedPackage[]>();
    for (const p of l) m.set(p.name, [...(m.get(p.name) ?? []), p]);
    return m;
  };
  const ma = byName(a);
  const mb = byName(b);
  const diff: PackageDiff = { added: [], removed: [], upgraded: [], downgraded: [] };
  for (const [name, nb] of mb) {
    const na = ma.get(name);
    if (!na) {
      diff.added.push(...nb.map((p) => p.nevra));
      continue;
    }
    const inA = new Set(na.map((p) => p.nevra));
    const inB = new Set(nb.map((p) => p.nevra));
    const onlyB = nb.filter((p) => !inA.has(p.nevra));
    const onlyA = na.filter((p) => !inB.has(p.nevra));
    if (onlyA.length === 0 && onlyB.length === 0) continue;
    if (na.length === 1 && nb.length === 1) {
      const [from, to] = [na[0]!, nb[0]!];
      (compareEvr(to.evr, from.evr) >= 0 ? diff.upgraded : diff.downgraded).push({ from: from.nevra, to: to.nevra });
      continue;
    }
    diff.added.push(...onlyB.map((p) => p.nevra));
    diff.removed.push(...onlyA.map((p) => p.nevra));
  }
  for (const [name, na] of ma) if (!mb.has(name)) diff.removed.push(...na.map((p) => p.nevra));
  return diff;
}

export function diffDeployments(a: Deployment, b: Deployment): PackageDiff {
  if (a.path === b.path) throw new LayerError('LAYER_USAGE', `db diff: both sides are deployment ${a.id}`);
  return diffPackages(listPackages(a.path), listPackages(b.path));
}
