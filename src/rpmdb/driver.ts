/**
 * better-sqlite3, loaded on first use.
 *
 * Why not a plain import: loading its JavaScript and its native addon costs every process ~4 MB
 * of RSS and a few milliseconds, and most commands no longer need it. A dry run reads the base's
 * installed headers from the header list cached beside the base's rpmdb (headers.ts), so only a
 * command that writes an rpmdb, or asks rpm's indexes (owners of a path, providers), loads it.
 */
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';

let loaded: typeof Database | undefined;

/** The better-sqlite3 constructor (the module is required the first time). */
export function sqliteDriver(): typeof Database {
  loaded ??= createRequire(import.meta.url)('better-sqlite3') as typeof Database;
  return loaded;
}

/** Whether some code of this process loaded the driver (what tests check a dry run avoids). */
export function sqliteDriverLoaded(): boolean {
  return loaded !== undefined;
}
