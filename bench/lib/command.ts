/**
 * The `layer` command as a user runs it: dist/bin/layer (src/cli/bin.sh, the package's "bin"),
 * which starts Node on dist/bin/layer.cjs. A BENCH_BEFORE build is given as its layer.cjs (builds
 * before the shell command had none) and runs as `node layer.cjs`, as its users ran it then.
 */
import { join } from 'node:path';
import { ROOT } from '../../test/cli/helpers.js';

export const COMMAND = join(ROOT, 'dist/bin/layer');

/**
 * The program and arguments that run `bin` with `args`. `nodeFlags` (a CPU profile) need Node on
 * the command line: then layer.cjs beside the command runs directly.
 */
export function commandLine(bin: string, args: string[], nodeFlags: string[] = []): [string, string[]] {
  if (bin.endsWith('.cjs')) return ['node', [...nodeFlags, bin, ...args]];
  if (nodeFlags.length > 0) return ['node', [...nodeFlags, `${bin}.cjs`, ...args]];
  return [bin, args];
}
