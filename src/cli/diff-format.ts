/**
 * `layer db diff --format=block|diff|json`: rpm-ostree's three layouts of a package diff.
 *   block  `Upgraded:` / `Downgraded:` with `name old-evr -> new-evr`, then `Removed:` / `Added:` NEVRAs
 *   diff   `!old` `=new` for a changed version, `-` removed, `+` added (one NEVRA a line)
 *   json   `{"pkgdiff": [[name, type, {PreviousPackage, NewPackage}]]}`, each package
 *          `[name, evr, arch]`; type 0 added, 1 removed, 2 upgraded, 3 downgraded
 */
import { LayerError } from '../errors.js';
import type { PackageDiff } from '../engine/types.js';
import { formatEvr, parseNevra } from '../nevra.js';
import { escapeControl } from '../util/escape.js';

export type DiffFormat = 'block' | 'diff' | 'json';

export function diffFormatOf(v: string | undefined): DiffFormat | undefined {
  if (v === undefined) return undefined;
  if (v === 'block' || v === 'diff' || v === 'json') return v;
  throw new LayerError('LAYER_USAGE', `db diff: --format must be block, diff or json, not '${v}'`);
}

const parts = (nevra: string): [string, string, string] => {
  const p = parseNevra(nevra);
  return p ? [p.name, formatEvr(p), p.arch] : [nevra, '', ''];
};

export function blockText(d: PackageDiff): string {
  const out: string[] = [];
  const change = (c: { from: string; to: string }) => {
    const [name, a] = parts(c.from);
    return `  ${escapeControl(name)} ${escapeControl(a)} -> ${escapeControl(parts(c.to)[1])}`;
  };
  if (d.upgraded.length) out.push('Upgraded:', ...d.upgraded.map(change));
  if (d.downgraded.length) out.push('Downgraded:', ...d.downgraded.map(change));
  if (d.removed.length) out.push('Removed:', ...d.removed.map((n) => `  ${escapeControl(n)}`));
  if (d.added.length) out.push('Added:', ...d.added.map((n) => `  ${escapeControl(n)}`));
  return out.length ? out.join('\n') + '\n' : 'No package changes.\n';
}

export function diffLines(d: PackageDiff): string {
  const out = [
    ...[...d.upgraded, ...d.downgraded].flatMap((c) => [`!${c.from}`, `=${c.to}`]),
    ...d.removed.map((n) => `-${n}`),
    ...d.added.map((n) => `+${n}`),
  ];
  return out.map((l) => `${escapeControl(l)}\n`).join('');
}

export function pkgdiffJson(d: PackageDiff): { pkgdiff: [string, number, Record<string, [string, string, string]>][] } {
  const pkgdiff: [string, number, Record<string, [string, string, string]>][] = [];
  for (const n of d.added) pkgdiff.push([parts(n)[0], 0, { NewPackage: parts(n) }]);
  for (const n of d.removed) pkgdiff.push([parts(n)[0], 1, { PreviousPackage: parts(n) }]);
  for (const c of d.upgraded) pkgdiff.push([parts(c.from)[0], 2, { PreviousPackage: parts(c.from), NewPackage: parts(c.to) }]);
  for (const c of d.downgraded) pkgdiff.push([parts(c.from)[0], 3, { PreviousPackage: parts(c.from), NewPackage: parts(c.to) }]);
  return { pkgdiff };
}
