/**
 * Deployments with kernels on a directory sysroot (src/sysroot/bootloader.ts), trees unpacked
 * from the fixture RPMs (Debian's kernels) and prepared by src/boot: the kernel copied into
 * boot/ostree/<os>-<bootcsum>/ and shared, BLS entries with linux/initrd/options, OSTree's
 * boot.N symlink farm swapped with the loader, rollback keeping both entries valid, retention
 * dropping unused kernels, crash leftovers. Checked against the real `ostree`: `ostree admin
 * deploy` of the same commit computes the same bootcsum and lays out the same files and farm,
 * and `ostree admin status` reads layer's entries in layer's boot order.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareKernel } from '../../src/boot/index.js';
import { silentReport } from '../../src/report.js';
import type { Checksum } from '../../src/store/index.js';
import { Sysroot, type Deployment } from '../../src/sysroot/index.js';
import { commitTree, origin } from '../sysroot/helpers.js';
import { blsEntries, bootFixtures, requireTool, unpackBootTree, type BootFixtures } from './support.js';

let f: BootFixtures;
let work: string;
/** Prepared trees (etc moved to usr/etc as compose leaves it): newest kernel, a variant of it, the older kernel. */
const trees: Record<'a' | 'b' | 'old', string> = { a: '', b: '', old: '' };
const kernels: Record<'a' | 'old', { kver: string; bootcsum: string }> = {} as never;

