/**
 * `settle(path)`: write out the dirty pages of `path`'s filesystem (syncfs, via `sync -f`)
 * before a timed run. The benches copy a sysroot or an installroot (`cp -a`, ~40 MB) right
 * before each run; without this, layer's one syncfs per transaction would be charged for
 * writing the harness's copy, and dnf (which never syncs) would not. Both sides settle.
 */
import { execFileSync } from 'node:child_process';

export function settle(path: string): void {
  execFileSync('sync', ['-f', path], { stdio: 'ignore' });
}
