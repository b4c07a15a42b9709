/**
 * src/boot on real artifacts: the cpio writer read back by GNU cpio, module dependencies
 * checked against the `.modinfo` section binutils' objcopy extracts, and prepareKernel on a
 * tree unpacked from the fixture RPMs (Debian's kernel and busybox-static): the initramfs's
 * contents, its /init parsed by busybox's own sh, byte-for-byte determinism and OSTree's
 * bootcsum recomputed with sha256sum.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareKver, findKernel, initramfsModules, isStaticExecutable, modinfo, prepareKernel, writeCpio, type CpioEntry } from '../../src/boot/index.js';
import { LayerError } from '../../src/errors.js';
import { RecordingReport, silentReport } from '../../src/report.js';
import { bootFixtures, requireTool, unpackBootTree, type BootFixtures } from './support.js';

let f: BootFixtures;
let work: string;
/** An unpacked tree with the newest kernel, prepared once (read-only for the tests). */
let tree: string;
let prepared: { kver: string; bootcsum: string } | undefined;

beforeAll(async () => {
  for (const [tool, pkg] of [['objcopy', 'binutils'], ['busybox', 'busybox-static'], ['sha256sum', 'coreutils'], ['gzip', 'gzip']] as const) requireTool(tool, pkg);
  f = await bootFixtures();
  work = mkdtempSync(join(tmpdir(), 'layer-boot-initramfs-'));
  tree = join(work, 'tree');
  unpackBootTree(f, tree);
  prepared = await prepareKernel(tree, silentReport);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `cpio -itv` of an archive: [mode string, name] per entry. */
function cpioList(archive: Buffer): string[] {
  return execFileSync('cpio', ['-itv', '--quiet'], { input: archive, encoding: 'utf8' }).trim().split('\n');
}

function gunzip(file: string): Buffer {
  return execFileSync('gzip', ['-dc', file], { maxBuffer: 1 << 28 });
}

/** The .modinfo strings as binutils extracts them (an oracle independent of src/boot/elf.ts). */
function objcopyModinfo(ko: string): [string, string][] {
  const out = join(work, 'modinfo.bin');
  execFileSync('objcopy', ['-O', 'binary', '--only-section=.modinfo', ko, out]);
  return readFileSync(out, 'utf8').split('\0').filter((s) => s.includes('=')).map((s) => [s.slice(0, s.indexOf('=')), s.slice(s.indexOf('=') + 1)]);
}

describe('cpio newc writer', () => {
  it('writes an archive GNU cpio lists and extracts with the same types, modes, targets and bytes', () => {
    const data = Buffer.from('hello\n');
    const entries: CpioEntry[] = [
      { path: 'z-file', type: 'file', mode: 0o640, data },
      { path: 'dir', type: 'dir', mode: 0o755 },
      { path: 'dir/link', type: 'symlink', target: '../z-file' },
      { path: 'dir/odd name', type: 'file', mode: 0o755, data: Buffer.alloc(0) },
      { path: 'dev', type: 'dir', mode: 0o755 },
      { path: 'dev/console', type: 'chardev', mode: 0o600, major: 5, minor: 1 },
    ];
    const archive = writeCpio(entries);
    const listing = cpioList(archive);
    expect(listing.map((l) => l.split(/\s+/)[0])).toEqual(['drwxr-xr-x', 'crw-------', 'drwxr-xr-x', 'lrwxrwxrwx', '-rwxr-xr-x', '-rw-r-----']);
    expect(listing.map((l) => l.replace(/^.*? (?:Jan|Dec)\s+\d+\s+\d+\s+/, ''))).toEqual(['dev', 'dev/console', 'dir', 'dir/link -> ../z-file', 'dir/odd name', 'z-file']);
    expect(listing[1]).toMatch(/\b5,\s+1\b/);
    const out = join(work, 'cpio-out');
    mkdirSync(out);
    // Device nodes need root to extract; everything else is compared byte for byte.
    execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames', 'z-file', 'dir', 'dir/*'], { cwd: out, input: archive });
    expect(readFileSync(join(out, 'z-file'))).toEqual(data);
    expect(statSync(join(out, 'z-file')).mode & 0o777).toBe(0o640);
    expect(readFileSync(join(out, 'dir/link'), 'utf8')).toBe('hello\n');
    expect(statSync(join(out, 'z-file')).mtimeMs).toBe(0);
  });

  it('gives the same bytes for the same entries in any order', () => {
    const a: CpioEntry[] = [{ path: 'b', type: 'dir', mode: 0o755 }, { path: 'a', type: 'file', mode: 0o644, data: Buffer.from('x') }];
    expect(writeCpio(a).equals(writeCpio([...a].reverse()))).toBe(true);
  });
});

describe('ELF facts', () => {
  it('reads every module .modinfo key=value exactly as objcopy extracts it', () => {
    const kdir = findKernel(tree)!.dir;
    for (const m of initramfsModules(kdir)) {
      const ko = join(kdir, m.rel);
      expect(modinfo(readFileSync(ko), ko)).toEqual(objcopyModinfo(ko));
    }
  });

  it('tells the static busybox from a dynamically linked program', () => {
    expect(isStaticExecutable(readFileSync(join(tree, 'usr/bin/busybox')), 'busybox')).toBe(true);
    expect(isStaticExecutable(readFileSync(join(tree, 'usr/bin/bash')), 'bash')).toBe(false);
    expect(() => isStaticExecutable(Buffer.from('#!/bin/sh\n'.padEnd(80)), 'script')).toThrow(/not an ELF file/);
  });

  it('orders kernel releases by version, numbers as numbers', () => {
    expect(['6.1.0-9-amd64', '6.1.0-57-amd64', '6.1.0-10-amd64', '5.10.0-30-amd64'].sort(compareKver)).toEqual(['5.10.0-30-amd64', '6.1.0-9-amd64', '6.1.0-10-amd64', '6.1.0-57-amd64']);
  });
});

describe('prepareKernel', () => {
  it('builds usr/lib/modules/<kver>/initramfs.img for the newest kernel and returns OSTree\'s bootcsum', () => {
    const newest = f.kernel.kernels[f.kernel.kernels.length - 1]!;
    expect(prepared?.kver).toBe(newest.kver);
    const dir = join(tree, 'usr/lib/modules', newest.kver);
    const img = join(dir, 'initramfs.img');
    expect(statSync(img).mode & 0o777).toBe(0o644);
    // bootcsum = sha256(vmlinuz || initramfs), recomputed by coreutils.
    const sum = execFileSync('sh', ['-c', 'cat "$1" "$2" | sha256sum', 'x', join(dir, 'vmlinuz'), img], { encoding: 'utf8' }).split(' ')[0];
    expect(prepared?.bootcsum).toBe(sum);
  });

  it('gives the tree the mount points and the /ostree link a booted deployment needs', () => {
    const t = join(work, 'layout');
    mkdirSync(join(t, 'usr/lib/modules'), { recursive: true });
    cpSync(join(tree, 'usr/lib/modules', prepared!.kver), join(t, 'usr/lib/modules', prepared!.kver), { recursive: true });
    return prepareKernel(t, silentReport).then(() => {
      for (const d of ['boot', 'dev', 'proc', 'run', 'sys', 'sysroot', 'tmp', 'var']) expect(statSync(join(t, d)).isDirectory(), d).toBe(true);
      expect(statSync(join(t, 'tmp')).mode & 0o7777).toBe(0o1777);
      expect(readlinkSync(join(t, 'ostree'))).toBe('sysroot/ostree');
    });
  });

  it('puts busybox, /init, /dev/console and every module in dependency order into a gzip newc cpio', () => {
    const kver = prepared!.kver;
    const archive = gunzip(join(tree, 'usr/lib/modules', kver, 'initramfs.img'));
    const names = cpioList(archive).map((l) => l.replace(/^.*? (?:Jan|Dec)\s+\d+\s+\d+\s+/, ''));
    for (const n of ['init', 'bin/busybox', 'dev/console', 'sysroot', 'newroot', 'proc', 'sys']) expect(names).toContain(n);
    const ex = join(work, 'initramfs-x');
    mkdirSync(ex);
    execFileSync('cpio', ['-idm', '--quiet', '--no-absolute-filenames', '--nonmatching', 'dev/console'], { cwd: ex, input: archive });
    expect(readFileSync(join(ex, 'bin/busybox')).equals(readFileSync(join(tree, 'usr/bin/busybox')))).toBe(true);
    const init = readFileSync(join(ex, 'init'), 'utf8');
    // busybox's own sh parses the script it will run as PID 1.
    expect(spawnSync('busybox', ['sh', '-n', join(ex, 'init')], { encoding: 'utf8' }).status).toBe(0);
    const order = /^MODULES='(.*)'$/m.exec(init)![1]!.split(' ');
    const loaded = new Set<string>();
    for (const rel of order) {
      const ko = join(ex, 'lib/modules', kver, rel);
      expect(existsSync(ko), rel).toBe(true);
      const info = objcopyModinfo(ko);
      const deps = info.filter(([k]) => k === 'depends').flatMap(([, v]) => v.split(',').filter(Boolean));
      for (const d of deps) expect(loaded, `${rel} needs ${d} loaded first`).toContain(d.replace(/-/g, '_'));
      loaded.add(info.find(([k]) => k === 'name')![1]);
    }
    for (const m of ['virtio_pci', 'virtio_blk', 'ext4', 'jbd2', 'crc32c_generic']) expect(loaded).toContain(m);
  });

  it('is deterministic: a second tree gives the same initramfs bytes and bootcsum', async () => {
    const again = join(work, 'again');
    unpackBootTree(f, again);
    const r = await prepareKernel(again, silentReport);
    expect(r).toEqual(prepared);
    const img = (root: string) => readFileSync(join(root, 'usr/lib/modules', prepared!.kver, 'initramfs.img'));
    expect(img(again).equals(img(tree))).toBe(true);
    rmSync(again, { recursive: true, force: true });
  });

  it('keeps an initramfs the kernel package ships', async () => {
    const t = join(work, 'shipped');
    const k = findKernel(tree)!;
    mkdirSync(join(t, 'usr/lib/modules', k.kver), { recursive: true });
    copyFileSync(k.vmlinuz, join(t, 'usr/lib/modules', k.kver, 'vmlinuz'));
    writeFileSync(join(t, 'usr/lib/modules', k.kver, 'initramfs.img'), 'shipped by the package');
    const r = await prepareKernel(t, silentReport);
    expect(readFileSync(join(t, 'usr/lib/modules', k.kver, 'initramfs.img'), 'utf8')).toBe('shipped by the package');
    expect(r?.kver).toBe(k.kver);
  });

  it('does nothing for a tree without a kernel', async () => {
    const t = join(work, 'nokernel');
    mkdirSync(join(t, 'usr/bin'), { recursive: true });
    expect(await prepareKernel(t, silentReport)).toBeUndefined();
    expect(existsSync(join(t, 'usr/lib/modules'))).toBe(false);
  });

  it('boots the newest of several kernels and says so', async () => {
    const t = join(work, 'two');
    unpackBootTree(f, t, { kver: f.kernel.kernels[0]!.kver });
    unpackBootTree(f, t);
    const report = new RecordingReport();
    const r = await prepareKernel(t, report);
    expect(r?.kver).toBe(f.kernel.kernels[f.kernel.kernels.length - 1]!.kver);
    expect(report.events.find((e) => e.code === 'boot.kernels')?.message).toContain('the newest');
    rmSync(t, { recursive: true, force: true });
  });

  it('fails with LAYER_BOOT naming the fix when there is no static busybox', async () => {
    const t = join(work, 'nobusybox');
    cpSync(join(tree, 'usr/lib/modules'), join(t, 'usr/lib/modules'), { recursive: true });
    rmSync(join(t, 'usr/lib/modules', prepared!.kver, 'initramfs.img'));
    const err = await prepareKernel(t, silentReport).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LayerError);
    expect((err as LayerError).code).toBe('LAYER_BOOT');
    expect((err as LayerError).hint).toMatch(/busybox-static/);
    // A dynamically linked busybox is refused too: the initramfs has no libc.
    mkdirSync(join(t, 'usr/bin'), { recursive: true });
    copyFileSync(join(tree, 'usr/bin/bash'), join(t, 'usr/bin/busybox'));
    chmodSync(join(t, 'usr/bin/busybox'), 0o755);
    await expect(prepareKernel(t, silentReport)).rejects.toThrow(/dynamically linked/);
  });

  it('fails with LAYER_BOOT when the root-disk modules are missing', async () => {
    const t = join(work, 'nomodules');
    cpSync(tree, t, { recursive: true, verbatimSymlinks: true });
    rmSync(join(t, 'usr/lib/modules', prepared!.kver, 'initramfs.img'));
    rmSync(join(t, 'usr/lib/modules', prepared!.kver, 'kernel/fs/ext4'), { recursive: true });
    await expect(prepareKernel(t, silentReport)).rejects.toThrow(/ext4 are neither in/);
  });
});
