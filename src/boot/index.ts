/**
 * boot/: what makes a composed tree bootable. The kernel is where OSTree expects it
 * (`usr/lib/modules/<kver>/vmlinuz`); when its package ships no `initramfs.img`, layer builds
 * one from the tree (initramfs.ts: busybox-static + the root-disk modules + an /init that does
 * ostree-prepare-root's job). The sysroot stage copies both into `boot/ostree/<os>-<bootcsum>/`
 * and writes the BLS entries (src/sysroot/bootloader.ts).
 */
import { chmodSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withContext } from '../errors.js';
import type { Report } from '../report.js';
import { buildInitramfs } from './initramfs.js';
import { bootChecksum, listKernels } from './kernel.js';
import { now } from '../util/clock.js';

export { bootChecksum, compareKver, findKernel, listKernels, MODULES_DIR, type TreeKernel } from './kernel.js';
export { buildInitramfs, initramfsModules, type Initramfs } from './initramfs.js';
export { writeCpio, type CpioEntry } from './cpio.js';
export { isStaticExecutable, modinfo } from './elf.js';
export { ModuleTree, OPTIONAL_MODULES, REQUIRED_MODULES, type ModuleFile } from './modules.js';

/**
 * Directories the initramfs mounts on (`/var` gets the stateroot's var, `/boot` the sysroot's
 * boot, `/run` a tmpfs, `/sysroot` the physical root) and `/ostree -> sysroot/ostree`, which
 * gives the booted system its repo and deployments. rpm-ostree's compose adds the same to
 * every tree; package payloads cannot provide them here, because /var, /run, /tmp and /boot
 * content is moved out of the tree on import (src/store/rpm-paths.ts).
 */
const MOUNT_POINTS: readonly [string, number][] = [
  ['boot', 0o755], ['dev', 0o755], ['proc', 0o555], ['run', 0o755], ['sys', 0o555], ['sysroot', 0o755], ['tmp', 0o1777], ['var', 0o755],
];

function ensureBootLayout(root: string): void {
  for (const [dir, mode] of MOUNT_POINTS) {
    if (lstatSync(join(root, dir), { throwIfNoEntry: false })) continue;
    mkdirSync(join(root, dir));
    chmodSync(join(root, dir), mode);
  }
  if (!lstatSync(join(root, 'ostree'), { throwIfNoEntry: false })) symlinkSync('sysroot/ostree', join(root, 'ostree'));
}

/**
 * Make the assembled tree at `root` bootable: find its kernel (the newest when there are
 * several), and when `usr/lib/modules/<kver>/initramfs.img` is missing build it and write it
 * there; add the mount points and `/ostree` link a booted deployment needs (ensureBootLayout).
 * Returns the kernel release and OSTree's boot checksum, or undefined for a tree
 * without a kernel (nothing is written then).
 *
 * When: in compose, after scriptlets (a kernel %posttrans could have written an initramfs) and
 * before the rpmdb and commit steps, so the initramfs is part of the commit.
 * Deterministic: the same tree gives the same initramfs bytes and bootcsum.
 */
export async function prepareKernel(root: string, report: Report): Promise<{ kver: string; bootcsum: string } | undefined> {
  const kernels = listKernels(root);
  const kernel = kernels[0];
  if (!kernel) return undefined;
  if (kernels.length > 1) {
    const kvers = kernels.map((k) => k.kver);
    report.warn('boot.kernels', `the tree has ${kernels.length} kernels (${kvers.join(', ')}); ${kernel.kver}, the newest, is the one deployments boot`, { kvers, booted: kernel.kver });
  }
  try {
    ensureBootLayout(root);
    let initramfs = kernel.initramfs;
    if (!initramfs) {
      const t0 = now();
      const built = buildInitramfs(root, kernel);
      initramfs = join(kernel.dir, 'initramfs.img');
      writeFileSync(initramfs, built.image);
      chmodSync(initramfs, 0o644); // whatever the umask: the mode is part of the commit
      report.info(
        'boot.initramfs',
        `initramfs for ${kernel.kver}: ${built.modules.length} modules + ${built.busybox}, ` +
          `${(built.image.length / 1048576).toFixed(1)} MiB in ${Math.round(now() - t0)} ms`,
        { kver: kernel.kver, modules: built.modules.map((m) => m.name), bytes: built.image.length },
      );
    }
    return { kver: kernel.kver, bootcsum: await bootChecksum(kernel.vmlinuz, initramfs) };
  } catch (err) {
    throw withContext(`kernel ${kernel.kver}`, err);
  }
}
