/**
 * The transaction is shown before anything is done, and on an interactive terminal (without -y)
 * the user is asked. Interactive runs go through a real pseudo-terminal: util-linux `script`
 * gives `layer` a pty for stdin/stdout/stderr and forwards our stdin (the answer) to it.
 * "Nothing changed" is checked on disk: deployments, refs, repo objects, package cache.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneSysroot, ensureBuilt, initSysroot, layerJson, MAIN, removeTempDirs, requireTool, tempDir, testFixtures, type Fixtures } from './helpers.js';

let f: Fixtures;
let base: string;

beforeAll(async () => {
  requireTool('script', 'bsdutils');
  ensureBuilt();
  f = await testFixtures();
  base = initSysroot(f, 'confirm');
}, 180_000);

afterAll(() => removeTempDirs());

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
/** Terminal output as text: colour/cursor sequences and carriage returns removed. */
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').replace(/\r/g, '');

interface Run {
  code: number | null;
  out: string;
}

/** `layer ARGS` on a pseudo-terminal, `answer` typed in; stdout and stderr interleaved as seen. */
function onTty(args: string[], answer: string, redirect = ''): Run {
  const cmd = `node ${quote(MAIN)} ${args.map(quote).join(' ')}${redirect}`;
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { input: answer, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`script -qec ${cmd}: ${r.error.message}`);
  return { code: r.status, out: plain(r.stdout) };
}

