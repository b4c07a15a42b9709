/** Helpers for sysroot tests: small trees committed straight into a sysroot's Store. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checksum } from '../../src/store/index.js';
import type { Sysroot, Origin } from '../../src/sysroot/index.js';

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `layer-sysroot-${tag}-`));
}

/** Fail (never skip) when a native tool is missing, naming the install command. */
export function requireTool(tool: string, pkg = tool): void {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`]);
  if (r.status !== 0) throw new Error(`${tool} is not installed: run \`bash scripts/setup.sh\` (apt-get install ${pkg})`);
}

/** Commit a tree with usr/bin, usr/etc (the /etc defaults) and `files` (path -> content). */
export async function commitTree(sysroot: Sysroot, files: Record<string, string>): Promise<Checksum> {
  const dir = mkdtempSync(join(tmpdir(), 'layer-tree-'));
  mkdirSync(join(dir, 'usr/bin'), { recursive: true });
  mkdirSync(join(dir, 'usr/etc'), { recursive: true });
  mkdirSync(join(dir, 'var'), { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return sysroot.store.commitTree(dir, { subject: 'test tree' });
}

export function origin(base: Checksum, requested: string[] = []): Origin {
  return { baseRef: 'test/base', baseCommit: base, requested, requestedLocal: [], removed: [] };
}
