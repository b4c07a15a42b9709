/**
 * dnf's `[main]` options that change what a transaction installs, read from the dnf.conf dnf
 * itself would read: the deployment's `/etc/dnf/dnf.conf`. Only the options layering honours
 * are taken (`best`, `installonly_limit`, `installonlypkgs`, `exclude_from_weak`, and the global
 * `excludepkgs`/`exclude`/`includepkgs`); the rest of the file is dnf's business and ignored.
 * Command-line flags win over these (the engine merges them). A malformed value is what dnf
 * 4.14 makes of it: a warning in dnf's words ("Invalid configuration value: installonly_limit=1
 * in FILE; value 1 is not allowed"), and the option keeps its default — dnf goes on with the
 * transaction, so refusing it here would make layer stricter than the tool users know.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseBool, parseIni, sectionReader } from './config.js';
import { escapeControl } from '../util/escape.js';
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
  /** Malformed values, in dnf's words (one line each); those options keep their defaults. */
  invalid: string[];
}

/** The dnf.conf of a deployment tree (`etc/dnf/dnf.conf`); none (or no tree) gives dnf's defaults. */
export function readDnfConf(tree: string | undefined, vars: Vars = {}): DnfMainConfig {
  const file = tree === undefined ? undefined : join(tree, 'etc/dnf/dnf.conf');
  if (file === undefined || !existsSync(file)) return { installonlyPkgs: [], excludepkgs: [], includepkgs: [], invalid: [] };
  return parseDnfConf(readFileSync(file, 'utf8'), file, vars);
}

/** The `[main]` options of a dnf.conf text (other sections, e.g. repos defined there, are left to dnf). */
export function parseDnfConf(text: string, file: string, vars: Vars = {}): DnfMainConfig {
  const main = parseIni(text, file).find((s) => s.id === 'main');
  const out: DnfMainConfig = { installonlyPkgs: [], excludepkgs: [], includepkgs: [], invalid: [] };
  if (!main) return out;
  const { at, get, list } = sectionReader(main, file, vars);
  out.source = at(main.line);
  const invalid = (k: string, value: string, why: string) => out.invalid.push(escapeControl(`Invalid configuration value: ${k}=${value} in ${file}; ${why}`));
  const best = get('best')?.value;
  if (best) {
    const b = parseBool(best);
    if (b === undefined) invalid('best', best, `invalid boolean value '${best}'`);
    else out.best = b;
  }
  const limit = get('installonly_limit')?.value;
  if (limit) {
    // libdnf's words: 1 is refused (an upgrade needs room for the old and the new version), and negatives.
    const n = /^-?\d+$/.test(limit) ? Number(limit) : undefined;
    if (n === undefined) invalid('installonly_limit', limit, 'invalid value');
    else if (n < 0) invalid('installonly_limit', limit, 'negative value is not allowed');
    else if (n === 1) invalid('installonly_limit', limit, 'value 1 is not allowed');
    else out.installonlyLimit = n;
  }
  out.installonlyPkgs = list('installonlypkgs');
  if (main.keys.has('exclude_from_weak')) out.excludeFromWeak = list('exclude_from_weak');
  out.excludepkgs = [...list('excludepkgs'), ...list('exclude')];
  out.includepkgs = list('includepkgs');
  return out;
}

