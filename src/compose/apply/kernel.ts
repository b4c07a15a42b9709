/**
 * Step kernel: a tree that ships a kernel (`/usr/lib/modules/<kver>/vmlinuz`) gets what OSTree
 * boots it with — an initramfs built from the tree's own modules and busybox, and the mount
 * points the initramfs needs — before the rpmdb and the commit (src/boot/prepareKernel). Trees
 * without a kernel are left as they are.
 */
import { prepareKernel } from '../../boot/index.js';
import type { ApplyState } from './state.js';

export async function kernel(s: ApplyState): Promise<void> {
  if (s.union || s.partial) return; // direct.ts and partial.ts compose only trees without a kernel
  await prepareKernel(s.root, s.ctx.report);
}
