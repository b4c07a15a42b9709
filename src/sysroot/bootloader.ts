/**
 * BLS entries, kernels in /boot and the atomic `boot/loader` swap (formats.md §3, ostree's
 * write_deployments_bootswap). For a new deployment list with boot version B' = 1-B:
 *
 *   boot/ostree/<os>-<bootcsum>/{vmlinuz,initramfs}-<kver>   the kernel + initramfs, copied from
 *        the deployment's usr/lib/modules/<kver>/ (stageKernel), shared by every deployment
 *        with the same bootcsum
 *   ostree/boot.B'.0/<os>/<bootcsum>/<n> -> ../../../deploy/<os>/deploy/<csum>.<serial>
 *        OSTree's symlink farm (n counts the deployments sharing that bootcsum), and
 *        ostree/boot.B' -> boot.B'.0
 *   boot/loader.B'/entries/ostree-<k>-<os>.conf   title, version, options
 *        `ostree=/ostree/boot.B'/<os>/<bootcsum>/<n>`, linux, initrd
 *
 * are written and fsynced, then `boot/loader.tmp -> loader.B'` is renamed over `boot/loader`.
 * That rename is the commit point: before it the old list (and the old farm its entries name)
 * is in force, after it the new one. Afterwards the old loader dir, the old farm and kernel
 * dirs no entry names are removed.
 *
 * A deployment whose tree has no kernel gets an entry without linux/initrd whose `ostree=`
 * names the deployment directory itself (`/ostree/deploy/<os>/deploy/<id>`): a directory
 * sysroot boots nothing, and that is what layer wrote before kernels existed.
 */
