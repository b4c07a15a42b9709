/**
 * layer's initramfs, built from the tree it boots (as rpm-ostree runs dracut inside the new
 * tree, so the initramfs is a function of the packages, not of the build host):
 *
 *   init                                the script of init-script.ts
 *   bin/busybox                         the tree's static busybox (Debian's busybox-static)
 *   lib/modules/<kver>/kernel/…/*.ko     the tree's root-disk modules and their dependencies
 *   dev/console, proc, sys, sysroot, newroot, run, tmp
 *
 * as a gzip-compressed newc cpio. Deterministic: sorted entries, mtime 0, uid/gid 0, the gzip
 * header without a time stamp or name, so the same tree gives the same bytes.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LayerError } from '../errors.js';
import { writeCpio, type CpioEntry } from './cpio.js';
import { isStaticExecutable } from './elf.js';
import { initScript } from './init-script.js';
import type { TreeKernel } from './kernel.js';
import { ModuleTree, OPTIONAL_MODULES, REQUIRED_MODULES, type ModuleFile } from './modules.js';

/** Where a tree's busybox may be (merged /usr; Debian's busybox-static ships /bin/busybox). */
const BUSYBOX_PATHS = ['usr/bin/busybox', 'usr/sbin/busybox'];

export interface Initramfs {
  /** The gzip-compressed cpio archive. */
  image: Buffer;
  /** Modules in load order (paths relative to usr/lib/modules/<kver>). */
  modules: ModuleFile[];
  /** The tree path of the busybox it carries. */
  busybox: string;
}

function findBusybox(root: string): { path: string; data: Buffer } {
  for (const rel of BUSYBOX_PATHS) {
    const st = lstatSync(join(root, rel), { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    const data = readFileSync(join(root, rel));
    if (!isStaticExecutable(data, `/${rel}`)) {
      throw new LayerError('LAYER_BOOT', `/${rel} is dynamically linked; the initramfs needs a static busybox`, { hint: 'install busybox-static in the tree' });
    }
    return { path: `/${rel}`, data };
  }
  throw new LayerError('LAYER_BOOT', `the tree has a kernel but no initramfs and no static busybox to build one (looked for ${BUSYBOX_PATHS.map((p) => `/${p}`).join(', ')})`, {
    hint: 'install busybox-static next to the kernel, or use a kernel package that ships usr/lib/modules/<kver>/initramfs.img',
  });
}

/** The modules of REQUIRED_MODULES (+ OPTIONAL_MODULES present) in load order; built-in ones need none. */
export function initramfsModules(kernelDir: string): ModuleFile[] {
  const tree = new ModuleTree(kernelDir);
  const missing = REQUIRED_MODULES.filter((m) => !tree.has(m) && !tree.isBuiltin(m));
  if (missing.length > 0) {
    throw new LayerError('LAYER_BOOT', `kernel modules ${missing.join(', ')} are neither in ${kernelDir} nor built in; the initramfs could not mount a root disk`);
  }
  const wanted = [...REQUIRED_MODULES, ...OPTIONAL_MODULES].filter((m) => tree.has(m));
  return tree.loadOrder(wanted);
}

/** Build the initramfs for `kernel` from the files of `root`. */
export function buildInitramfs(root: string, kernel: TreeKernel): Initramfs {
  const busybox = findBusybox(root);
  const modules = initramfsModules(kernel.dir);
  const entries: CpioEntry[] = [];
  const dirs = new Set(['bin', 'dev', 'etc', 'lib', 'newroot', 'proc', 'run', 'sys', 'sysroot', 'tmp']);
  for (const m of modules) {
    const parts = `lib/modules/${kernel.kver}/${m.rel}`.split('/');
    for (let i = 2; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    let data: Buffer;
    try {
      data = readFileSync(join(kernel.dir, m.rel));
    } catch (err) {
      throw new LayerError('LAYER_BOOT', `reading kernel module ${join(kernel.dir, m.rel)}`, { cause: err });
    }
    entries.push({ path: parts.join('/'), type: 'file', mode: 0o644, data });
  }
  for (const d of dirs) entries.push({ path: d, type: 'dir', mode: d === 'tmp' ? 0o1777 : 0o755 });
  entries.push({ path: 'bin/busybox', type: 'file', mode: 0o755, data: busybox.data });
  entries.push({ path: 'dev/console', type: 'chardev', mode: 0o600, major: 5, minor: 1 });
  entries.push({ path: 'init', type: 'file', mode: 0o755, data: Buffer.from(initScript(kernel.kver, modules.map((m) => m.rel))) });
  // zlib's gzip header carries mtime 0 and no file name: the bytes depend on the input only.
  const image = gzipSync(writeCpio(entries), { level: 9 });
  return { image, modules, busybox: busybox.path };
}