/** `layer ARGS` with no terminal: stdin closed, stdout and stderr into one pipe (order kept). */
function piped(args: string[]): Run {
  const r = spawnSync('sh', ['-c', `exec node ${quote(MAIN)} ${args.map(quote).join(' ')} </dev/null 2>&1`], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout };
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => !e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

/** Everything a transaction could write: deployments, refs (with their commits), objects, package cache. */
function snapshot(s: string): object {
  const repo = join(s, 'ostree/repo');
  return {
    status: layerJson(['status', '--sysroot', s]).deployments.map((d: any) => [d.id, d.checksum, d.booted]),
    deploy: readdirSync(join(s, 'ostree/deploy/demo/deploy')).sort(),
    refs: files(join(repo, 'refs')).map((r) => `${r}=${readFileSync(join(repo, 'refs', r), 'utf8').trim()}`),
    objects: files(join(repo, 'objects')),
    packages: files(join(s, 'ostree/layer/cache/packages')),
  };
}

/** Index of `needle` in `hay`, failing with the whole output when it is missing. */
function at(hay: string, needle: string | RegExp): number {
  const i = typeof needle === 'string' ? hay.indexOf(needle) : hay.search(needle);
  if (i < 0) throw new Error(`${String(needle)} not in output:\n${hay}`);
  return i;
}

describe('transaction shown before acting', () => {
  it('without a terminal: the table comes after the solve and before download, import, compose and deploy; nothing is asked', () => {
    const s = cloneSysroot(base, 'piped');
    const r = piped(['install', '--sysroot', s, 'with-weak']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).not.toContain('Is this ok');
    const table = at(r.out, /Installing:\n(\s+.*\n)*\s+with-weak\s.*requested/);
    expect(at(r.out, /^solve: \d+ ms$/m)).toBeLessThan(table);
    expect(at(r.out, 'Transaction: 3 packages')).toBeGreaterThan(table);
    for (const later of [/^download: \d+ ms$/m, /^import: \d+ ms$/m, /^commit: \d+ ms$/m, /^deploy: \d+ ms$/m, 'Added:', 'New default deployment']) {
      expect(at(r.out, later), String(later)).toBeGreaterThan(at(r.out, 'Transaction: 3 packages'));
    }
    // Shown once: not again after the compose.
    expect(r.out.split('Transaction: ').length).toBe(2);
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['requested-packages']).toEqual(['with-weak']);
  });

  it('on a terminal, "n" aborts before anything is downloaded or written', () => {
    const s = cloneSysroot(base, 'no');
    const before = snapshot(s);
    const r = onTty(['install', '--sysroot', s, 'with-weak'], 'n\n');
    expect(r.code, r.out).toBe(1);
    const ask = at(r.out, 'Is this ok [y/N]:');
    expect(at(r.out, 'Transaction: 3 packages')).toBeLessThan(ask);
    expect(at(r.out, 'Aborted.')).toBeGreaterThan(ask);
    expect(r.out).not.toMatch(/^(download|import|checkout|commit|deploy): \d+ ms$/m);
    expect(r.out).not.toContain('New default deployment');
    expect(snapshot(s)).toEqual(before);
  });

  it('on a terminal, end of input (no answer) is a no', () => {
    const s = cloneSysroot(base, 'eof');
    const before = snapshot(s);
    const r = onTty(['uninstall', '--sysroot', s, '--idempotent', 'nothing-layered'], '');
    // Nothing requested, nothing to remove: unchanged, never asked.
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain('No change.');
    const i = onTty(['install', '--sysroot', s, 'dep-a'], '\x04');
    expect(i.code, i.out).toBe(1);
    expect(i.out).toContain('Aborted.');
    expect(snapshot(s)).toEqual(before);
  });

  it('on a terminal, "y" proceeds: asked after the table, before download and deploy', () => {
    const s = cloneSysroot(base, 'yes');
    const r = onTty(['install', '--sysroot', s, 'with-weak'], 'y\n');
    expect(r.code, r.out).toBe(0);
    const ask = at(r.out, 'Is this ok [y/N]:');
    expect(at(r.out, 'Transaction: 3 packages')).toBeLessThan(ask);
    for (const later of [/^download: \d+ ms$/m, /^deploy: \d+ ms$/m, 'Added:', 'New default deployment']) {
      expect(at(r.out, later), String(later)).toBeGreaterThan(ask);
    }
    const [pending] = layerJson(['status', '--sysroot', s]).deployments;
    expect(pending['requested-packages']).toEqual(['with-weak']);

    // Uninstall asks too; "no" keeps the new deployment as it is.
    const before = snapshot(s);
    const u = onTty(['uninstall', '--sysroot', s, 'with-weak'], 'no\n');
    expect(u.code, u.out).toBe(1);
    expect(u.out).toContain('Is this ok [y/N]:');
    expect(snapshot(s)).toEqual(before);
  });

  it('-y never asks, on a terminal; --dry-run and --json never ask either', () => {
    const s = cloneSysroot(base, 'assumeyes');
    const dry = onTty(['install', '--sysroot', s, '--dry-run', 'dep-a'], '');
    expect(dry.code, dry.out).toBe(0);
    expect(dry.out).not.toContain('Is this ok');
    expect(dry.out).toContain('Dry run: nothing was changed.');
    expect(dry.out.split('Transaction: ').length).toBe(2);

    const out = join(tempDir('json'), 'out.json');
    const j = onTty(['install', '--sysroot', s, '--json', 'dep-a'], '', ` > ${quote(out)}`);
    expect(j.code, j.out).toBe(0);
    // stdout is the JSON alone (the table is in it, not before it).
    const parsed = JSON.parse(readFileSync(out, 'utf8'));
    expect(parsed.outcome).toBe('deployed');
    expect(parsed.transaction.map((t: any) => t.name)).toEqual(['dep-a']);

    const y = onTty(['install', '--sysroot', s, '-y', 'weak-b'], '');
    expect(y.code, y.out).toBe(0);
    expect(y.out).not.toContain('Is this ok');
    // The table is the change: weak-b alone (dep-a is already layered and stays as it is).
    expect(at(y.out, 'Transaction: 1 package,')).toBeLessThan(at(y.out, 'New default deployment'));
    expect(layerJson(['status', '--sysroot', s]).deployments[0]['requested-packages']).toEqual(['dep-a', 'weak-b']);
  });
});