import { closeSync, copyFileSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { bootChecksum, findKernel } from '../boot/index.js';
import { LayerError } from '../errors.js';
import { fsyncDir, writeFileDurable } from './fsutil.js';

/** The kernel a deployment boots, as its entry records it. */
export interface BootKernel {
  kver: string;
  /** OSTree's boot checksum (SHA-256 of vmlinuz then initramfs). */
  bootcsum: string;
}

export interface BootEntry {
  osname: string;
  /** Deployment directory name `<checksum>.<serial>`. */
  id: string;
  title: string;
  kernel?: BootKernel;
}

const DIRECT_KARG = /(?:^|\s)ostree=\/ostree\/deploy\/([^/\s]+)\/deploy\/([0-9a-f]{64}\.[0-9]+)(?:\s|$)/;
const FARM_KARG = /(?:^|\s)ostree=\/ostree\/boot\.([01])\/([^/\s]+)\/([0-9a-f]{64})\/(\d+)(?:\s|$)/;
const KERNEL_DIR = /^(.+)-([0-9a-f]{64})(\.tmp)?$/;

/** Paths (relative to the boot partition, reached through `boot/boot -> .`) of a kernel's files. */
export function kernelFiles(osname: string, k: BootKernel): { dir: string; linux: string; initrd: string } {
  const dir = `ostree/${osname}-${k.bootcsum}`;
  return { dir, linux: `/boot/${dir}/vmlinuz-${k.kver}`, initrd: `/boot/${dir}/initramfs-${k.kver}.img` };
}

/** The active boot version (0 or 1), or undefined before the first deployment. */
export function bootVersion(sysroot: string): 0 | 1 | undefined {
  let target: string;
  try {
    target = readlinkSync(join(sysroot, 'boot/loader'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LayerError('LAYER_SYSROOT', `reading ${sysroot}/boot/loader`, { cause: err });
  }
  if (target === 'loader.0') return 0;
  if (target === 'loader.1') return 1;
  throw new LayerError('LAYER_SYSROOT', `${sysroot}/boot/loader points at '${target}', expected loader.0 or loader.1`);
}

/** Boot entries in boot order (default first): sorted by `version`, highest first. */
export function readBootEntries(sysroot: string): BootEntry[] {
  const v = bootVersion(sysroot);
  if (v === undefined) return [];
  const dir = join(sysroot, `boot/loader.${v}/entries`);
  const out: { version: number; entry: BootEntry }[] = [];
  for (const name of readdirSync(dir).filter((n) => /^ostree-\d+-.+\.conf$/.test(n))) {
    const file = join(dir, name);
    const fields = new Map<string, string>();
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^(\S+)\s+(.*)$/.exec(line.trim());
      if (m) fields.set(m[1]!, m[2]!);
    }
    const version = Number(fields.get('version'));
    if (!Number.isInteger(version)) throw new LayerError('LAYER_SYSROOT', `${file}: not a layer boot entry (no version)`);
    const options = fields.get('options') ?? '';
    const title = fields.get('title') ?? '';
    const direct = DIRECT_KARG.exec(options);
    if (direct) {
      out.push({ version, entry: { osname: direct[1]!, id: direct[2]!, title } });
      continue;
    }
    const farm = FARM_KARG.exec(options);
    if (!farm) throw new LayerError('LAYER_SYSROOT', `${file}: not a layer boot entry (no ostree= karg)`);
    const [, bv, osname, bootcsum, n] = farm as unknown as [string, string, string, string, string];
    // The farm link is what the initramfs follows; reading it here keeps both in agreement.
    const link = join(sysroot, 'ostree', `boot.${bv}`, osname, bootcsum, n);
    let target: string;
    try {
      target = readlinkSync(link);
    } catch (err) {
      throw new LayerError('LAYER_SYSROOT', `${file}: ostree= names ${link}, which cannot be read`, { cause: err });
    }
    const id = new RegExp(`^\\.\\./\\.\\./\\.\\./deploy/${escapeRe(osname)}/deploy/([0-9a-f]{64}\\.\\d+)$`).exec(target)?.[1];
    const kver = /\/vmlinuz-(.+)$/.exec(fields.get('linux') ?? '')?.[1];
    if (!id || !kver) throw new LayerError('LAYER_SYSROOT', `${file}: ${link} -> ${target} is not a deployment link, or the entry has no linux line`);
    out.push({ version, entry: { osname, id, title, kernel: { kver, bootcsum } } });
  }
  return out.sort((a, b) => b.version - a.version).map((e) => e.entry);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function copyDurable(from: string, to: string): void {
  copyFileSync(from, to);
  const fd = openSync(to, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copy the kernel and initramfs of the deployment checked out at `deployment` into
 * `boot/ostree/<osname>-<bootcsum>/` (kept when already there: the name is the content's
 * checksum). Returns undefined for a tree without a kernel. Call before `swapBootEntries`.
 * Crash safety: written to `<dir>.tmp`, fsynced and renamed; a leftover `.tmp` is removed by
 * the next swap or `cleanBootLeftovers`.
 */
export async function stageKernel(sysroot: string, osname: string, deployment: string): Promise<BootKernel | undefined> {
  const k = findKernel(deployment);
  if (!k) return undefined;
  if (!k.initramfs) {
    throw new LayerError('LAYER_BOOT', `${k.dir} has vmlinuz but no initramfs.img`, {
      hint: 'trees composed by layer get one built (src/boot); a tree imported from elsewhere must ship usr/lib/modules/<kver>/initramfs.img',
    });
  }
  const kernel: BootKernel = { kver: k.kver, bootcsum: await bootChecksum(k.vmlinuz, k.initramfs) };
  const files = kernelFiles(osname, kernel);
  const dir = join(sysroot, 'boot', files.dir);
  if (existsSync(dir)) return kernel;
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  copyDurable(k.vmlinuz, join(tmp, `vmlinuz-${k.kver}`));
  copyDurable(k.initramfs, join(tmp, `initramfs-${k.kver}.img`));
  fsyncDir(tmp);
  renameSync(tmp, dir);
  fsyncDir(join(sysroot, 'boot/ostree'));
  return kernel;
}

/** Point `link` at `target` atomically (symlink beside it, then rename). */
function replaceSymlink(target: string, link: string): void {
  const tmp = `${link}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

/** Remove the farm of boot version `v`: `ostree/boot.v` and `ostree/boot.v.0`, `ostree/boot.v.1`. */
function removeFarm(sysroot: string, v: 0 | 1): void {
  for (const name of [`boot.${v}`, `boot.${v}.tmp`, `boot.${v}.0`, `boot.${v}.1`]) rmSync(join(sysroot, 'ostree', name), { recursive: true, force: true });
}

/** Remove `boot/ostree/<os>-<bootcsum>` dirs (and `.tmp` leftovers) that no entry boots. */
function removeUnusedKernels(sysroot: string, entries: readonly BootEntry[]): void {
  const dir = join(sysroot, 'boot/ostree');
  if (!existsSync(dir)) return;
  const used = new Set(entries.flatMap((e) => (e.kernel ? [`${e.osname}-${e.kernel.bootcsum}`] : [])));
  for (const name of readdirSync(dir)) {
    const m = KERNEL_DIR.exec(name);
    if (m && (m[3] || !used.has(name))) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Make `entries` (boot order, default first) the boot list, atomically. Entries with a kernel
 * must have had it staged (`stageKernel`).
 * Crash safety: a crash before the final rename leaves the old list in force; the half-written
 * `loader.(1-B)`, `ostree/boot.(1-B)*` and `loader.tmp` are overwritten by the next swap.
 */
export function swapBootEntries(sysroot: string, entries: readonly BootEntry[]): void {
  const boot = join(sysroot, 'boot');
  mkdirSync(boot, { recursive: true });
  const cur = bootVersion(sysroot);
  const next = cur === 0 ? 1 : 0;
  const nextDir = join(boot, `loader.${next}`);
  rmSync(nextDir, { recursive: true, force: true });
  mkdirSync(join(nextDir, 'entries'), { recursive: true });
  removeFarm(sysroot, next);
  const farm = join(sysroot, 'ostree', `boot.${next}.0`);
  const perKernel = new Map<string, number>();
  entries.forEach((e, index) => {
    const n = entries.length - index;
    const lines = [`title ${e.title} (ostree:${index})`, `version ${n}`];
    if (e.kernel) {
      const key = `${e.osname}/${e.kernel.bootcsum}`;
      const serial = perKernel.get(key) ?? 0;
      perKernel.set(key, serial + 1);
      mkdirSync(join(farm, e.osname, e.kernel.bootcsum), { recursive: true });
      symlinkSync(`../../../deploy/${e.osname}/deploy/${e.id}`, join(farm, e.osname, e.kernel.bootcsum, String(serial)));
      const files = kernelFiles(e.osname, e.kernel);
      if (!existsSync(join(boot, files.dir))) throw new LayerError('LAYER_INTERNAL', `assertion failed: kernel ${files.dir} not staged before the boot swap`);
      lines.push(`options ostree=/ostree/boot.${next}/${key}/${serial}`, `linux ${files.linux}`, `initrd ${files.initrd}`);
    } else {
      lines.push(`options ostree=/ostree/deploy/${e.osname}/deploy/${e.id}`);
    }
    writeFileDurable(join(nextDir, 'entries', `ostree-${n}-${e.osname}.conf`), [...lines, ''].join('\n'));
  });
  if (perKernel.size > 0) {
    for (const os of new Set(entries.filter((e) => e.kernel).map((e) => e.osname))) {
      for (const csum of readdirSync(join(farm, os))) fsyncDir(join(farm, os, csum));
      fsyncDir(join(farm, os));
    }
    fsyncDir(farm);
    replaceSymlink(`boot.${next}.0`, join(sysroot, 'ostree', `boot.${next}`));
    fsyncDir(join(sysroot, 'ostree'));
  }
  fsyncDir(join(nextDir, 'entries'));
  fsyncDir(nextDir);
  const tmp = join(boot, 'loader.tmp');
  rmSync(tmp, { force: true });
  symlinkSync(`loader.${next}`, tmp);
  fsyncDir(boot);
  renameSync(tmp, join(boot, 'loader'));
  fsyncDir(boot);
  if (cur !== undefined) {
    rmSync(join(boot, `loader.${cur}`), { recursive: true, force: true });
    removeFarm(sysroot, cur);
  }
  removeUnusedKernels(sysroot, entries);
  // GRUB/systemd-boot read entries' paths relative to the partition /boot lives on; with this
  // link `/boot/ostree/...` resolves whether or not /boot is a separate partition.
  if (!existsSync(join(boot, 'boot'))) symlinkSync('.', join(boot, 'boot'));
}

/** Remove swap leftovers (an inactive loader.N and farm, loader.tmp, unused kernels) after a crash. Caller holds the lock. */
export function cleanBootLeftovers(sysroot: string): void {
  const v = bootVersion(sysroot);
  const boot = join(sysroot, 'boot');
  rmSync(join(boot, 'loader.tmp'), { force: true });
  if (v === undefined) return;
  rmSync(join(boot, `loader.${v === 0 ? 1 : 0}`), { recursive: true, force: true });
  removeFarm(sysroot, v === 0 ? 1 : 0);
  removeUnusedKernels(sysroot, readBootEntries(sysroot));
}