beforeAll(async () => {
  requireTool('ostree', 'ostree');
  f = await bootFixtures();
  work = mkdtempSync(join(tmpdir(), 'layer-boot-bls-'));
  for (const [name, kver] of [['a', undefined], ['old', f.kernel.kernels[0]!.kver]] as const) {
    const t = join(work, `tree-${name}`);
    unpackBootTree(f, t, kver ? { kver } : {});
    renameSync(join(t, 'etc'), join(t, 'usr/etc'));
    kernels[name] = (await prepareKernel(t, silentReport))!;
    trees[name] = t;
  }
  trees.b = join(work, 'tree-b');
  cpSync(trees.a, trees.b, { recursive: true, verbatimSymlinks: true });
  writeFileSync(join(trees.b, 'usr/share/variant-b'), 'same kernel, other content\n');
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function freshSysroot(): Sysroot {
  const s = Sysroot.init(mkdtempSync(join(work, 'sysroot-')));
  s.lock('test');
  return s;
}

/** Commit a prepared tree; deploy right after (deploy prunes commits no deployment holds). */
function commit(s: Sysroot, name: 'a' | 'b' | 'old'): Promise<Checksum> {
  return s.store.commitTree(trees[name], { subject: name, timestamp: new Date(0) });
}

/** Where an entry's ostree= karg leads, resolved in the sysroot as the initramfs does. */
function resolveKarg(sysroot: string, options: string): string {
  const path = /ostree=(\S+)/.exec(options)![1]!;
  return realpathSync(join(sysroot, path));
}

function checkEntriesValid(s: Sysroot): void {
  const list = s.deployments();
  const entries = blsEntries(s.path);
  expect(entries.map((e) => e.version)).toEqual(list.map((_, i) => list.length - i));
  entries.forEach((e, i) => {
    const d = list[i]!;
    expect(resolveKarg(s.path, e.options)).toBe(realpathSync(d.path));
    if (d.kernel) {
      expect(e.linux).toBe(`/boot/ostree/${d.osname}-${d.kernel.bootcsum}/vmlinuz-${d.kernel.kver}`);
      expect(e.initrd).toBe(`/boot/ostree/${d.osname}-${d.kernel.bootcsum}/initramfs-${d.kernel.kver}.img`);
      // Bytes as in the deployment's tree (the bootloader loads these copies).
      expect(readFileSync(join(s.path, e.linux!)).equals(readFileSync(join(d.path, 'usr/lib/modules', d.kernel.kver, 'vmlinuz')))).toBe(true);
      expect(readFileSync(join(s.path, e.initrd!)).equals(readFileSync(join(d.path, 'usr/lib/modules', d.kernel.kver, 'initramfs.img')))).toBe(true);
    }
  });
}

const kernelDirs = (s: Sysroot) => readdirSync(join(s.path, 'boot/ostree')).sort();

describe('kernels and BLS entries on deploy', () => {
  it('copies the kernel to boot/ostree/<os>-<bootcsum>/ and writes an entry a bootloader and the initramfs follow', async () => {
    const s = freshSysroot();
    const c = await commit(s, 'a');
    const d = (await s.deploy('demo', c, origin(c))).deployment;
    expect(d.kernel).toEqual(kernels.a);
    const [e] = blsEntries(s.path);
    expect(e!.title).toBe(`demo ${c.slice(0, 12)} (ostree:0)`);
    const v = readlinkSync(join(s.path, 'boot/loader')).slice(-1);
    expect(e!.options).toBe(`ostree=/ostree/boot.${v}/demo/${kernels.a.bootcsum}/0`);
    expect(readlinkSync(join(s.path, `ostree/boot.${v}`))).toBe(`boot.${v}.0`);
    expect(readlinkSync(join(s.path, `ostree/boot.${v}.0/demo/${kernels.a.bootcsum}/0`))).toBe(`../../../deploy/demo/deploy/${d.id}`);
    expect(readlinkSync(join(s.path, 'boot/boot'))).toBe('.');
    checkEntriesValid(s);
    s.release();
  });

  it('lays out what `ostree admin deploy` lays out for the same commit (bootcsum, kernel files, farm)', async () => {
    const s = freshSysroot();
    const c = await commit(s, 'a');
    await s.deploy('demo', c, origin(c));
    const ref = join(work, 'ostree-sysroot');
    mkdirSync(ref);
    const ostree = (...args: string[]) => execFileSync('ostree', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    ostree('admin', 'init-fs', ref);
    ostree('admin', 'os-init', 'demo', `--sysroot=${ref}`);
    ostree('pull-local', `--repo=${join(ref, 'ostree/repo')}`, join(s.path, 'ostree/repo'), c);
    ostree('admin', 'deploy', `--sysroot=${ref}`, '--os=demo', c);
    const [theirs] = blsEntries(ref);
    const [ours] = blsEntries(s.path);
    // Same boot checksum in the karg, same kernel directory and file names, same bytes.
    expect(/ostree=\/ostree\/boot\.\d\/(.*)$/.exec(theirs!.options)![1]).toBe(/ostree=\/ostree\/boot\.\d\/(.*)$/.exec(ours!.options)![1]);
    // ostree writes paths relative to a separate /boot partition; layer prefixes /boot (see README "Booting").
    expect(`/boot${theirs!.linux}`).toBe(ours!.linux);
    expect(`/boot${theirs!.initrd}`).toBe(ours!.initrd);
    expect(readdirSync(join(ref, 'boot/ostree'))).toEqual(kernelDirs(s));
    for (const file of readdirSync(join(ref, 'boot/ostree', kernelDirs(s)[0]!))) {
      expect(readFileSync(join(ref, 'boot/ostree', kernelDirs(s)[0]!, file)).equals(readFileSync(join(s.path, 'boot/ostree', kernelDirs(s)[0]!, file)))).toBe(true);
    }
    expect(resolveKarg(ref, theirs!.options).endsWith(`/ostree/deploy/demo/deploy/${c}.0`)).toBe(true);
    // ostree marks its deployment root immutable (chattr +i); lift it so the temp dir can go.
    execFileSync('chattr', ['-i', join(ref, 'ostree/deploy/demo/deploy', `${c}.0`)]);
    s.release();
  });

  it('shares one kernel copy between deployments with the same bootcsum; rollback swaps the entries and both stay valid', async () => {
    const s = freshSysroot();
    const a = await commit(s, 'a');
    await s.deploy('demo', a, origin(a));
    const b = await commit(s, 'b');
    await s.deploy('demo', b, origin(a, ['variant']));
    expect(kernelDirs(s)).toEqual([`demo-${kernels.a.bootcsum}`]);
    let entries = blsEntries(s.path);
    // Two deployments under one bootcsum: the farm numbers them 0 and 1.
    expect(entries.map((e) => e.options.replace(/boot\.\d/, 'boot.N'))).toEqual([0, 1].map((n) => `ostree=/ostree/boot.N/demo/${kernels.a.bootcsum}/${n}`));
    checkEntriesValid(s);
    const v1 = readlinkSync(join(s.path, 'boot/loader'));
    const before = s.deployments().map((d: Deployment) => d.id);
    s.rollback();
    expect(s.deployments().map((d) => d.id)).toEqual([...before].reverse());
    const v2 = readlinkSync(join(s.path, 'boot/loader'));
    expect(v2).not.toBe(v1);
    // The old boot version's farm is gone; the new one serves both entries.
    expect(existsSync(join(s.path, `ostree/boot.${v1.slice(-1)}`))).toBe(false);
    expect(existsSync(join(s.path, `ostree/boot.${v1.slice(-1)}.0`))).toBe(false);
    checkEntriesValid(s);
    entries = blsEntries(s.path);
    expect(resolveKarg(s.path, entries[0]!.options)).toBe(realpathSync(s.deployments()[0]!.path));
    // ostree itself reads layer's entries and farm, in layer's order.
    const status = execFileSync('ostree', ['admin', 'status', `--sysroot=${s.path}`], { encoding: 'utf8' });
    expect([...status.matchAll(/demo ([0-9a-f]{64}\.\d+)/g)].map((m) => m[1])).toEqual(s.deployments().map((d) => d.id));
    s.rollback();
    expect(s.deployments().map((d) => d.id)).toEqual(before);
    checkEntriesValid(s);
    s.release();
  });

  it('drops a kernel copy once no entry boots it, and mixes kernel and kernel-less entries', async () => {
    const s = freshSysroot();
    const a = await commit(s, 'a');
    await s.deploy('demo', a, origin(a));
    const old = await commit(s, 'old');
    await s.deploy('demo', old, origin(old));
    expect(kernelDirs(s)).toEqual([`demo-${kernels.a.bootcsum}`, `demo-${kernels.old.bootcsum}`].sort());
    expect(s.deployments()[0]!.kernel).toEqual(kernels.old);
    s.markBooted();
    const plain1 = await commitTree(s, { 'usr/bin/tool': 'v1' });
    await s.deploy('demo', plain1, origin(plain1));
    s.markBooted();
    const plain2 = await commitTree(s, { 'usr/bin/tool': 'v2' });
    await s.deploy('demo', plain2, origin(plain2));
    // [plain2 (pending), plain1 (booted), old (rollback)]: a's kernel is no longer booted by anything.
    expect(s.deployments().map((d) => d.checksum)).toEqual([plain2, plain1, old]);
    expect(kernelDirs(s)).toEqual([`demo-${kernels.old.bootcsum}`]);
    const entries = blsEntries(s.path);
    expect(entries[0]!.options).toBe(`ostree=/ostree/deploy/demo/deploy/${plain2}.0`);
    expect(entries[0]!.linux).toBeUndefined();
    checkEntriesValid(s);
    s.release();
  });

  it('removes a killed swap\'s farm and half-copied kernel on the next lock', async () => {
    const s = freshSysroot();
    const c = await commit(s, 'a');
    await s.deploy('demo', c, origin(c));
    const v = Number(readlinkSync(join(s.path, 'boot/loader')).slice(-1));
    const other = 1 - v;
    const stale = `demo-${'0'.repeat(64)}`;
    mkdirSync(join(s.path, `ostree/boot.${other}.0/demo/x`), { recursive: true });
    mkdirSync(join(s.path, 'boot/ostree', `${stale}.tmp`));
    mkdirSync(join(s.path, 'boot/ostree', stale));
    s.release();
    s.lock('test');
    expect(existsSync(join(s.path, `ostree/boot.${other}.0`))).toBe(false);
    expect(kernelDirs(s)).toEqual([`demo-${kernels.a.bootcsum}`]);
    checkEntriesValid(s);
    s.release();
  });
});
