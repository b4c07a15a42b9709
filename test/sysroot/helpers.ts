/** Helpers for sysroot tests: small trees committed straight into a sysroot's Store. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Checksum, Variant } from '../../src/store/index.js';
import type { Sysroot, Origin } from '../../src/sysroot/index.js';
import { requireTool, tempDir as sharedTempDir } from '../support/tools.js';
export { requireTool };

export function tempDir(tag: string): string {
  return sharedTempDir('sysroot', tag);
}

/** Fail (never skip) when a native tool is missing, naming the install command. */

/** Commit a tree with usr/bin, usr/etc (the /etc defaults) and `files` (path -> content), with `metadata`. */
export async function commitTree(sysroot: Sysroot, files: Record<string, string>, metadata: [string, Variant][] = []): Promise<Checksum> {
  const dir = mkdtempSync(join(tmpdir(), 'layer-tree-'));
  mkdirSync(join(dir, 'usr/bin'), { recursive: true });
  mkdirSync(join(dir, 'usr/etc'), { recursive: true });
  mkdirSync(join(dir, 'var'), { recursive: true });
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return sysroot.store.commitTree(dir, { subject: 'test tree', metadata });
}

export function origin(base: Checksum, requested: string[] = []): Origin {
  return { baseRef: 'test/base', baseCommit: base, requested, requestedLocal: [], removed: [] };
}
