/** Package lists and diffs of deployments (`layer db list`, `layer db diff`), read from each tree's rpmdb. */
import { LayerError, withContext } from '../errors.js';
import { openRpmdb } from '../rpmdb/index.js';
import { evrcmp, type Nevra } from '../solver/index.js';
import type { Deployment } from '../sysroot/index.js';
import type { PackageDiff } from './types.js';

export interface ListedPackage {
  name: string;
  nevra: Nevra;
  /** `[epoch:]version-release`, for ordering. */
  evr: string;
}

export function listPackages(tree: string): ListedPackage[] {
  let db;
  try {
    db = openRpmdb(tree);
  } catch (err) {
    throw withContext(`reading the rpmdb of ${tree}`, err);
  }
  try {
    return db.packages().filter((p) => p.name !== 'gpg-pubkey').map((p) => ({ name: p.name, nevra: p.nevra, evr: `${p.epoch ? `${p.epoch}:` : ''}${p.version}-${p.release}` })).sort((a, b) => (a.nevra < b.nevra ? -1 : 1));
  } finally {
    db.close();
  }
}

/** What changed from tree `a` to tree `b`, by package name. */
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
    if (!na) diff.added.push(...nb.map((p) => p.nevra));
    else if (na.map((p) => p.nevra).join() !== nb.map((p) => p.nevra).join()) {
      const from = na[0]!;
      const to = nb[0]!;
      (evrcmp(to.evr, from.evr) >= 0 ? diff.upgraded : diff.downgraded).push({ from: from.nevra, to: to.nevra });
    }
  }
  for (const [name, na] of ma) if (!mb.has(name)) diff.removed.push(...na.map((p) => p.nevra));
  return diff;
}

export function diffDeployments(a: Deployment, b: Deployment): PackageDiff {
  if (a.path === b.path) throw new LayerError('LAYER_USAGE', `db diff: both sides are deployment ${a.id}`);
  return diffPackages(listPackages(a.path), listPackages(b.path));
}
