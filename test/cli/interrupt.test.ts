/**
 * A `%post` that never ends (issue 10): `--scriptlet-timeout` kills it and fails the transaction
 * with the package and scriptlet named, the lock released and the old default kept; a `layer`
 * that gets SIGTERM (or SIGINT) while a scriptlet runs removes its scratch tree and unmounts its
 * overlay at once, instead of leaving them for the next transaction.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountsUnder } from '../../src/compose/scratch.js';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm } from '../support/rpmbuild.js';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, MAIN, removeTempDirs, repoFile, tempDir, testFixtures, type Fixtures } from './helpers.js';

let f: Fixtures;
let base: string;
let reposdir: string;

beforeAll(async () => {
  ensureBuilt();
  f = await testFixtures();
  base = initSysroot(f, 'interrupt');
  const rpm = await buildRpm({ name: 'slow-post', scripts: { post: 'sleep 600' }, requiresFor: { post: ['bash'] }, files: [{ path: '/usr/share/slow-post/x', content: 'x\n' }] });
  const stage = tempDir('slow-stage');
  copyFileSync(rpm, join(stage, 'slow-post-1.0-1.noarch.rpm'));
  const repo = tempDir('slow-repo');
  makeRepo(repo, [join(stage, 'slow-post-1.0-1.noarch.rpm')]);
  reposdir = tempDir('slow-reposdir');
  writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, slow: repo }));
}, 300_000);

afterAll(() => removeTempDirs());

const scratchDirs = (s: string) => {
  const cache = join(s, 'ostree/layer/cache');
  return existsSync(cache) ? readdirSync(cache).filter((n) => n.startsWith('compose-')) : [];
};

describe('a scriptlet that never ends', () => {
  it('--scriptlet-timeout kills it; the transaction fails naming it; the lock is free and the old default kept', () => {
    const s = cloneSysroot(base, 'scriptlet-timeout');
    const before = layerJson(['status', '--sysroot', s]).deployments[0].id;
    const t0 = performance.now();
    const r = layer(['install', '--sysroot', s, '--reposdir', reposdir, '--scriptlet-timeout', '2', 'slow-post']);
    expect(performance.now() - t0).toBeLessThan(60_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/slow-post-1\.0-1\.noarch.*%post.*timed out after 2s.*\[LAYER_SCRIPTLET\]/);
    expect(layerJson(['status', '--sysroot', s]).deployments[0].id).toBe(before);
    expect(layer(['install', '--sysroot', s, '--lock-timeout', '0', '-n', 'dep-a']).code).toBe(0);
    expect(scratchDirs(s)).toEqual([]);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during the scriptlet removes the scratch tree and the overlay at once`, async () => {
      const s = cloneSysroot(base, `sig-${signal}`);
      const child = spawn('node', [MAIN, 'install', '--sysroot', s, '--reposdir', reposdir, 'slow-post'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const done = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
      // Wait until the scriptlet runs: a scratch tree exists and the download/import are over.
      const deadline = Date.now() + 90_000;
      while (Date.now() < deadline && !/^import: \d+ ms$/m.test(stderr)) await new Promise((r) => setTimeout(r, 100));
      expect(stderr).toMatch(/^import: \d+ ms$/m);
      await new Promise((r) => setTimeout(r, 1500));
      expect(scratchDirs(s).length).toBe(1);
      child.kill(signal);
      const code = await done;
      expect(code).toBe(signal === 'SIGTERM' ? 143 : 130);
      expect(stderr).toMatch(/nothing was changed by the unfinished transaction/);
      expect(scratchDirs(s)).toEqual([]);
      expect(mountsUnder(s)).toEqual([]);
      expect(layer(['install', '--sysroot', s, '--lock-timeout', '0', '-n', 'dep-a']).code).toBe(0);
    });
  }
});
