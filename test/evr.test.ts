/**
 * EVR ordering oracle: every pair is compared by our `evrcmp` and by the rpm installed on this
 * machine (`rpm.vercmp` in rpm's embedded Lua, which parses `[epoch:]version[-release]` the
 * way rpm does when it orders packages): a hand-picked list naming the rules, a cross product
 * of building blocks, and a seeded random spread. All pairs go to rpm in one invocation (a Lua
 * file run with dofile, so no argument-length limit), so the test stays fast however many pairs
 * there are. Needs: rpm (apt-get install -y rpm).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evrcmp, loadSolver } from '../src/solver/index.js';
import { mulberry32 } from './support/prng.js';
import { compareEvr, formatEvr, formatNevra, parseNevra } from '../src/nevra.js';

/** Hand-picked pairs, each naming the rule it exercises. */
const PAIRS: Array<[string, string]> = [
  // tilde sorts before anything, even the end of the string
  ['1.0~rc1', '1.0'], ['1.0~rc1', '1.0~rc2'], ['1.0~~', '1.0~'], ['1.0~rc1', '1.0~rc1'],
  ['1.0~', '1.0'], ['1.0~rc1-1', '1.0-1'], ['1.0-1~beta', '1.0-1'], ['1~', '1~~'],
  ['1.0~rc1', '1.0.0'], ['2.0~alpha', '1.9'],
  // caret sorts after the end of the string but before anything else
  ['1.0^', '1.0'], ['1.0^git1', '1.0'], ['1.0^git1', '1.0.1'], ['1.0^git1', '1.0^git2'],
  ['1.0^git1', '1.01'], ['1.0^20240101', '1.0~rc1'], ['1.0^', '1.0^1'], ['1.0^1', '1.0^1'],
  ['1.0^~', '1.0^'], ['1.0~^', '1.0~'], ['1.0^a', '1.0a'],
  // epochs dominate; a missing epoch is 0
  ['1:1.0-1', '1.0-1'], ['0:1.0-1', '1.0-1'], ['1:1.0', '2:0.1'], ['10:1', '9:99'],
  ['2:1.0-1', '1:9.9-9'], ['0:0', '0'], ['3:1.0~rc1', '3:1.0'], ['01:1.0', '1:1.0'],
  // alphanumeric segments: numbers beat letters, letters compare bytewise
  ['1.0a', '1.0'], ['1.0a', '1.0b'], ['1.0a', '1.0.1'], ['a', 'b'], ['A', 'a'], ['1a', '1'],
  ['1.a', '1.1'], ['abc', 'abd'], ['1.0rc1', '1.0'], ['1.0rc1', '1.0.rc1'], ['2a', '10'],
  ['xyz10', 'xyz2'], ['1.0.a1', '1.0.1a'], ['fc33', 'fc4'], ['el9_2', 'el9_10'], ['el9', 'el9.1'],
  // leading zeros are ignored in numeric segments
  ['1.01', '1.1'], ['1.001', '1.01'], ['1.010', '1.10'], ['1.0010', '1.9'], ['007', '7'],
  ['1.00', '1.0'], ['0001.2', '1.2'], ['1.09', '1.9.0'],
  // long numbers (beyond 32 and 64 bits)
  ['20240101123456', '20240101123457'], ['123456789012345678901234567890', '123456789012345678901234567891'],
  ['99999999999999999999', '100000000000000000000'],
  // empty and missing releases
  ['1.0', '1.0-1'], ['1.0-', '1.0-1'], ['1.0-', '1.0'], ['1.0-0', '1.0'], ['1:1.0', '1:1.0-1'],
  ['1.0-1', '1.0-1.el9'], ['1.0-1.el9', '1.0-2.el8'], ['1.0-10', '1.0-9'],
  // separators: any run of non-alphanumerics is one separator, whatever it is
  ['1.0', '1_0'], ['1..0', '1.0'], ['1.0', '1+0'], ['1-0', '1.0'], ['1.0.', '1.0'], ['.1.0', '1.0'],
  ['1.0_1', '1.0.1'], ['1.0+git', '1.0.git'], ['1:1.0', '1:1_0'], ['1.0--1', '1.0-1'],
  ['1.0.0', '1.0'], ['1.0', '1'], ['1.0.0.0', '1.0.0'],
  // identical and real-world
  ['2.34-21.el9', '2.34-21.el9'], ['1:3.0.7-1.el9', '1:3.0.1-5.el9'], ['8.2.2637-21.el9', '8.2.2637-20.el9'],
  ['249-9.el9', '250~rc1-1.el9'], ['5.1.8-2.el9', '5.1.16-2.el9'], ['2:4.9-3.el9', '2:4.9-10.el9'],
  ['1.2.3-4.fc40', '1.2.3-4.fc40.1'], ['0.9.10-15.el9', '0.9.9-15.el9'],
];

/** Building blocks crossed with each other, so rpm, not a hand table, decides most answers. */
const GENERATED_BASES = [
  '1.0', '1.0-1', '1:1.0', '1.0~rc1', '1.0^git1', '1.01', '1.0a', '1.0.1', '1_0', '2', '1.0-1.el9',
  '0:1.0-0', '1.0.0~beta-2', '10', '9.9', 'a1',
];

function generatedPairs(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < GENERATED_BASES.length; i++) {
    for (let j = i + 1; j < GENERATED_BASES.length; j++) out.push([GENERATED_BASES[i]!, GENERATED_BASES[j]!]);
  }
  return out;
}


/**
 * Random EVRs built from the pieces that make ordering interesting (numbers with and without
 * leading zeros, letters, `~`, `^`, separators, epochs, missing releases); a third of the pairs
 * are near-misses of the same string, where the subtle rules decide.
 */
