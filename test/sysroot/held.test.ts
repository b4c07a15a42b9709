/**
 * The not-as-default seam of `layer upgrade --smoke/--health-check` (sysroot/held.ts): a
 * deployment written held is listed last, never the default nor a rollback target; `promote`
 * makes it the default with retention as after a deploy; `cleanup` drops a held one; the
 * layout stays what `ostree fsck` accepts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Sysroot } from '../../src/sysroot/index.js';
import { commitTree, origin, requireTool, tempDir } from './helpers.js';

async function twoCommits() {
  const s = Sysroot.init(tempDir('held'));
  s.lock('test');
  const a = await commitTree(s, { 'usr/bin/tool': 'v1', 'usr/etc/os-release': 'one' });
  await s.deploy('testos', a, origin(a));
  // After the deploy: its cleanup prunes commits no ref or deployment holds.
  const b = await commitTree(s, { 'usr/bin/tool': 'v2', 'usr/etc/os-release': 'two' });
  return { s, a, b };
}

const ids = (s: Sysroot) => s.deployments().map((d) => `${d.checksum.slice(0, 6)}${d.held ? ' held' : ''}${d.booted ? ' booted' : ''}`);

describe('held deployments', () => {
  it('deploy asDefault:false appends a held deployment; rollback never picks it; cleanup drops it', async () => {
    const { s, a, b } = await twoCommits();
    const r = await s.deploy('testos', b, origin(b), { asDefault: false });
    expect(r.deployment.held).toBe(true);
    expect(r.deployment.index).toBe(1);
    expect(ids(s)).toEqual([`${a.slice(0, 6)} booted`, `${b.slice(0, 6)} held`]);
    expect(s.status().rollback).toBeUndefined();
    expect(() => s.rollback()).toThrow(/no rollback deployment/);
    const c = s.cleanup();
    expect(c.removedDeployments).toEqual([`testos/${b}.0`]);
    expect(ids(s)).toEqual([`${a.slice(0, 6)} booted`]);
    expect(existsSync(join(s.stateDir, 'held'))).toBe(false);
    requireTool('ostree');
    execFileSync('ostree', [`--repo=${join(s.path, 'ostree/repo')}`, 'fsck'], { stdio: 'pipe' });
    s.release();
  });

  it('promote makes the held deployment the default, no longer held, the old one its rollback', async () => {
    const { s, a, b } = await twoCommits();
    const r = await s.deploy('testos', b, origin(b), { asDefault: false });
    const p = s.promote(r.deployment);
    expect(p.deployment.index).toBe(0);
    expect(p.deployment.held).toBeUndefined();
    expect(ids(s)).toEqual([b.slice(0, 6), `${a.slice(0, 6)} booted`]);
    expect(s.status().rollback?.checksum).toBe(a);
    expect(existsSync(join(s.stateDir, 'held'))).toBe(false);
    s.release();
  });

  it('a held deployment is not kept by retention when the next one is deployed', async () => {
    const { s, a, b } = await twoCommits();
    await s.deploy('testos', b, origin(b), { asDefault: false });
    const c = await commitTree(s, { 'usr/bin/tool': 'v3', 'usr/etc/os-release': 'three' });
    const r = await s.deploy('testos', c, origin(c));
    expect(r.removed).toEqual([`testos/${b}.0`]);
    expect(ids(s)).toEqual([c.slice(0, 6), `${a.slice(0, 6)} booted`]);
    s.release();
  });
});
