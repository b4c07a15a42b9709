/**
 * dnf's `[main]` options that change what a transaction installs, read from the dnf.conf dnf
 * itself would read: the deployment's `/etc/dnf/dnf.conf`. Only the options layering honours
 * are taken (`best`, `installonly_limit`, `installonlypkgs`, `exclude_from_weak`, and the global
 * `excludepkgs`/`exclude`/`includepkgs`); the rest of the file is dnf's business and ignored.
 * Command-line flags win over these (the engine merges them). A malformed value is a
 * LAYER_REPO_CONFIG error naming the file and line, as for `.repo` files.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIni, sectionReader } from './config.js';
import type { Vars } from './vars.js';

export interface DnfMainConfig {
  /** `file:line` of [main], for messages; undefined when there is no file or no [main]. */
  source?: string;
  best?: boolean;
  installonlyLimit?: number;
  /** Appended to dnf's default installonlypkgs (dnf.conf(5): an append list). */
  installonlyPkgs: string[];
  excludeFromWeak?: string[];
  /** Global excludes and includes: applied to every repo, beside the repo's own. */
  excludepkgs: string[];
  includepkgs: string[];
}

/** The dnf.conf of a deployment tree (`etc/dnf/dnf.conf`); none (or no tree) gives dnf's defaults. */
export function readDnfConf(tree: string | undefined, vars: Vars = {}): DnfMainConfig {
  const file = tree === undefined ? undefined : join(tree, 'etc/dnf/dnf.conf');
  if (file === undefined || !existsSync(file)) return { installonlyPkgs: [], excludepkgs: [], includepkgs: [] };
  return parseDnfConf(readFileSync(file, 'utf8'), file, vars);
}

/** The `[main]` options of a dnf.conf text (other sections, e.g. repos defined there, are left to dnf). */
export function parseDnfConf(text: string, file: string, vars: Vars = {}): DnfMainConfig {
  const main = parseIni(text, file).find((s) => s.id === 'main');
  const out: DnfMainConfig = { installonlyPkgs: [], excludepkgs: [], includepkgs: [] };
  if (!main) return out;
  const { at, get, bad, bool, int, list } = sectionReader(main, file, vars);
  out.source = at(main.line);
  if (get('best')?.value) out.best = bool('best', false);
  const limit = get('installonly_limit');
  if (limit?.value) {
    const n = int('installonly_limit', 3);
    // libdnf refuses 1 (an upgrade needs room for the old and the new version) and negatives.
    if (n < 0 || n === 1) bad('installonly_limit', limit.line, `value ${n} is not allowed (0: no limit, or at least 2)`);
    out.installonlyLimit = n;
  }
  out.installonlyPkgs = list('installonlypkgs');
  if (main.keys.has('exclude_from_weak')) out.excludeFromWeak = list('exclude_from_weak');
  out.excludepkgs = [...list('excludepkgs'), ...list('exclude')];
  out.includepkgs = list('includepkgs');
  return out;
}

