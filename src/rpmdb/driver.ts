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
import { fileURLToPath } from 'node:url';
import type Database from 'better-sqlite3';

let loaded: { Database: typeof Database; addon: string | undefined } | undefined;

function driver(): { Database: typeof Database; addon: string | undefined } {
  if (loaded) return loaded;
  // In the bin (a CommonJS bundle, scripts/bundle.mjs) `require` is the bundle's and
  // better-sqlite3's JavaScript is inside it, compiled through the bin's code cache: resolving
  // and compiling its ~15 files from node_modules cost ~6 ms of every rpmdb write. From the
  // sources (tests, ES modules) there is no `require`, and node_modules is searched.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle's require, on purpose (above)
  const lib = typeof require === 'function' ? require('better-sqlite3') : createRequire(import.meta.url)('better-sqlite3');
  loaded = { Database: lib as typeof Database, addon: addonPath() };
  return loaded;
}

/**
 * The addon's file: where it is beside this checkout (node_modules two levels up from
 * src/rpmdb/ and from dist/bin/ alike), else where Node's resolution finds the package, a
 * Release build, then a Debug one. Undefined when there is neither: better-sqlite3's own search
 * (its `bindings` module, bundled too) then reports what it tried.
 */
function addonPath(): string | undefined {
  const beside = fileURLToPath(new URL('../../node_modules/better-sqlite3/build/Release/better_sqlite3.node', import.meta.url));
  if (existsSync(beside)) return beside;
  const root = dirname(createRequire(import.meta.url).resolve('better-sqlite3/package.json'));
  return ['Release', 'Debug'].map((b) => join(root, 'build', b, 'better_sqlite3.node')).find((f) => existsSync(f));
}

/** `new Database(file, options)` through the lazily loaded driver. */
export function openSqlite(file: string, options: Database.Options = {}): Database.Database {
  const { Database: Db, addon } = driver();
  return new Db(file, addon === undefined ? options : { ...options, nativeBinding: addon });
}
