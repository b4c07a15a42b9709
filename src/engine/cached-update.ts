/**
 * The cached update: what `layer upgrade --check` / `--preview` found, kept so that `status`
 * can show it (rpm-ostree's `cached-update`) without planning again. One JSON file in the state
 * directory, computed against one deployment (its checksum); a later transaction on another
 * deployment makes it stale, and `status` then shows nothing.
 *
 * Crash safety: written to a temp file and renamed over; a torn write is never read.
 * Locking: none: --check takes no lock (it changes no deployment), and the last writer wins.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackageDiff } from './types.js';

export interface CachedUpdate {
  /** The deployment (commit) this update was computed against. */
  deployment: string;
  /** The new base commit; null for a recipe base (its commit is composed by the upgrade). */
  checksum: string | null;
  version: string | null;
  /** Seconds since the epoch: the new base commit's, or when the check ran (recipe base). */
  timestamp: number;
  'ref-has-new-commit': boolean;
  'rpm-diff': PackageDiff;
  /** Every package of the tree the upgrade would deploy. */
  packages: string[];
  /** Security advisories the update fixes: id, severity, title, CVE ids, the packages. */
  advisories: CachedAdvisory[];
  /** sha256 of the update: the new base and the new package set. */
  'update-sha256': string;
  /**
   * What the check was restricted to (`--security`, `--advisory`), null when it was not: the
   * update then is only what those advisories require (a file written before this key: null).
   */
  restriction: Restriction | null;
}

/** An upgrade restricted to advisories (engine/advisory-filter.ts). */
export interface Restriction {
  /** Every applicable security advisory (`--security`). */
  security: boolean;
  /** Advisory ids named (`--advisory`). */
  advisories: string[];
  /** all: base and layered packages (a recipe base); layered: an OSTree-ref base's image is taken whole. */
  scope: 'all' | 'layered';
}

export interface CachedAdvisory {
  id: string;
  severity: string;
  title: string;
  cves: string[];
  packages: { name: string; version: string; release: string; arch: string }[];
}

const FILE = 'cached-update.json';

export function writeCachedUpdate(stateDir: string, u: CachedUpdate): void {
  const tmp = join(stateDir, `.${FILE}.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(u, null, 1) + '\n');
  renameSync(tmp, join(stateDir, FILE));
}

/** The cached update, or undefined when none was stored (or the file is unreadable). */
export function readCachedUpdate(stateDir: string): CachedUpdate | undefined {
  try {
    const u = JSON.parse(readFileSync(join(stateDir, FILE), 'utf8')) as CachedUpdate;
    return { ...u, restriction: u.restriction ?? null };
  } catch {
    return undefined;
  }
}

export function clearCachedUpdate(stateDir: string): void {
  rmSync(join(stateDir, FILE), { force: true });
}
