/**
 * better-sqlite3, loaded on first use, with its addon named directly.
 *
 * Why not a plain import: loading its JavaScript and its native addon costs every process ~4 MB
 * of RSS and a few milliseconds, and most commands no longer need it. A dry run reads the base's
 * installed headers from the header list cached beside the base's rpmdb (headers.ts), so only a
 * command that writes an rpmdb, or reads one outside that cache, loads it.
 *
 * Why the addon's path: without one, better-sqlite3 asks the `bindings` package, which walks up
 * to the package root and tries some ten candidate paths before the one that exists: ~10 ms of
 * module resolution in every install (CPU profile of `layer install`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type Database from 'better-sqlite3';

let loaded: { Database: typeof Database; addon: string | undefined } | undefined;

function driver(): { Database: typeof Database; addon: string | undefined } {
  if (loaded) return loaded;
  const req = createRequire(import.meta.url);
  const root = dirname(req.resolve('better-sqlite3/package.json'));
  const release = join(root, 'build/Release/better_sqlite3.node');
  // Another build layout (a Debug build): leave the search to better-sqlite3.
  loaded = { Database: req('better-sqlite3') as typeof Database, addon: existsSync(release) ? release : undefined };
  return loaded;
}

/** `new Database(file, options)` through the lazily loaded driver. */
export function openSqlite(file: string, options: Database.Options = {}): Database.Database {
  const { Database: Db, addon } = driver();
  return new Db(file, addon === undefined ? options : { ...options, nativeBinding: addon });
}
