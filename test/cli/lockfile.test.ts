/**
 * Lockfiles and reproducible commits (issue 13) through the CLI: `--lockfile-out` records what
 * a composition used, `--lockfile` recomposes exactly that, in another sysroot, to the same
 * commit checksum; a pinned package that vanished from its repo is a clear error and nothing is
 * deployed.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm } from '../support/rpmbuild.js';
import { BASE_PACKAGES, ensureBuilt, layer, layerJson, removeTempDirs, repoFile, tempDir, testFixtures, type Fixtures } from './helpers.js';

let f: Fixtures;
let reposdir: string;
let pinsRepo: string;
let v1: string;
let v2: string;

beforeAll(async () => {
  ensureBuilt();
  f = await testFixtures();
  const stage = tempDir('lock-rpms');
  v1 = join(stage, 'pinned-tool-1.0-1.noarch.rpm');
  v2 = join(stage, 'pinned-tool-2.0-1.noarch.rpm');
  writeFileSync(v1, readFileSync(await buildRpm({ name: 'pinned-tool', version: '1.0', files: [{ path: '/usr/share/pinned-tool/v', content: '1\n' }] })));
  writeFileSync(v2, readFileSync(await buildRpm({ name: 'pinned-tool', version: '2.0', files: [{ path: '/usr/share/pinned-tool/v', content: '2\n' }] })));
  pinsRepo = join(tempDir('lock-repo'), 'repo');
  makeRepo(pinsRepo, [v1]);
  reposdir = tempDir('lock-reposdir');
  // The pins repo is re-read every time (metadata_expire=0): the test changes it under the lockfile.
  writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, updates: f.updates, extra: f.extra }) +
    `\n[pins]\nname=pins\nbaseurl=file://${pinsRepo}\ngpgcheck=0\nmetadata_expire=0\n`);
}, 300_000);

afterAll(() => removeTempDirs());

function init(tag: string, ...extra: string[]): { sysroot: string; commit: string } {
  const sysroot = join(tempDir(tag), 'sysroot');
  const j = layerJson(['init', '--sysroot', sysroot, '--osname', 'demo', '--reposdir', reposdir, ...extra, ...BASE_PACKAGES]);
  return { sysroot, commit: j.commit };
}

/** Two sysroots with one base commit (the second composed from the first's base lockfile). */
function twoSysroots(tag: string): [string, string] {
  const baseLock = join(tempDir(`${tag}-lock`), 'base.lock.json');
  const a = init(`${tag}-a`, '--lockfile-out', baseLock);
  const b = init(`${tag}-b`, '--lockfile', baseLock);
  if (a.commit !== b.commit) throw new Error(`base commits differ: ${a.commit} ${b.commit}`);
  return [a.sysroot, b.sysroot];
}

