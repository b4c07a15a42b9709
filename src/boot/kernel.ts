/**
 * The kernel of a root tree, where OSTree looks for it (ostree's deploy.c, "get_kernel_from_tree"):
 * `usr/lib/modules/<kver>/vmlinuz` with its initramfs next to it as `initramfs.img`. The boot
 * checksum ("bootcsum") is SHA-256 over the kernel's bytes then the initramfs's, as OSTree
 * computes it: deployments whose kernel and initramfs are identical share one copy in
 * `boot/ostree/<osname>-<bootcsum>/`.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';

export const MODULES_DIR = 'usr/lib/modules';

export interface TreeKernel {
  /** The kernel release (`uname -r`), the name of its modules directory. */
  kver: string;
  /** Absolute path of `usr/lib/modules/<kver>` in the tree. */
  dir: string;
  vmlinuz: string;
  /** `initramfs.img` next to vmlinuz, when the tree has one. */
  initramfs: string | undefined;
}

/**
 * Version order for kernel releases (`6.1.0-57-amd64` > `6.1.0-9-amd64`): runs of digits
 * compare numerically, other runs as strings, like rpm's rpmvercmp for these inputs.
 */
export function compareKver(a: string, b: string): number {
  const split = (s: string) => s.match(/\d+|[A-Za-z]+/g) ?? [];
  const x = split(a);
  const y = split(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    const pd = /^\d/.test(p);
    const qd = /^\d/.test(q);
    if (pd !== qd) return pd ? 1 : -1;
    const c = pd ? Number(p) - Number(q) : p < q ? -1 : p > q ? 1 : 0;
    if (c !== 0) return Math.sign(c);
  }
  return Math.sign(x.length - y.length);
}

/** Every kernel of the tree (a `usr/lib/modules/*` directory with a regular-file `vmlinuz`), newest first. */
export function listKernels(root: string): TreeKernel[] {
  const modules = join(root, MODULES_DIR);
  if (!existsSync(modules)) return [];
  const out: TreeKernel[] = [];
  for (const kver of readdirSync(modules)) {
    const dir = join(modules, kver);
    const vmlinuz = join(dir, 'vmlinuz');
    if (!lstatSync(vmlinuz, { throwIfNoEntry: false })?.isFile()) continue;
    const img = join(dir, 'initramfs.img');
    out.push({ kver, dir, vmlinuz, initramfs: lstatSync(img, { throwIfNoEntry: false })?.isFile() ? img : undefined });
  }
  return out.sort((a, b) => compareKver(b.kver, a.kver));
}

/**
 * The kernel a deployment of this tree boots: the newest one when a tree carries several
 * (install-only kernels layered side by side; the solver already picks the newest when a
 * single `kernel` is requested). Undefined when the tree has no kernel.
 */
export function findKernel(root: string): TreeKernel | undefined {
  return listKernels(root)[0];
}

/** OSTree's bootcsum: SHA-256 of the kernel then the initramfs, hex. */
export async function bootChecksum(vmlinuz: string, initramfs: string): Promise<string> {
  const h = createHash('sha256');
  for (const file of [vmlinuz, initramfs]) {
    try {
      for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
    } catch (err) {
      throw new LayerError('LAYER_BOOT', `reading ${file} for the boot checksum`, { cause: err });
    }
  }
  return h.digest('hex');
}
