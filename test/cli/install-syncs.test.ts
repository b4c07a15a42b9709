/**
 * The durability rule of a transaction, watched with strace (issues 9 and 12: speed without
 * weaker safety): an install makes its objects durable with exactly one syncfs, and that sync
 * comes before the boot-entry swap makes the new deployment the default. The package refs the
 * compose wrote are written before the sync and renamed in after it, with no fsync each (real
 * `ostree refs` lists them, `ostree fsck` is clean),
 * and a transaction of packages with nothing to run starts no bubblewrap. A deploy that
 * removes no deployment does not prune (nothing lost its last reference); `layer cleanup` does.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloneSysroot, ensureBuilt, initSysroot, layerJson, MAIN, ostreeFsck, removeTempDirs, requireTool, tempDir, testFixtures } from './helpers.js';

let base: string;

beforeAll(async () => {
  ensureBuilt();
  base = initSysroot(await testFixtures(), 'syncs');
}, 300_000);

afterAll(() => removeTempDirs());

/** `layer ARGS` under `strace -f`, tracing `calls`; the trace's lines. */
function traced(calls: string, args: string[]): string[] {
  requireTool('strace');
  const out = join(tempDir('syncs-trace'), 'trace');
  execFileSync('strace', ['-f', '-qq', '-y', '-e', `trace=${calls}`, '-o', out, 'node', MAIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(out, 'utf8').split('\n');
}

describe('durability of an install', () => {
  it('one syncfs, before the boot entries switch; package refs set after it; no bwrap for packages without scriptlets', () => {
    const s = cloneSysroot(base, 'syncs');
    const lines = traced('syncfs,rename,execve,fsync', ['install', '--sysroot', s, 'many-deps']);
    const syncs = lines.map((l, i) => [l, i] as const).filter(([l]) => /\bsyncfs\(/.test(l) && !l.includes('resumed'));
    expect(syncs.length, syncs.map(([l]) => l).join('\n')).toBe(1);
    const at = syncs[0]?.[1] ?? -1;
    // bootloader.ts swaps the `boot/loader` symlink by rename: the new default exists from then on.
    const swap = lines.findIndex((l) => /rename\(.*boot\/loader"\)/.test(l));
    expect(swap).toBeGreaterThan(at);
    // Every package ref is renamed into place after the sync.
    const refRenames = lines.map((l, i) => [l, i] as const).filter(([l]) => /rename\(.*refs\/heads\/layer\/pkg\//.test(l));
    expect(refRenames.length).toBe(21);
    expect(refRenames.every(([, i]) => i > at)).toBe(true);
    // Their values were written before the sync, which covered them: no fsync per package ref,
    // only the deployment's own ref is fsynced.
    const refSyncs = lines.filter((l) => /\bfsync\(\d+<[^>]*\/repo\/tmp\/ref-/.test(l));
    expect(refSyncs.length, refSyncs.join('\n')).toBe(1);
    expect(lines.some((l) => /execve\("[^"]*bwrap"/.test(l))).toBe(false);

    // `ostree refs PREFIX` lists the refs under it without the prefix.
    const refs = execFileSync('ostree', [`--repo=${join(s, 'ostree/repo')}`, 'refs', 'layer/pkg'], { encoding: 'utf8' }).split('\n').filter(Boolean);
    const names = ['many-deps', ...Array.from({ length: 20 }, (_, i) => `many-dep${String(i + 1).padStart(2, '0')}`)];
    expect(refs).toEqual(expect.arrayContaining(names.map((n) => `${n}/1.0-1.noarch`)));
    ostreeFsck(s);
    const st = layerJson(['status', '--sysroot', s]);
    expect(st.deployments[0]['requested-packages']).toContain('many-deps');
  }, 120_000);
});

describe('pruning after a deploy', () => {
  it('only when a deployment went: an orphan commit survives an install, not a cleanup', () => {
    const s = cloneSysroot(base, 'prune');
    const repo = `--repo=${join(s, 'ostree/repo')}`;
    const dir = join(tempDir('syncs-orphan'), 'tree');
    mkdirSync(join(dir, 'usr/share'), { recursive: true });
    writeFileSync(join(dir, 'usr/share/orphan'), 'left by a killed run\n');
    // Real ostree writes the leftover: a commit no ref names, as a crash before the ref leaves.
    const orphan = execFileSync('ostree', [repo, 'commit', '--orphan', `--tree=dir=${dir}`], { encoding: 'utf8' }).trim();
    const exists = () => { try { execFileSync('ostree', [repo, 'show', orphan], { stdio: 'ignore' }); return true; } catch { return false; } };
    expect(exists()).toBe(true);
    // One deployment before, two after: retention removes nothing.
    const r = layerJson(['install', '--sysroot', s, 'dep-a']);
    expect(r['removed-deployments']).toEqual([]);
    expect(exists()).toBe(true);
    const c = layerJson(['cleanup', '--sysroot', s]);
    expect(c['removed-objects']).toBeGreaterThan(0);
    expect(exists()).toBe(false);
    ostreeFsck(s);
  }, 120_000);
});
