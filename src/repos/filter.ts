/**
 * dnf `excludepkgs` / `includepkgs`: fnmatch-style globs (`*`, `?`, `[...]`) matched against
 * every package-spec form dnf accepts: name, name.arch, name-version, name-version-release,
 * name-version-release.arch, and the last three with the epoch (`name-1:2.0`, `name-1:2.0-3.x86_64`,
 * also `0:`).
 * Patterns that match no package of the repo are reported (dnf 4.14 says nothing about them).
 */
import type { PackageRecord } from '../solver/types.js';

export function globToRegExp(glob: string): RegExp {
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

/** The spellings a package answers to in a dnf package spec. */
export function specForms(p: Pick<PackageRecord, 'name' | 'epoch' | 'version' | 'release' | 'arch'>): string[] {
  const vr = `${p.version}-${p.release}`;
  const evr = `${p.epoch}:${vr}`;
  // hawkey's forms: NAME, NA, NEV, NEVR, NEVRA, the epoch optional in the last three.
  return [p.name, `${p.name}.${p.arch}`, `${p.name}-${p.version}`, `${p.name}-${vr}`, `${p.name}-${vr}.${p.arch}`,
    `${p.name}-${p.epoch}:${p.version}`, `${p.name}-${evr}`, `${p.name}-${evr}.${p.arch}`];
}

/**
 * A predicate keeping the packages dnf would keep (undefined when there is nothing to filter),
 * and the patterns that matched nothing so far (call after filtering every record).
 */
export function makeFilter(exclude: string[], include: string[]): (NameFilter & { unmatched(): string[] }) | undefined {
  if (exclude.length === 0 && include.length === 0) return undefined;
  const pats = [...exclude.map((p) => ({ p, re: globToRegExp(p), ex: true })), ...include.map((p) => ({ p, re: globToRegExp(p), ex: false }))];
  const hit = new Set<string>();
  const matches = (ex: boolean, forms: string[]) => {
    let any = false;
    for (const x of pats) {
      if (x.ex !== ex || !forms.some((f) => x.re.test(f))) continue;
      hit.add(x.p);
      any = true;
    }
    return any;
  };
  const keep = (p: PackageRecord) => {
    const forms = specForms(p);
    const excluded = matches(true, forms);
    const included = matches(false, forms);
    return !excluded && (include.length === 0 || included);
  };
  return Object.assign(keep, { unmatched: () => pats.map((x) => x.p).filter((p) => !hit.has(p)) });
}

/** Source packages (arch src/nosrc): dnf ignores them unless asked for, and so does layer. */
export function isSourcePackage(p: Pick<PackageRecord, 'arch'>): boolean {
  return p.arch === 'src' || p.arch === 'nosrc';
}
