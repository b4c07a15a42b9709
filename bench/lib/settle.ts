/**
 * `settle(path)`: write out the dirty pages of `path`'s filesystem (syncfs, via `sync -f`)
 * before a timed run. The benches copy a sysroot or an installroot (`cp -a`, ~40 MB) right
 * before each run; without this, layer's one syncfs per transaction would be charged for
 * writing the harness's copy, and dnf (which never syncs) would not. Both sides settle.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

export function settle(path: string): void {
  execFileSync('sync', ['-f', path], { stdio: 'ignore' });
}

/**
 * Copies made for timed runs, removed only after the last run (`removeLater(path)`, then
 * `removeNow()`). Deleting a 40 MB tree right before the next run made that run's file creations
 * slow on this machine's ext4 (inode allocation near freshly freed inodes: a file create went
 * from ~30 us to ~0.5 ms), and layer, which creates more inodes than dnf (objects, then a
 * deployment checkout), paid for the harness's clean-up more than dnf did.
 */
const pending: string[] = [];

export function removeLater(path: string): void {
  pending.push(path);
}

export function removeNow(): void {
  for (const p of pending.splice(0)) rmSync(p, { recursive: true, force: true });
}
