/**
 * dnf's installonly packages (kernels and the like): several versions of one name side by side
 * in the tree instead of the newer replacing the older. The solver is told which capabilities
 * are installonly (a multiversion job each, as libdnf does); the tree may then hold at most
 * `installonly_limit` versions of a name. dnf removes the oldest beyond the limit in a later
 * transaction but refuses one transaction that asks for more ("conflicting requests"); layering
 * re-solves every request each time and never removes a locked base package, so more versions
 * than the limit is always a refusal here, naming them.
 */
import { LayerError } from '../errors.js';
import { compareEvr, parseNevra, type Nevra, type NevraParts } from '../nevra.js';

/** dnf 4.14's default `installonlypkgs` (dnf/const.py). */
export const INSTALLONLY_PKGS: readonly string[] = [
  'kernel', 'kernel-PAE', 'installonlypkg(kernel)', 'installonlypkg(kernel-module)', 'installonlypkg(vm)', 'multiversion(kernel)',
];

/** dnf's default `installonly_limit`. */
export const DEFAULT_INSTALLONLY_LIMIT = 3;

/** dnf.conf(5): 0 means no limit; 1 is refused (an upgrade needs room for two). */
export function checkLimitValue(limit: number): void {
  if (!Number.isInteger(limit) || limit < 0 || limit === 1) {
    throw new LayerError('LAYER_USAGE', `installonly_limit must be 0 (no limit) or at least 2, not ${limit}`);
  }
}

/**
 * The new tree's versions per name, where a name has several (only installonly packages can):
 * more than `limit` is LAYER_UNSOLVABLE naming them, oldest first, base ones marked.
 */
export function checkInstallonlyLimit(packages: readonly Nevra[], base: ReadonlySet<string>, limit: number): void {
  if (limit === 0) return;
  const byName = new Map<string, (NevraParts & { nevra: Nevra })[]>();
  for (const n of packages) {
    const p = parseNevra(n);
    if (p) byName.set(p.name, [...(byName.get(p.name) ?? []), { ...p, nevra: n }]);
  }
  for (const [name, versions] of byName) {
    if (versions.length <= limit) continue;
    const list = versions.sort(compareEvr).map((v) => (base.has(v.nevra) ? `${v.nevra} (base)` : v.nevra));
    throw new LayerError('LAYER_UNSOLVABLE', `installonly_limit is ${limit}: ${name} would have ${versions.length} versions in the tree (${list.join(', ')})`, {
      hint: 'request fewer versions (layer uninstall), or raise --installonly-limit',
      data: { name, limit, versions: versions.map((v) => v.nevra) },
    });
  }
}
