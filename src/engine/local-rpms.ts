/**
 * Local `.rpm` files requested with `layer install ./x.rpm`. The origin records them by content
 * (sha256 + NEVRA); the file itself is kept in `ostree/layer/local-rpms/<sha256>.rpm` so every
 * later recomposition from the base can use it again.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError, withContext } from '../errors.js';
import { openRpm } from '../rpm/index.js';

export interface LocalRpm {
  sha256: string;
  nevra: string;
  name: string;
  /** Where compose reads it from. */
  path: string;
}

export function localRpmDir(stateDir: string): string {
  return join(stateDir, 'local-rpms');
}

export async function inspectLocalRpm(path: string): Promise<LocalRpm> {
  if (!existsSync(path)) throw new LayerError('LAYER_USAGE', `local package ${path} does not exist`);
  try {
    const pkg = await openRpm(path);
    const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
    return { sha256, nevra: pkg.nevra, name: pkg.name, path };
  } catch (err) {
    throw withContext(`reading local package ${path}`, err);
  }
}

/** Keep a copy by content (temp + rename); returns the kept path. */
export function keepLocalRpm(stateDir: string, rpm: LocalRpm): string {
  const dir = localRpmDir(stateDir);
  mkdirSync(dir, { recursive: true });
  const dest = join(dir, `${rpm.sha256}.rpm`);
  if (!existsSync(dest)) {
    const tmp = `${dest}.tmp-${process.pid}`;
    copyFileSync(rpm.path, tmp);
    renameSync(tmp, dest);
  }
  return dest;
}

/**
 * The kept file for an origin's `requested-local` (or recipe `local`) item; LAYER_SYSROOT when
 * it is gone. A recipe's file cannot be uninstalled: the hint says how to put it back.
 */
export function keptLocalRpm(stateDir: string, sha256: string, nevra: string, recipe = false): string {
  const p = join(localRpmDir(stateDir), `${sha256}.rpm`);
  if (existsSync(p)) return p;
  const hint = recipe ? `copy the same ${nevra}.rpm (sha256 ${sha256}) to ${p}`
    : `install it again: layer uninstall ${nevra} && layer install ./${nevra}.rpm`;
  throw new LayerError('LAYER_SYSROOT', `local package ${nevra} (${sha256.slice(0, 12)}) is no longer in ${localRpmDir(stateDir)}`, { hint });
}
