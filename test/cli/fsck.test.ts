/**
 * A store that lost an object (issue 10): the next transaction that needs it fails with
 * LAYER_STORE_CORRUPT naming the object (not exit 70 and an ENOENT), `layer fsck` finds it,
 * `layer fsck --repair` imports the owning package again from where it is kept (here the
 * deployment's file:// repo, whose packages are used in place, not copied into the package
 * cache), and after it `ostree fsck` is clean and the transaction goes through.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/index.js';
import { cloneSysroot, ensureBuilt, initSysroot, layer, layerJson, ostreeFsck, removeTempDirs, testFixtures } from './helpers.js';

let base: string;

beforeAll(async () => {
  ensureBuilt();
  base = initSysroot(await testFixtures(), 'fsck');
}, 300_000);

afterAll(() => removeTempDirs());

describe('layer fsck', () => {
  it('a missing content object is named, found by fsck, and repaired from the local repo that holds the package', () => {
    const s = cloneSysroot(base, 'fsck');
    expect(layer(['install', '--sysroot', s, 'dep-a']).code).toBe(0);
    expect(layer(['fsck', '--sysroot', s]).code).toBe(0);
    // Lose the object behind dep-a's README.
    const store = Store.open(join(s, 'ostree/repo'));
    const ref = [...store.listRefs().keys()].find((r) => r.startsWith('layer/pkg/dep-a/'));
    expect(ref).toBeDefined();
    const [csum] = [...store.contentOf(ref ?? '').entries()].find(([, paths]) => paths.some((p) => p.endsWith('dep-a/README'))) ?? [];
    expect(csum).toMatch(/^[0-9a-f]{64}$/);
    rmSync(join(s, 'ostree/repo/objects', csum!.slice(0, 2), `${csum!.slice(2)}.file`));

    const next = layer(['install', '--sysroot', s, 'many-dep01']);
    expect(next.code).toBe(1);
    expect(next.stderr).toContain(`content object ${csum} is missing`);
    expect(next.stderr).toMatch(/\[LAYER_STORE_CORRUPT\]/);
    expect(next.stderr).toMatch(/hint: layer fsck --repair/);

    const check = layer(['fsck', '--sysroot', s, '--json']);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).problems.map((p: { checksum: string; kind: string }) => `${p.kind} ${p.checksum}`)).toEqual([`missing ${csum}`]);

    const fixed = layerJson(['fsck', '--sysroot', s, '--repair']);
    expect(fixed.repaired).toEqual([expect.objectContaining({ package: 'dep-a-1.0-1.noarch', objects: 1 })]);
    expect(fixed.repaired[0].from).not.toContain(join(s, 'ostree/layer/cache'));
    expect(fixed.repaired[0].from).toMatch(/\/dep-a-1\.0-1\.noarch\.rpm$/);
    expect(fixed.problems).toEqual([]);
    expect(ostreeFsck(s)).toBeTruthy();
    expect(layer(['install', '--sysroot', s, 'many-dep01']).code).toBe(0);
    expect(readdirSync(join(s, 'ostree/repo/objects', csum!.slice(0, 2)))).toContain(`${csum!.slice(2)}.file`);
  });
});
