/**
 * `.repo` files (yum.repos.d INI, formats.md §6.4) → RepoConfig. Values get dnf variable
 * substitution; unknown keys are kept in `extra` and otherwise ignored. Anything malformed is
 * a LAYER_REPO_CONFIG error naming the file and line; text echoed from the file goes through
 * escapeControl, so a hostile `.repo` cannot drive the terminal through an error message.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';
import { escapeControl } from '../util/escape.js';
import type { RepoConfig } from './types.js';
import { loadVars, substitute, type Vars } from './vars.js';

export interface RawSection {
  id: string;
  line: number;
  keys: Map<string, { value: string; line: number }>;
}

/** Split an INI text into sections; continuation lines (leading whitespace) extend a value. */
export function parseIni(text: string, file: string): RawSection[] {
  const sections: RawSection[] = [];
  let cur: RawSection | undefined;
  let lastKey: { value: string; line: number } | undefined;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const err = (msg: string): never => {
      throw new LayerError('LAYER_REPO_CONFIG', `${file}:${lineNo}: ${escapeControl(msg)}`, { hint: `line: ${escapeControl(raw.trim())}` });
    };
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) {
      if (trimmed === '') lastKey = undefined;
      return;
    }
    if (/^\s/.test(raw) && lastKey !== undefined) {
      lastKey.value += `\n${trimmed}`;
      return;
    }
    if (trimmed.startsWith('[')) {
      const m = /^\[([^\]]*)\]$/.exec(trimmed);
      if (!m) err('malformed section header');
      const id = (m as RegExpExecArray)[1]!.trim();
      if (!/^[A-Za-z0-9_.:$-][A-Za-z0-9_.:${}-]*$/.test(id)) err(`invalid repo id '${id}'`);
      if (sections.some((s) => s.id === id)) err(`duplicate section [${id}]`);
      cur = { id, line: lineNo, keys: new Map() };
      sections.push(cur);
      lastKey = undefined;
      return;
    }
    const eq = raw.indexOf('=');
    if (eq === -1) err("expected 'key=value', a [section] or a comment");
    if (cur === undefined) err('key outside any [section]');
    const key = raw.slice(0, eq).trim().toLowerCase();
    if (key === '') err('empty key');
    lastKey = { value: raw.slice(eq + 1).trim(), line: lineNo };
    (cur as RawSection).keys.set(key, lastKey);
  });
  return sections;
}

export function parseBool(v: string): boolean | undefined {
  switch (v.toLowerCase()) {
    case '1':
    case 'yes':
    case 'true':
    case 'on':
      return true;
    case '0':
    case 'no':
    case 'false':
    case 'off':
      return false;
    default:
      return undefined;
  }
}

/** dnf OptionSeconds: `N`, `N[smhd]`, `-1`/`never`. */
export function parseSeconds(v: string): number | undefined {
  const s = v.trim().toLowerCase();
  if (s === '-1' || s === 'never') return -1;
  const m = /^(\d+(?:\.\d+)?)([smhd]?)$/.exec(s);
  if (!m) return undefined;
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * mult);
}

/** dnf OptionStorageSize (`minrate`, `throttle`): bytes, or with a k/M/G suffix (powers of 1024). */
export function parseStorageSize(v: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)$/.exec(v.trim());
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}

function splitList(v: string): string[] {
  return v.split(/[\s,]+/).filter((x) => x !== '');
}

const KNOWN = new Set([
  'name', 'baseurl', 'mirrorlist', 'metalink', 'enabled', 'gpgcheck', 'repo_gpgcheck', 'gpgkey',
  'metadata_expire', 'priority', 'cost', 'excludepkgs', 'exclude', 'includepkgs',
  'skip_if_unavailable', 'sslverify', 'proxy', 'timeout', 'retries', 'minrate',
]);

/** Typed readers of one section's keys; errors name the file, line, section and key. */
export function sectionReader(sec: RawSection, file: string, vars: Vars) {
  const at = (line: number) => `${file}:${line}`;
  const get = (k: string) => {
    const e = sec.keys.get(k);
    return e === undefined ? undefined : { value: substitute(e.value, vars), line: e.line };
  };
  const bad = (k: string, line: number, what: string): never => {
    throw new LayerError('LAYER_REPO_CONFIG', `${at(line)}: [${escapeControl(sec.id)}] ${k}: ${escapeControl(what)}`);
  };
  /** The value of `k` through `parse` (undefined: malformed, described by `expected`), or `dflt`. */
  const typed = <T>(k: string, dflt: T, parse: (v: string) => T | undefined, expected: string): T => {
    const e = get(k);
    if (e === undefined || e.value === '') return dflt;
    const v = parse(e.value);
    return v !== undefined ? v : bad(k, e.line, `'${e.value}' is not ${expected}`);
  };
  return {
    at, get, bad,
    bool: (k: string, dflt: boolean) => typed(k, dflt, parseBool, 'a boolean (1/0, yes/no, true/false, on/off)'),
    int: (k: string, dflt: number) => typed(k, dflt, (v) => (/^-?\d+$/.test(v) ? Number(v) : undefined), 'an integer'),
    seconds: (k: string, dflt: number) => typed(k, dflt, parseSeconds, 'a duration (N, Ns/m/h/d, -1, never)'),
    size: (k: string, dflt: number) => typed(k, dflt, parseStorageSize, 'a size (N, Nk, NM, NG)'),
    list: (k: string) => splitList(get(k)?.value ?? ''),
  };
}

