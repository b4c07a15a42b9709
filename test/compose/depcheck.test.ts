/**
 * rpm's transaction check (src/compose/depcheck.ts) against real rpm: for each set of fixture
 * packages, `rpm -i --test` into an empty root reports "X is needed by Y" / "X conflicts with Y";
 * checkDependencies on the same packages' records must find exactly those problems.
 */
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDependencies, type CheckedPackage } from '../../src/compose/depcheck.js';
import { openRpm } from '../../src/rpm/index.js';
import { buildRpm, type FixtureSpec } from '../support/rpmbuild.js';
import { requireTool, tempDir } from '../support/tools.js';

const file = (name: string) => [{ path: `/usr/share/${name}/x`, content: `${name}\n` }];
const SPECS: Record<string, FixtureSpec> = {
  'broken-a': { name: 'broken-a', requires: ['not-provided-anywhere'], files: file('broken-a') },
  'cond-b': { name: 'cond-b', files: file('cond-b') },
  'cond-b2': { name: 'cond-b', version: '2.0', files: file('cond-b') },
  'alt-c': { name: 'alt-c', files: file('alt-c') },
  'rich-if': { name: 'rich-if', requires: ['(broken-a if cond-b else alt-c)'], files: file('rich-if') },
  'rich-or': { name: 'rich-or', requires: ['(alt-c or broken-a)'], files: file('rich-or') },
  'rich-and': { name: 'rich-and', requires: ['(alt-c and cond-b >= 2.0)'], files: file('rich-and') },
  'rich-with': { name: 'rich-with', requires: ['(cond-b with cond-b >= 2.0)'], files: file('rich-with') },
  'needs-b2': { name: 'needs-b2', requires: ['cond-b >= 2.0'], files: file('needs-b2') },
  'needs-file': { name: 'needs-file', requires: ['/usr/share/alt-c/x'], files: file('needs-file') },
  'conf-x': { name: 'conf-x', conflicts: ['cond-b < 2.0'], files: file('conf-x') },
};

/** Sets installed together, each compared with rpm's verdict. */
const CASES: string[][] = [
  ['broken-a'],
  ['rich-if', 'cond-b'],
  ['rich-if', 'alt-c'],
  ['rich-if'],
  ['rich-or'],
  ['rich-or', 'alt-c'],
  ['rich-and', 'alt-c', 'cond-b'],
  ['rich-and', 'alt-c', 'cond-b2'],
  ['rich-with', 'cond-b'],
  ['rich-with', 'cond-b2'],
  ['needs-b2', 'cond-b'],
  ['needs-b2', 'cond-b2'],
  ['needs-file'],
  ['needs-file', 'alt-c'],
  ['conf-x', 'cond-b'],
  ['conf-x', 'cond-b2'],
];

const built = new Map<string, string>();

beforeAll(async () => {
  requireTool('rpm');
  requireTool('rpmbuild', 'rpm');
  for (const [key, spec] of Object.entries(SPECS)) built.set(key, await buildRpm(spec));
}, 300_000);

/** rpm's problems for installing `keys` into an empty root, normalised to "dep|package" lines. */
function rpmProblems(keys: string[]): string[] {
  const root = tempDir('depcheck', 'root');
  const db = ['--root', root, '--dbpath', '/usr/lib/sysimage/rpm'];
  expect(spawnSync('rpm', [...db, '--initdb']).status).toBe(0);
  const r = spawnSync('rpm', [...db, '-i', '--test', '--nosignature', '--nodigest', ...keys.map((k) => built.get(k) ?? '')], { encoding: 'utf8' });
  return r.stderr.split('\n').map((l) => l.trim())
    .map((l) => /^(.*) is needed by (\S+)$/.exec(l) ?? /^(.*) conflicts with (\S+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => `${m[1]}|${m[2]}`).sort();
}

async function ourProblems(keys: string[]): Promise<string[]> {
  const pkgs: CheckedPackage[] = [];
  for (const k of keys) {
    const rpm = await openRpm(built.get(k) ?? '');
    pkgs.push({ ...rpm.toRecord(), nevra: rpm.nevra });
  }
  // rpm names the conflicting package in its line ("cond-b < 2.0 conflicts with conf-x-1.0-1.noarch").
  return checkDependencies(pkgs, pkgs, []).map((p) => `${p.dependency}|${p.package}`).sort();
}

describe('checkDependencies agrees with rpm -i --test', () => {
  for (const keys of CASES) {
    it(keys.join(' + '), async () => {
      const want = rpmProblems(keys);
      const got = await ourProblems(keys);
      expect(got).toEqual(want);
    });
  }

  it('the cases cover both verdicts and both kinds', async () => {
    const all = CASES.map(rpmProblems);
    expect(all.filter((p) => p.length === 0).length).toBeGreaterThan(4);
    expect(all.flat().some((l) => l.startsWith('(broken-a if cond-b else alt-c)|'))).toBe(true);
    expect(all.flat().some((l) => l.startsWith('cond-b < 2.0|'))).toBe(true);
  });
});

describe('removals', () => {
  it('a kept package that needed what a removed package provided is a problem; an untouched broken one is not', async () => {
    const rec = async (k: string): Promise<CheckedPackage> => {
      const rpm = await openRpm(built.get(k) ?? '');
      return { ...rpm.toRecord(), nevra: rpm.nevra };
    };
    const [needs, b2, broken] = [await rec('needs-b2'), await rec('cond-b2'), await rec('broken-a')];
    // broken-a was already broken in the base: not this transaction's doing.
    expect(checkDependencies([needs, broken], [], [b2]).map((p) => `${p.dependency}|${p.package}`)).toEqual(['cond-b >= 2.0|needs-b2-1.0-1.noarch']);
    expect(checkDependencies([needs, b2, broken], [], [])).toEqual([]);
  });
});
