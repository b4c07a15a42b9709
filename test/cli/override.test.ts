/**
 * Base overrides through the CLI (rpm-ostree's `override remove/reset`), real rpm as the oracle:
 * the removed base package is gone from the tree and `rpm -qa`, `rpm -Va --nofiles` of the result
 * is clean, the origin and status record the override; names that match nothing, or packages the
 * rest of the base needs, are refused with the old default kept; reset brings it back.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRpm } from '../support/rpmbuild.js';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, removeTempDirs, testFixtures } from './helpers.js';

let base: string;

beforeAll(async () => {
  ensureBuilt();
  base = initSysroot(await testFixtures(), 'override');
}, 300_000);

afterAll(() => removeTempDirs());

const rpm = (tree: string, ...args: string[]) => spawnSync('rpm', ['--root', tree, '--dbpath', '/usr/lib/sysimage/rpm', ...args], { encoding: 'utf8' });

describe('layer override', () => {
  it('remove leaves a base package out (rpm agrees), with layered packages kept; reset brings it back', () => {
    const s = cloneSysroot(base, 'override-remove');
    expect(layer(['install', '--sysroot', s, 'dep-a']).code).toBe(0);
    const r = layerJson(['override', 'remove', '--sysroot', s, 'demo-release']);
    expect(r.outcome).toBe('deployed');
    expect(r.transaction.map((t: { action: string; name: string }) => `${t.action} ${t.name}`)).toEqual(['remove demo-release']);
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(d['requested-base-removals']).toEqual(['demo-release']);
    expect(d['requested-packages']).toEqual(['dep-a']);
    const qa = rpm(d.path, '-qa', '--qf', '%{NAME}\\n').stdout.split('\n');
    expect(qa).not.toContain('demo-release');
    expect(qa).toContain('dep-a');
    const va = rpm(d.path, '-Va', '--nofiles');
    expect(va.stdout + va.stderr).toBe('');
    expect(existsSync(join(d.path, 'usr/lib/os-release')) || existsSync(join(d.path, 'usr/etc/os-release'))).toBe(false);
    const again = layer(['override', 'remove', '--sysroot', s, 'demo-release']);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Override already exists for package 'demo-release'/);

    expect(layerJson(['override', 'reset', '--sysroot', s, '--all']).outcome).toBe('deployed');
    const back = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(back['requested-base-removals']).toEqual([]);
    expect(rpm(back.path, '-q', 'demo-release').status).toBe(0);
  });

  it('refuses a name no base package has, and a package the rest of the base requires; the old default stays', () => {
    const s = cloneSysroot(base, 'override-refuse');
    const before = layerJson(['status', '--sysroot', s]).deployments[0].id;
    const none = layer(['override', 'remove', '--sysroot', s, 'no-such-package']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/Package "no-such-package" not found \[LAYER_NO_MATCH\]/);
    // demo-release requires setup: removing setup alone must fail naming demo-release.
    const needed = layer(['override', 'remove', '--sysroot', s, 'setup']);
    expect(needed.code).toBe(1);
    expect(needed.stderr).toMatch(/cannot remove base package setup: demo-release-1\.0-1\.noarch requires it \[LAYER_UNSOLVABLE\]/);
    expect(needed.stderr).toMatch(/hint: remove them too: layer override remove setup demo-release/);
    expect(layerJson(['status', '--sysroot', s]).deployments[0].id).toBe(before);
    const reset = layer(['override', 'reset', '--sysroot', s, 'bash']);
    expect(reset.code).toBe(1);
    expect(reset.stderr).toMatch(/No overrides for package 'bash' \[LAYER_NOT_REQUESTED\]/);
  });
});

describe('layer override replace', () => {
  it('replaces a base package by a local package (older here), rpm agrees; reset goes back; a name the base lacks is refused', async () => {
    const older = await buildRpm({ name: 'demo-release', version: '0.9', requires: ['setup'], files: [{ path: '/usr/share/demo-release-old/x', content: 'old\n' }] });
    const s = cloneSysroot(base, 'override-replace');
    const baseRelease = rpm(layerJson(['status', '--sysroot', s]).deployments[0].path, '-q', 'demo-release').stdout.trim();
    const j = layerJson(['override', 'replace', '--sysroot', s, older]);
    expect(j.outcome).toBe('deployed');
    const d = layerJson(['status', '--sysroot', s]).deployments[0];
    expect(d['requested-base-local-replacements']).toEqual(['demo-release-0.9-1.noarch']);
    expect(rpm(d.path, '-q', 'demo-release').stdout.trim()).toBe('demo-release-0.9-1.noarch');
    expect(rpm(d.path, '-Va', '--nofiles').stdout).toBe('');
    expect(j.diff.downgraded).toEqual([{ from: `${baseRelease}`, to: 'demo-release-0.9-1.noarch' }]);
    expect(layerJson(['override', 'reset', '--sysroot', s, 'demo-release']).outcome).toBe('deployed');
    expect(rpm(layerJson(['status', '--sysroot', s]).deployments[0].path, '-q', 'demo-release').stdout.trim()).toBe(baseRelease);
    const stranger = await buildRpm({ name: 'not-in-base', files: [{ path: '/usr/share/nib/x', content: 'x\n' }] });
    const r = layer(['override', 'replace', '--sysroot', s, stranger]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Package "not-in-base" not found in the base .*\[LAYER_NO_MATCH\]/);
  });
});
