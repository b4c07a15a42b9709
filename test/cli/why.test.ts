/**
 * `layer why PKG` (issue 13) through the CLI: the request, the dependency chain (requires,
 * recommends, supplements) or the base, read from a real deployment's origin and rpmdb.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeRepo } from '../support/createrepo.js';
import { buildRpm } from '../support/rpmbuild.js';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, removeTempDirs, repoFile, tempDir, testFixtures } from './helpers.js';

let s: string;
/** A clone of the base with only rich-needs layered. */
let rich: string;

beforeAll(async () => {
  ensureBuilt();
  const f = await testFixtures();
  // A package the solver adds because it supplements dep-a (a reverse weak dependency).
  const sup = await buildRpm({ name: 'supplements-dep-a', supplements: ['dep-a'], files: [{ path: '/usr/share/supplements-dep-a/README', content: 'x\n' }] });
  // Rich dependencies: an alternative, and a conditional that holds (bash is in the base).
  const richRpm = await buildRpm({ name: 'rich-needs', requires: ['(dep-a or no-such-capability)', '(weak-b if bash)'], files: [{ path: '/usr/share/rich-needs/README', content: 'x\n' }] });
  const stage = tempDir('why-rpms');
  const named = join(stage, 'supplements-dep-a-1.0-1.noarch.rpm');
  writeFileSync(named, readFileSync(sup));
  const richNamed = join(stage, 'rich-needs-1.0-1.noarch.rpm');
  writeFileSync(richNamed, readFileSync(richRpm));
  const supRepo = makeRepo(join(tempDir('why-repo'), 'repo'), [named, richNamed]);
  const reposdir = tempDir('why-reposdir');
  writeFileSync(join(reposdir, 'test.repo'), repoFile({ base: f.base, updates: f.updates, extra: f.extra, sup: supRepo }));
  const base = initSysroot({ ...f, reposdir }, 'why');
  s = cloneSysroot(base, 'why-layered');
  const r = layer(['install', '-y', '--sysroot', s, 'with-weak', 'many-deps', '/usr/bin/openssl']);
  if (r.code !== 0) throw new Error(`install failed:\n${r.stderr}`);
  rich = cloneSysroot(base, 'why-rich');
  const rr = layer(['install', '-y', '--sysroot', rich, 'rich-needs']);
  if (rr.code !== 0) throw new Error(`install failed:\n${rr.stderr}`);
}, 300_000);

afterAll(() => removeTempDirs());

function why(pkg: string, ...more: string[]): any {
  return layerJson(['why', '--sysroot', s, pkg, ...more]).packages[0];
}

describe('layer why', () => {
  it('a requested package: requested, by the spec that selected it (a name, or a file path)', () => {
    expect(why('with-weak')).toMatchObject({ nevra: 'with-weak-1.0-1.noarch', reason: 'requested', 'requested-as': 'with-weak', chain: [] });
    expect(why('openssl')).toMatchObject({ reason: 'requested', 'requested-as': '/usr/bin/openssl' });
    expect(layer(['why', '--sysroot', s, 'openssl']).stdout).toMatch(/^openssl-3\.0\.\S+ is requested as '\/usr\/bin\/openssl'\.\n$/);
  });

  it('with-weak → dep-a by requires, weak-b by recommends', () => {
    expect(why('dep-a')).toMatchObject({
      reason: 'dependency', root: 'with-weak-1.0-1.noarch', 'requested-as': 'with-weak',
      chain: [{ kind: 'requires', dep: 'dep-a', nevra: 'dep-a-1.0-1.noarch' }],
    });
    expect(why('weak-b')).toMatchObject({ reason: 'dependency', chain: [{ kind: 'recommends', dep: 'weak-b', nevra: 'weak-b-1.0-1.noarch' }] });
    const t = layer(['why', '--sysroot', s, 'weak-b']);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toBe('weak-b-1.0-1.noarch is layered as a weak dependency of a requested package:\n' +
      '  with-weak-1.0-1.noarch  (requested: with-weak)\n  └─ recommends weak-b: weak-b-1.0-1.noarch\n');
  });

  it('a supplementing package: pulled by the package it supplements, two steps from the request', () => {
    expect(why('supplements-dep-a')).toMatchObject({
      reason: 'dependency', root: 'with-weak-1.0-1.noarch',
      chain: [{ kind: 'requires', nevra: 'dep-a-1.0-1.noarch' }, { kind: 'supplements', dep: 'dep-a', nevra: 'supplements-dep-a-1.0-1.noarch' }],
    });
  });

  it('many-deps → each many-depNN; a library by its soname from openssl', () => {
    for (const n of ['01', '13', '20']) {
      expect(why(`many-dep${n}`)).toMatchObject({ root: 'many-deps-1.0-1.noarch', chain: [{ kind: 'requires', dep: `many-dep${n}`, nevra: `many-dep${n}-1.0-1.noarch` }] });
    }
    const lib = why('libssl3');
    expect(lib.reason).toBe('dependency');
    expect(lib.root).toMatch(/^openssl-3/);
    expect(lib.chain[0].dep).toMatch(/^lib(ssl|crypto)\.so\.3/);
  });

  it('rich dependencies: an alternative and a conditional lead to their packages', () => {
    const j = (pkg: string) => layerJson(['why', '--sysroot', rich, pkg]).packages[0];
    expect(j('dep-a')).toMatchObject({ reason: 'dependency', root: 'rich-needs-1.0-1.noarch', chain: [{ kind: 'requires', dep: '(dep-a or no-such-capability)', nevra: 'dep-a-1.0-1.noarch' }] });
    expect(j('weak-b')).toMatchObject({ reason: 'dependency', chain: [{ kind: 'requires', dep: '(weak-b if bash)', nevra: 'weak-b-1.0-1.noarch' }] });
  });

  it('a base package says "in the base", with the chain from the recipe package', () => {
    expect(why('bash')).toMatchObject({ reason: 'base', 'requested-as': 'bash', chain: [] });
    const tinfo = why('libtinfo6');
    expect(tinfo).toMatchObject({ reason: 'base', root: 'bash-5.2.15-2+b13.x86_64', 'requested-as': 'bash' });
    expect(tinfo.chain).toEqual([{ kind: 'requires', dep: 'libtinfo.so.6()(64bit)', nevra: 'libtinfo6-6.4-4.x86_64' }]);
    expect(layer(['why', '--sysroot', s, 'libtinfo6']).stdout).toMatch(/^libtinfo6-6\.4-4\.x86_64 is in the base \(demo\/base [0-9a-f]{12}\):\n/);
    // In the base deployment nothing is layered: dep-a is not there at all.
    const r = layer(['why', '--sysroot', s, '--deployment', 'booted', 'dep-a']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/dep-a is not installed in demo .*\[LAYER_NO_MATCH\]/);
    expect(layerJson(['why', '--sysroot', s, '--deployment', 'booted', 'coreutils']).packages[0].reason).toBe('base');
  });
});