function randomPairs(count: number, seed: number): Array<[string, string]> {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const atoms = ['0', '1', '2', '9', '10', '01', '001', 'a', 'b', 'Z', 'rc', 'git', '~', '^', '.', '_', '+'];
  const part = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) s += pick(atoms);
    return s.replace(/^[~^._+]+/, '') || '1';
  };
  const evr = (): string => {
    const epoch = rand() < 0.2 ? `${pick(['0', '1', '2', '10'])}:` : '';
    const release = rand() < 0.7 ? `-${part(1 + Math.floor(rand() * 3))}` : '';
    return epoch + part(1 + Math.floor(rand() * 5)) + release;
  };
  const out: Array<[string, string]> = [];
  for (let i = 0; i < count; i++) {
    const a = evr();
    out.push([a, rand() < 0.33 ? a + pick(['', '~', '^', '.0', 'a', '~rc1', '^1']) : evr()]);
  }
  return out;
}

/** A Lua string literal made of decimal escapes: nothing in it can be read as rpm macro syntax. */
function luaString(s: string): string {
  return '"' + [...Buffer.from(s, 'utf8')].map((b) => `\\${String(b).padStart(3, '0')}`).join('') + '"';
}

/** rpm's verdict on every pair, from one `rpm --eval` call. */
function rpmVercmp(pairs: Array<[string, string]>): number[] {
  const which = spawnSync('sh', ['-c', 'command -v rpm'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error('rpm is not installed; run: apt-get install -y rpm (or: bash scripts/setup.sh)');
  const calls = pairs.map(([a, b]) => `c(${luaString(a)}, ${luaString(b)})`).join('\n');
  // rpm's Lua print() does not separate lines, so collect and print one space-joined string.
  const chunk = `local out = ""\nlocal function c(a, b) out = out .. " " .. rpm.vercmp(a, b) end\n${calls}\nprint(out)\n`;
  const dir = mkdtempSync(join(tmpdir(), 'layer-evr-'));
  const file = join(dir, 'pairs.lua');
  writeFileSync(file, chunk);
  const r = spawnSync('rpm', ['--eval', `%{lua: dofile("${file}")}`], { encoding: 'utf8', maxBuffer: 1 << 24 });
  rmSync(dir, { recursive: true, force: true });
  if (r.error || r.status !== 0) throw new Error(`rpm --eval failed (status ${r.status}): ${r.stderr || r.error?.message}`);
  const results = r.stdout.trim().split(/\s+/).map(Number);
  if (results.length !== pairs.length || results.some((n) => ![-1, 0, 1].includes(n))) {
    throw new Error(`rpm --eval gave ${results.length} results for ${pairs.length} pairs: ${r.stdout.slice(0, 200)} ${r.stderr}`);
  }
  return results;
}

describe('evrcmp agrees with rpm', () => {
  const pairs = [...PAIRS, ...generatedPairs(), ...randomPairs(1000, 20241124)];
  let rpm: number[];

  beforeAll(async () => {
    await loadSolver();
    rpm = rpmVercmp(pairs);
  });

  it(`covers at least 100 pairs with every outcome represented (${pairs.length} pairs)`, () => {
    expect(PAIRS.length + generatedPairs().length).toBeGreaterThanOrEqual(100);
    for (const outcome of [-1, 0, 1]) expect(rpm.filter((n) => n === outcome).length).toBeGreaterThan(5);
  });

  it('gives rpm.vercmp\'s answer for every pair, in both orders', () => {
    const wrong: string[] = [];
    pairs.forEach(([a, b], i) => {
      const want = rpm[i]!;
      const got = evrcmp(a, b);
      const back = evrcmp(b, a);
      if (got !== want) wrong.push(`evrcmp('${a}', '${b}') = ${got}, rpm says ${want}`);
      if (back !== -want) wrong.push(`evrcmp('${b}', '${a}') = ${back}, rpm says ${-want}`);
    });
    expect(wrong, wrong.join('\n')).toEqual([]);
  });
});

describe('src/nevra compareEvr (pure TypeScript) agrees with rpm', () => {
  const pairs = [...PAIRS, ...generatedPairs(), ...randomPairs(1000, 20241124)];
  let rpm: number[];
  beforeAll(() => {
    rpm = rpmVercmp(pairs);
  });

  it('gives rpm.vercmp\'s answer for every pair, in both orders', () => {
    const wrong: string[] = [];
    pairs.forEach(([a, b], i) => {
      const want = rpm[i]!;
      const got = compareEvr(a, b);
      const back = compareEvr(b, a);
      if (got !== want) wrong.push(`compareEvr('${a}', '${b}') = ${got}, rpm says ${want}`);
      if (back !== -want) wrong.push(`compareEvr('${b}', '${a}') = ${back}, rpm says ${-want}`);
    });
    expect(wrong, wrong.join('\n')).toEqual([]);
  });

  it('formats and parses NEVRAs both ways', () => {
    const p = { name: 'glibc-langpack-en', epoch: 2, version: '2.34', release: '21.el9', arch: 'x86_64' };
    expect(formatNevra(p)).toBe('glibc-langpack-en-2:2.34-21.el9.x86_64');
    expect(parseNevra('glibc-langpack-en-2:2.34-21.el9.x86_64')).toEqual(p);
    expect(parseNevra('bash-5.2.15-2.noarch')).toEqual({ name: 'bash', epoch: 0, version: '5.2.15', release: '2', arch: 'noarch' });
    expect(parseNevra('bash')).toBeUndefined();
    expect(formatEvr({ epoch: 0, version: '1.0', release: '1' })).toBe('1.0-1');
  });
});