describe('lockfiles', () => {
  it('the same lockfile gives the same commit checksum in a second sysroot, for the base and a layered deployment', () => {
    const dir = tempDir('lock-out');
    const baseLock = join(dir, 'base.lock.json');
    const a = init('lock-a', '--lockfile-out', baseLock);
    const lock = JSON.parse(readFileSync(baseLock, 'utf8'));
    expect(lock.version).toBe(1);
    expect(lock.base).toMatchObject({ ref: 'demo/base', commit: null, recipe: BASE_PACKAGES });
    expect(lock.repos.map((r: { id: string }) => r.id)).toEqual(['base', 'updates', 'extra', 'pins']);
    for (const r of lock.repos) expect(r['repomd-sha256']).toMatch(/^[0-9a-f]{64}$/);
    const bash = lock.packages.find((p: { nevra: string }) => p.nevra.startsWith('bash-'));
    expect(bash).toMatchObject({ repo: 'base', checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(lock['source-date-epoch']).toBeGreaterThan(1_600_000_000);

    // Another directory, later: the same base commit, checksum for checksum.
    const b = init('lock-b', '--lockfile', baseLock);
    expect(b.commit).toBe(a.commit);

    const layered = join(dir, 'layered.lock.json');
    const ia = layerJson(['install', '-y', '--sysroot', a.sysroot, '--lockfile-out', layered, 'openssl', 'with-weak', 'pinned-tool']);
    const pins = JSON.parse(readFileSync(layered, 'utf8'));
    expect(pins.base.commit).toBe(a.commit);
    expect(pins.requested).toEqual(['openssl', 'with-weak', 'pinned-tool']);
    expect(pins.packages.find((p: { nevra: string }) => p.nevra === 'pinned-tool-1.0-1.noarch')).toMatchObject({ repo: 'pins' });
    expect(pins.packages.find((p: { nevra: string }) => p.nevra.startsWith('bash-'))).toEqual({ nevra: expect.any(String), repo: '@base' });
    const ib = layerJson(['install', '-y', '--sysroot', b.sysroot, '--lockfile', layered, 'openssl', 'with-weak', 'pinned-tool']);
    expect(ib.commit).toBe(ia.commit);
  });

  it('a newer version in the repo is not taken: the lockfile pins the old one', () => {
    const dir = tempDir('lock-newer');
    const file = join(dir, 'lock.json');
    const [a, b] = twoSysroots('lock-newer');
    layerJson(['install', '-y', '--sysroot', a, '--lockfile-out', file, 'pinned-tool']);
    makeRepo(pinsRepo, [v1, v2]);
    try {
      const j = layerJson(['install', '-y', '--sysroot', b, '--lockfile', file, 'pinned-tool']);
      expect(j.transaction.map((s: { nevra: string }) => s.nevra)).toEqual(['pinned-tool-1.0-1.noarch']);
      // Without the lockfile the same request takes 2.0.
      const c = init('lock-newer-c');
      expect(layerJson(['install', '-n', '--sysroot', c.sysroot, 'pinned-tool']).transaction[0].nevra).toBe('pinned-tool-2.0-1.noarch');
    } finally {
      rmSync(join(pinsRepo, 'pinned-tool-2.0-1.noarch.rpm'), { force: true });
      makeRepo(pinsRepo, [v1]);
    }
  });

  it('a pinned package gone from its repo: a clear error naming it, and nothing deployed', () => {
    const dir = tempDir('lock-gone');
    const file = join(dir, 'lock.json');
    const [a, b] = twoSysroots('lock-gone');
    layerJson(['install', '-y', '--sysroot', a, '--lockfile-out', file, 'pinned-tool']);
    rmSync(join(pinsRepo, 'pinned-tool-1.0-1.noarch.rpm'));
    makeRepo(pinsRepo, [v2]);
    try {
      const before = layerJson(['status', '--sysroot', b]).deployments.map((d: { checksum: string }) => d.checksum);
      const r = layer(['install', '-y', '--sysroot', b, '--lockfile', file, 'pinned-tool']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error: pinned-tool-1\.0-1\.noarch, pinned by .*lock\.json, is gone from repo pins \(repomd\.xml sha256 [0-9a-f]{12}\) \[LAYER_LOCKFILE\]/);
      expect(r.stderr).toMatch(/warning: repo pins: repomd\.xml changed since/);
      expect(layerJson(['status', '--sysroot', b]).deployments.map((d: { checksum: string }) => d.checksum)).toEqual(before);
    } finally {
      rmSync(join(pinsRepo, 'pinned-tool-2.0-1.noarch.rpm'), { force: true });
      makeRepo(pinsRepo, [v1]);
    }
  });

  it('a lockfile for another base commit, or asking for more than it pins, is refused before anything is downloaded', () => {
    const dir = tempDir('lock-other');
    const file = join(dir, 'lock.json');
    const a = init('lock-other-a');
    layerJson(['install', '-n', '--sysroot', a.sysroot, '--lockfile-out', file, 'pinned-tool']);
    const more = layer(['install', '-y', '--sysroot', a.sysroot, '--lockfile', file, 'pinned-tool', 'dep-a']);
    expect(more.code).toBe(1);
    expect(more.stderr).toMatch(/no package matches dep-a \(with .*lock\.json, the repos offer only the packages it pins\) \[LAYER_LOCKFILE\]/);
    // Another base: the same packages at another time are another commit.
    const other = join(tempDir('lock-other-b'), 'sysroot');
    const o = layer(['init', '--sysroot', other, '--osname', 'demo', '--reposdir', reposdir, ...BASE_PACKAGES], { env: { SOURCE_DATE_EPOCH: '1000000000' } });
    expect(o.code, o.stderr).toBe(0);
    const r = layer(['install', '-y', '--sysroot', other, '--lockfile', file, 'pinned-tool']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/pins base commit [0-9a-f]{12}, this deployment's base is [0-9a-f]{12} \[LAYER_LOCKFILE\]/);
    writeFileSync(join(dir, 'bad.json'), '{"version": 99}');
    expect(layer(['install', '-n', '--sysroot', a.sysroot, '--lockfile', join(dir, 'bad.json'), 'pinned-tool']).stderr).toMatch(/is not a layer lockfile .*\[LAYER_LOCKFILE\]/);
  });
});
