/**
 * Shared helpers for the rpmdb tests: locating ../shared data (failing loudly when absent),
 * running the real `rpm` against a tree, and dumping a database's rows for comparison.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { requireTool as sharedRequireTool, tempDir as sharedTempDir } from '../support/tools.js';

export const SHARED = path.resolve(import.meta.dirname, '../../../shared');

/** A path under ../shared/data; throws (failing the test) naming what is missing. */
export function sharedData(rel: string): string {
  const p = path.join(SHARED, 'data', rel);
  if (!fs.existsSync(p)) throw new Error(`missing test data ${p}: the read-only ../shared checkout must sit next to the repo`);
  return p;
}

/** Fails with the install command when a native oracle tool is missing. */
export function requireTool(tool: string): void {
  sharedRequireTool(tool, tool === 'rpm2cpio' ? 'rpm2cpio' : tool === 'cpio' ? 'cpio' : 'rpm');
}

export function tempDir(prefix: string): string {
  return sharedTempDir('rpmdb', prefix);
}

/** Runs Debian's rpm on tree `root` with layer's dbpath (never Debian's ~/.rpmdb, formats.md §5.1). */
export function rpmIn(root: string, args: string[], opts: { allowFail?: boolean } = {}): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('rpm', ['--root', root, '--dbpath', '/usr/lib/sysimage/rpm', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  // Debian's rpm nags on every install; that is not a test failure.
  const stderr = r.stderr.split('\n').filter((l) => l && !l.startsWith('rpm: RPM should not be used') && !l.startsWith('rpm: However assuming')).join('\n');
  if (!opts.allowFail && r.status !== 0) throw new Error(`rpm ${args.join(' ').slice(0, 200)} failed (${r.status}): ${stderr}`);
  return { stdout: r.stdout, stderr, status: r.status ?? -1 };
}

/** `rpm -qp` on a package file. */
export function rpmQueryPackage(file: string, args: string[]): string {
  return execFileSync('rpm', ['-qp', '--nosignature', ...args, file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
}

export const sortedLines = (s: string): string[] => s.split('\n').filter((l) => l !== '').sort();

/** sqlite_master minus the optional planner statistics, in a stable order. */
export function schemaOf(file: string): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_stat%' ORDER BY rowid").all() as Record<string, string>[];
    return rows.map((r) => `${r.type}|${r.name}|${r.tbl_name}|${r.sql}`);
  } finally {
    db.close();
  }
}

/**
 * Every index row as `table|package name|key|idx` (keys of BLOB tables in hex, typed), sorted, so
 * databases with different hnum assignment compare equal when they index the same things.
 */
export function indexDump(file: string, tables: readonly string[]): string[] {
  const db = new Database(file, { readonly: true });
  try {
    const out: string[] = [];
    for (const t of tables) {
      const rows = db
        .prepare(`SELECT n.key AS pkg, typeof(t.key) AS ty, CASE typeof(t.key) WHEN 'blob' THEN hex(t.key) ELSE t.key END AS k, t.idx AS idx FROM '${t}' t JOIN Name n ON n.hnum = t.hnum`)
        .all() as { pkg: string; ty: string; k: string; idx: number }[];
      for (const r of rows) out.push(`${t}|${r.pkg}|${r.ty}:${r.k}|${r.idx}`);
    }
    return out.sort();
  } finally {
    db.close();
  }
}
