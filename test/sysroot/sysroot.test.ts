/**
 * Sysroot verbs on a directory sysroot with trees committed straight into its Store:
 * deploy, /etc three-way merge, booted/pending/rollback, rollback twice, retention, lock,
 * leftovers of a killed run, and `ostree fsck` / `ostree admin`-style layout checks.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LayerError } from '../../src/errors.js';
import { Sysroot, SysrootLock } from '../../src/sysroot/index.js';
import type { Checksum } from '../../src/store/index.js';
import { commitTree, origin, requireTool, tempDir } from './helpers.js';

async function fresh(): Promise<{ s: Sysroot; a: Checksum }> {
  const dir = tempDir('basic');
  const s = Sysroot.init(dir);
  s.lock('test');
  const a = await commitTree(s, { 'usr/bin/tool': 'v1', 'usr/etc/a.conf': 'a1', 'usr/etc/b.conf': 'b1', 'usr/etc/c.conf': 'c1', 'usr/etc/os-release': 'one' });
  await s.deploy('testos', a, origin(a));
  return { s, a };
}

describe('sysroot', () => {
  it('lays out the first deployment like ostree and marks it booted', async () => {
    const { s, a } = await fresh();
    const [d] = s.deployments();
    expect(d?.id).toBe(`${a}.0`);
    expect(d?.booted).toBe(true);
    expect(readlinkSync(join(s.path, 'boot/loader'))).toMatch(/^loader\.[01]$/);
    const entries = join(s.path, 'boot/loader/entries/ostree-1-testos.conf');
    expect(readFileSync(entries, 'utf8')).toContain(`ostree=/ostree/deploy/testos/deploy/${a}.0`);
    expect(readFileSync(join(d!.path, 'etc/a.conf'), 'utf8')).toBe('a1');
    // /etc is a copy, never a hardlink into the object store.
    expect(statSync(join(d!.path, 'etc/a.conf')).nlink).toBe(1);
    expect(readFileSync(join(d!.path, 'usr/bin/tool'), 'utf8')).toBe('v1');
    expect(readFileSync(`${d!.path}.origin`, 'utf8')).toContain(`base-commit=${a}`);
    expect(existsSync(join(s.path, 'ostree/deploy/testos/var'))).toBe(true);
    s.release();
  });

  it('carries admin /etc edits into a new deployment and takes new defaults elsewhere', async () => {
    const { s, a } = await fresh();
    const old = s.deployments()[0]!;
    writeFileSync(join(old.path, 'etc/a.conf'), 'local edit');
    chmodSync(join(old.path, 'etc/b.conf'), 0o600);
    unlinkSync(join(old.path, 'etc/c.conf'));
    mkdirSync(join(old.path, 'etc/added.d'));
    writeFileSync(join(old.path, 'etc/added.d/mine.conf'), 'mine');
    const b = await commitTree(s, { 'usr/bin/tool': 'v2', 'usr/etc/a.conf': 'a2', 'usr/etc/b.conf': 'b2', 'usr/etc/c.conf': 'c2', 'usr/etc/os-release': 'two', 'usr/etc/e.conf': 'new' });
    const r = await s.deploy('testos', b, origin(a, ['x']));
    const etc = join(r.deployment.path, 'etc');
    expect(readFileSync(join(etc, 'a.conf'), 'utf8')).toBe('local edit');
    expect(readFileSync(join(etc, 'b.conf'), 'utf8')).toBe('b1');
    expect(statSync(join(etc, 'b.conf')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(etc, 'c.conf'))).toBe(false);
    expect(readFileSync(join(etc, 'added.d/mine.conf'), 'utf8')).toBe('mine');
    expect(readFileSync(join(etc, 'os-release'), 'utf8')).toBe('two');
    expect(readFileSync(join(etc, 'e.conf'), 'utf8')).toBe('new');
    expect(r.etc.modified.sort()).toEqual(['a.conf', 'b.conf']);
    s.release();
  });

  it('tracks pending/booted, rolls back by reordering only, and a second rollback undoes the first', async () => {
    const { s, a } = await fresh();
    const b = await commitTree(s, { 'usr/bin/tool': 'v2' });
    await s.deploy('testos', b, origin(a, ['x']));
    let st = s.status();
    expect(st.pending?.checksum).toBe(b);
    expect(st.booted?.checksum).toBe(a);
    expect(st.rollback?.checksum).toBe(a);
    const t0 = performance.now();
    expect(s.rollback().checksum).toBe(a);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(100);
    st = s.status();
    expect(st.pending).toBeUndefined();
    expect(st.deployments.map((d) => d.checksum)).toEqual([a, b]);
    expect(s.rollback().checksum).toBe(b);
    expect(s.status().deployments.map((d) => d.checksum)).toEqual([b, a]);
    s.markBooted();
    st = s.status();
    expect(st.booted?.checksum).toBe(b);
    expect(st.rollback?.checksum).toBe(a);
    s.release();
  });

  it('keeps booted, pending and one rollback; cleanup prunes the rest and ostree fsck is clean', async () => {
    requireTool('ostree');
    const { s, a } = await fresh();
    const commits = [a];
    for (let i = 2; i <= 4; i++) {
      const c = await commitTree(s, { 'usr/bin/tool': `v${i}`, [`usr/share/big${i}`]: 'x'.repeat(1000 * i) });
      await s.deploy('testos', c, origin(a, [`p${i}`]));
      s.markBooted();
      commits.push(c);
    }
    const c5 = await commitTree(s, { 'usr/bin/tool': 'v5' });
    await s.deploy('testos', c5, origin(a, ['p5']));
    const st = s.status();
    // pending c5, booted c4, rollback c3; c1 and c2 are gone with their objects.
    expect(st.deployments.map((d) => d.checksum)).toEqual([c5, commits[3], commits[2]]);
    expect(st.booted?.checksum).toBe(commits[3]);
    expect(existsSync(join(s.deployDir('testos'), `${commits[1]}.0`))).toBe(false);
    expect(s.store.hasObject(commits[1]!, 'commit')).toBe(false);
    execFileSync('ostree', [`--repo=${join(s.path, 'ostree/repo')}`, 'fsck'], { stdio: 'pipe' });
    s.release();
  });

  it('refuses a deployment whose /etc turns a locally modified file into a directory, and keeps the old default', async () => {
    const { s, a } = await fresh();
    writeFileSync(join(s.deployments()[0]!.path, 'etc/a.conf'), 'local');
    const b = await commitTree(s, { 'usr/etc/a.conf/inner': 'now a dir' });
    await expect(s.deploy('testos', b, origin(a, ['y']))).rejects.toThrow(/locally modified \/etc\/a.conf is a directory/);
    expect(s.deployments().map((d) => d.checksum)).toEqual([a]);
    s.release();
    s.lock('again'); // the half-made deployment is a leftover for the next transaction
    expect(existsSync(join(s.deployDir('testos'), `${b}.0`))).toBe(false);
    s.release();
  });

  it('deploying the same commit twice bumps the serial', async () => {
    const { s, a } = await fresh();
    const r = await s.deploy('testos', a, origin(a, ['again']));
    expect(r.deployment.id).toBe(`${a}.1`);
    s.release();
  });

  it('cleans what a killed run left behind when the next transaction takes the lock', async () => {
    const { s, a } = await fresh();
    s.release();
    const junk = join(s.deployDir('testos'), `${'f'.repeat(64)}.0`);
    mkdirSync(join(junk, 'usr'), { recursive: true });
    writeFileSync(`${junk}.origin.tmp-123`, 'partial');
    mkdirSync(join(s.path, 'boot/loader.9'), { recursive: true });
    const inactive = readlinkSync(join(s.path, 'boot/loader')) === 'loader.0' ? 'loader.1' : 'loader.0';
    mkdirSync(join(s.path, 'boot', inactive, 'entries'), { recursive: true });
    // A stale lock from a dead pid is taken over.
    writeFileSync(join(s.stateDir, 'lock'), JSON.stringify({ pid: 999999, start: '1', command: 'layer install x', since: 'then' }));
    s.lock('next');
    expect(existsSync(junk)).toBe(false);
    expect(existsSync(`${junk}.origin.tmp-123`)).toBe(false);
    expect(existsSync(join(s.path, 'boot', inactive))).toBe(false);
    expect(s.deployments()[0]?.checksum).toBe(a);
    s.release();
    rmSync(join(s.path, 'boot/loader.9'), { recursive: true });
  });

  it('a live lock fails a second transaction with the holder named', async () => {
    const { s } = await fresh();
    const other = Sysroot.open(s.path);
    let err: unknown;
    try {
      other.lock('second');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).code).toBe('LAYER_LOCKED');
    expect((err as LayerError).message).toContain(`pid ${process.pid} (test`);
    s.release();
    expect(SysrootLock.read(join(s.stateDir, 'lock'))).toBeUndefined();
  });

  it('names the path when a directory is not a sysroot', () => {
    const dir = tempDir('none');
    expect(() => Sysroot.open(dir)).toThrow(/is not a sysroot/);
  });
});
