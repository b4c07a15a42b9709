/**
 * The compose recipe: what `layer compose` builds a base from. A JSON file:
 *
 *     {
 *       "packages": ["bash", "coreutils"],      // specs to install (names, provides, paths, NEVRAs)
 *       "repos": "repos.d",                     // a directory of .repo files, or a list of .repo files
 *       "options": { "ignoreWeakDeps": true, "arch": "x86_64" }   // optional
 *     }
 *
 * Relative paths are relative to the recipe file. JSON rather than TOML: Node parses it with no
 * dependency, it has exactly the types a recipe needs (lists of strings, booleans), and layer
 * already speaks JSON everywhere (lockfiles, --json, the request kept in commit metadata).
 * Unknown keys are refused, not ignored, so a typo ("pakages") cannot compose an empty base.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LayerError } from '../errors.js';

export interface Recipe {
  packages: string[];
  /** Absolute: a directory of `.repo` files, or `.repo` files. */
  repos: { dir: string } | { files: string[] };
  options: { ignoreWeakDeps?: boolean; arch?: string };
}

const KEYS = ['packages', 'repos', 'options'];
const OPTION_KEYS = ['ignoreWeakDeps', 'arch'];

function isStringList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string' && x !== '');
}

/** Parse recipe text; `path` names the file in errors and anchors relative paths. */
export function parseRecipe(text: string, path: string): Recipe {
  const bad = (msg: string) => new LayerError('LAYER_RECIPE', `recipe ${path}: ${msg}`, { hint: 'see README "Composing for a fleet" for the recipe format' });
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new LayerError('LAYER_RECIPE', `recipe ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('expected a JSON object');
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !KEYS.includes(k));
  if (unknown.length > 0) throw bad(`unknown key ${unknown.map((k) => `"${k}"`).join(', ')} (known: ${KEYS.join(', ')})`);
  if (!isStringList(o.packages) || o.packages.length === 0) throw bad('"packages" must be a non-empty list of package specs');
  const base = dirname(resolve(path));
  let repos: Recipe['repos'];
  if (typeof o.repos === 'string' && o.repos !== '') repos = { dir: resolve(base, o.repos) };
  else if (isStringList(o.repos) && o.repos.length > 0) repos = { files: o.repos.map((f) => resolve(base, f)) };
  else throw bad('"repos" must be a directory of .repo files or a non-empty list of .repo files');
  const opts = o.options ?? {};
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw bad('"options" must be an object');
  const oo = opts as Record<string, unknown>;
  const unknownOpt = Object.keys(oo).filter((k) => !OPTION_KEYS.includes(k));
  if (unknownOpt.length > 0) throw bad(`unknown option ${unknownOpt.map((k) => `"${k}"`).join(', ')} (known: ${OPTION_KEYS.join(', ')})`);
  if (oo.ignoreWeakDeps !== undefined && typeof oo.ignoreWeakDeps !== 'boolean') throw bad('"options.ignoreWeakDeps" must be true or false');
  if (oo.arch !== undefined && (typeof oo.arch !== 'string' || !/^[A-Za-z0-9_]+$/.test(oo.arch))) throw bad('"options.arch" must be an architecture name');
  return {
    packages: o.packages, repos,
    options: {
      ...(oo.ignoreWeakDeps !== undefined ? { ignoreWeakDeps: oo.ignoreWeakDeps as boolean } : {}),
      ...(oo.arch ? { arch: oo.arch as string } : {}),
    },
  };
}

export function readRecipe(path: string): Recipe {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LayerError('LAYER_RECIPE', `cannot read recipe ${path}: ${(err as Error).message}`, { cause: err });
  }
  return parseRecipe(text, path);
}
