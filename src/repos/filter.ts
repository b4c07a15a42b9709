/**
 * dnf `excludepkgs` / `includepkgs`: fnmatch-style globs (`*`, `?`, `[...]`) matched against a
 * package's name (and, as dnf also accepts, `name.arch` and `name-version-release.arch`).
 */
import type { PackageRecord } from '../solver/types.js';

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) re += '\\[';
      else {
        let set = glob.slice(i + 1, end);
        if (set.startsWith('!')) set = `^${set.slice(1)}`;
        re += `[${set.replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export type NameFilter = (pkg: PackageRecord) => boolean;

/** A predicate keeping the packages dnf would keep; undefined when there is nothing to filter. */
export function makeFilter(exclude: string[], include: string[]): NameFilter | undefined {
  if (exclude.length === 0 && include.length === 0) return undefined;
  const ex = exclude.map(globToRegExp);
  const inc = include.map(globToRegExp);
  const matches = (res: RegExp[], p: PackageRecord) => {
    const forms = [p.name, `${p.name}.${p.arch}`, `${p.name}-${p.version}-${p.release}.${p.arch}`];
    return res.some((r) => forms.some((f) => r.test(f)));
  };
  return (p) => !matches(ex, p) && (inc.length === 0 || matches(inc, p));
}
