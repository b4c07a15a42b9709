/**
 * What a killed compose leaves in the sysroot's cache: `compose-*` scratch directories, and
 * (as root, killed while scriptlets ran) the overlay mounted on `compose-XXXX/merged`.
 *
 * Locking: call only with the sysroot lock held. Mounted scratch dirs can then only belong to
 * a dead run (only locked transactions run scriptlets); unmounted ones may belong to a running
 * `--dry-run`/`--download-only` (they take no lock), so those are removed only when stale.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LayerError } from '../errors.js';

const STALE_MS = 60 * 60_000;

/** Mount points at or under `dir`, deepest first (from /proc/self/mounts; octal escapes decoded). */
export function mountsUnder(dir: string): string[] {
  let text: string;
  try {
    text = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return [];
  }
  const root = resolve(dir);
  return text.split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((m): m is string => m !== undefined && (m === root || m.startsWith(`${root}/`)))
    .sort((a, b) => b.length - a.length);
}

export function cleanComposeLeftovers(cacheDir: string, now = Date.now()): string[] {
  if (!existsSync(cacheDir)) return [];
  const removed: string[] = [];
  for (const name of readdirSync(cacheDir).filter((n) => n.startsWith('compose-'))) {
    const dir = join(cacheDir, name);
    const mounts = mountsUnder(dir);
    if (mounts.length === 0 && now - statSync(dir).mtimeMs < STALE_MS) continue;
    for (const m of mounts) {
      try {
        // Lazy: a process of the dead run (bwrap's children die with it) may still hold it for a moment.
        execFileSync('umount', ['-l', m], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (err) {
        throw new LayerError('LAYER_SYSROOT', `cannot unmount ${m} left by a killed transaction`, { cause: err, hint: `umount -l ${m}` });
      }
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
}
