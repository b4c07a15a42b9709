/**
 * dnf variable substitution for `.repo` values (formats.md §6.4): `$name`, `${name}`,
 * `${name:-word}`, `${name:+word}`. Unknown variables stay as written, as dnf leaves them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LayerError } from '../errors.js';

export type Vars = Record<string, string>;

/** `$basearch` for an rpm arch (dnf's arch map, the common part). */
export function baseArch(arch: string): string {
  if (/^i[3-6]86$/.test(arch) || arch === 'athlon' || arch === 'geode') return 'i386';
  if (arch === 'amd64' || arch.startsWith('x86_64')) return 'x86_64';
  if (arch.startsWith('armv7') || arch === 'armv8hl') return 'armhfp';
  if (arch === 'arm64') return 'aarch64';
  if (arch === 'ppc64p7') return 'ppc64';
  return arch;
}

const VAR_RE = /\$(?:\{([A-Za-z0-9_]+)(?::([-+])([^}]*))?\}|([A-Za-z0-9_]+))/g;

/** Substitute variables in `value`; one pass, substituted text is not re-expanded. */
export function substitute(value: string, vars: Vars): string {
  if (value.indexOf('$') === -1) return value;
  return value.replace(VAR_RE, (whole, braced?: string, op?: string, word?: string, bare?: string) => {
    const name = (braced ?? bare) as string;
    const v = vars[name];
    if (op === '-') return v !== undefined && v !== '' ? v : (word ?? '');
    if (op === '+') return v !== undefined && v !== '' ? (word ?? '') : '';
    return v ?? whole;
  });
}

/**
 * Build the variable set: `arch`/`basearch`, `releasever` (+ `_major`/`_minor`), every file in
 * each vars dir (first line, trimmed; later dirs win), `DNF_VAR_*` from `env`, then `explicit`.
 */
export async function loadVars(opts: {
  arch?: string;
  releasever?: string;
  varsDirs?: string[];
  env?: Record<string, string | undefined>;
  explicit?: Vars;
}): Promise<Vars> {
  const vars: Vars = {};
  const arch = opts.arch ?? 'x86_64';
  vars.arch = arch;
  vars.basearch = baseArch(arch);
  if (opts.releasever !== undefined) setReleasever(vars, opts.releasever);
  for (const dir of opts.varsDirs ?? []) {
    let names: string[];
    try {
      // Synchronously: a directory that is usually missing, read once per command (an async
      // readdir showed 6 ms under its frame in a CPU profile of an upgrade, for a missing directory).
      names = readdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new LayerError('LAYER_REPO_CONFIG', `vars dir ${dir}: ${(e as Error).message}`, { cause: e });
    }
    for (const name of names.sort()) {
      if (!/^[A-Za-z0-9_]+$/.test(name)) continue;
      let text: string;
      try {
        text = readFileSync(join(dir, name), 'utf8');
      } catch (e) {
        throw new LayerError('LAYER_REPO_CONFIG', `vars file ${join(dir, name)}: ${(e as Error).message}`, { cause: e });
      }
      vars[name] = (text.split('\n')[0] ?? '').trim();
    }
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (k.startsWith('DNF_VAR_') && v !== undefined) vars[k.slice(8)] = v;
  }
  Object.assign(vars, opts.explicit ?? {});
  if (vars.releasever !== undefined) setReleasever(vars, vars.releasever);
  return vars;
}

function setReleasever(vars: Vars, rv: string): void {
  vars.releasever = rv;
  const dot = rv.indexOf('.');
  vars.releasever_major = dot === -1 ? rv : rv.slice(0, dot);
  vars.releasever_minor = dot === -1 ? '' : rv.slice(dot + 1);
}