/** Turn the text of one `.repo` file into configs (enabled or not). */
export function parseRepoFile(text: string, file: string, vars: Vars): RepoConfig[] {
  return parseIni(text, file).map((sec) => {
    const { at, get, bad, bool, int, seconds, size, list } = sectionReader(sec, file, vars);
    const id = substitute(sec.id, vars);
    const baseurls = list('baseurl');
    const mirrorlist = get('mirrorlist')?.value || undefined;
    const metalink = get('metalink')?.value || undefined;
    if (baseurls.length === 0 && mirrorlist === undefined && metalink === undefined) {
      throw new LayerError('LAYER_REPO_CONFIG', `${at(sec.line)}: [${escapeControl(id)}] has no baseurl, mirrorlist or metalink`);
    }
    const extra: Record<string, string> = {};
    for (const [k, e] of sec.keys) if (!KNOWN.has(k)) extra[k] = substitute(e.value, vars);
    const cfg: RepoConfig = {
      id,
      name: get('name')?.value || id,
      source: at(sec.line),
      baseurls,
      enabled: bool('enabled', true),
      gpgcheck: bool('gpgcheck', false),
      repoGpgcheck: bool('repo_gpgcheck', false),
      gpgkeys: list('gpgkey'),
      metadataExpire: seconds('metadata_expire', 172800),
      priority: int('priority', 99),
      cost: int('cost', 1000),
      excludepkgs: [...list('excludepkgs'), ...list('exclude')],
      includepkgs: list('includepkgs'),
      skipIfUnavailable: bool('skip_if_unavailable', false),
      sslverify: bool('sslverify', true),
      // dnf's defaults (dnf.conf(5)). Unlike dnf, retries=0 means no retry rather than "forever":
      // every transfer in layer is bounded (see net/limits.ts for the retry budget).
      timeout: seconds('timeout', 30),
      retries: int('retries', 10),
      minrate: size('minrate', 1000),
      extra,
    };
    if (mirrorlist !== undefined) cfg.mirrorlist = mirrorlist;
    if (metalink !== undefined) cfg.metalink = metalink;
    const proxy = get('proxy')?.value;
    if (proxy) cfg.proxy = proxy;
    for (const k of ['timeout', 'retries'] as const) {
      const line = get(k)?.line;
      if (cfg[k] < 0 && line !== undefined) bad(k, line, 'must not be negative');
    }
    return cfg;
  });
}

export interface ReadRepoConfigsOptions {
  /** Explicit variables; win over everything else. */
  vars?: Vars;
  /** Directory of variable files (`/etc/dnf/vars`); several allowed. */
  varsDir?: string | string[];
  arch?: string;
  releasever?: string;
  /** Environment for `DNF_VAR_*` (defaults to none, so tests are hermetic). */
  env?: Record<string, string | undefined>;
}

/**
 * Read every `*.repo` file in `dir` (sorted by name) into RepoConfigs, disabled ones included
 * (filter on `enabled`). Throws LAYER_REPO_CONFIG for malformed files or a repo id defined twice.
 */
export async function readRepoConfigs(dir: string, opts: ReadRepoConfigsOptions = {}): Promise<RepoConfig[]> {
  const varsDirs = opts.varsDir === undefined ? [] : Array.isArray(opts.varsDir) ? opts.varsDir : [opts.varsDir];
  const vars = await loadVars({ ...opts, varsDirs, explicit: opts.vars ?? {} });
  let names: string[];
  try {
    // Synchronously, as loadVars: a few small files read once per command, before anything else.
    names = readdirSync(dir).filter((n) => n.endsWith('.repo')).sort();
  } catch (e) {
    throw new LayerError('LAYER_REPO_CONFIG', `repos dir ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const out: RepoConfig[] = [];
  const seen = new Map<string, string>();
  for (const n of names) {
    const file = join(dir, n);
    const text = readFileSync(file, 'utf8');
    for (const cfg of parseRepoFile(text, file, vars)) {
      const prev = seen.get(cfg.id);
      if (prev !== undefined) {
        throw new LayerError('LAYER_REPO_CONFIG', `${cfg.source}: repo id '${escapeControl(cfg.id)}' already defined at ${prev}`);
      }
      seen.set(cfg.id, cfg.source);
      out.push(cfg);
    }
  }
  return out;
}
