/** Shared helpers for the rpm tests: oracle tools, shared data, tree snapshots. */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { requireTool } from '../support/tools.js';
export { requireTool };

export const run = promisify(execFile);
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_RPMS = join(REPO, '..', 'shared', 'data', 'rpms');

/** The shared RPM directory, or a failure naming what is missing. */
export function sharedRpms(): string {
  if (!existsSync(SHARED_RPMS)) throw new Error(`missing ${SHARED_RPMS}: the tests need ../shared/data/rpms beside the repo`);
  return SHARED_RPMS;
}

/** Fails (never skips) when an oracle tool is absent, naming the install command. */

/** `rpm -qp --qf FMT path` stdout. */
export async function rpmq(path: string, fmt: string): Promise<string> {
  const { stdout } = await run('rpm', ['-qp', '--nosignature', '--nodigest', '--qf', fmt, path], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

export interface TreeNode {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size: number;
  sha256?: string;
  target?: string;
  mtime: number;
  ino: number;
  nlink: number;
}

/** Every path under `root` (relative, sorted) with what a comparison needs. */
export async function snapshot(root: string): Promise<Map<string, TreeNode>> {
  const out = new Map<string, TreeNode>();
  async function walk(rel: string): Promise<void> {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = await lstat(p);
      const n: TreeNode = {
        type: st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isFile() ? 'file' : 'other',
        mode: st.mode & 0o7777,
        size: st.size,
        mtime: Math.floor(st.mtimeMs / 1000),
        ino: st.ino,
        nlink: st.nlink,
      };
      if (n.type === 'file') n.sha256 = createHash('sha256').update(await readFile(p)).digest('hex');
      if (n.type === 'symlink') n.target = await readlink(p);
      out.set(r, n);
      if (n.type === 'dir') await walk(r);
    }
  }
  await walk('');
  return out;
}
