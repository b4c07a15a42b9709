/**
 * One NEVRA/EVR module: format, parse and compare, used everywhere a package is named. The
 * comparison is rpm's rpmvercmp (segments of digits or letters, `~` before anything, `^`
 * after the base version but before the next one), checked against `rpm --eval
 * '%{lua: print(rpm.vercmp(...))}'` by test/evr.test.ts. It is pure TypeScript, so callers that
 * only sort or diff (status, db diff) do not load the solver's wasm.
 */

/** `name-[epoch:]version-release.arch`. The brand keeps bare strings from passing as one. */
export type Nevra = string & { readonly __brand: 'Nevra' };

export interface Evr {
  epoch: number;
  version: string;
  release: string;
}

export interface NevraParts extends Evr {
  name: string;
  arch: string;
}

/** `[epoch:]version-release` (epoch 0 left out, as rpm prints it). */
export function formatEvr(p: Evr): string {
  return `${p.epoch ? `${p.epoch}:` : ''}${p.version}${p.release === '' ? '' : `-${p.release}`}`;
}

/** `name-[epoch:]version-release.arch` (no `.arch` for packages without one, such as gpg-pubkey). */
export function formatNevra(p: NevraParts): Nevra {
  return `${p.name}-${formatEvr(p)}${p.arch ? `.${p.arch}` : ''}` as Nevra;
}

/** `[epoch:]version[-release]` → its parts (missing epoch 0, missing release ''). */
export function parseEvr(evr: string): Evr {
  const colon = evr.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(evr.slice(0, colon)) ? Number(evr.slice(0, colon)) : 0;
  const vr = colon > 0 && /^\d+$/.test(evr.slice(0, colon)) ? evr.slice(colon + 1) : evr;
  const dash = vr.lastIndexOf('-');
  return dash < 0 ? { epoch, version: vr, release: '' } : { epoch, version: vr.slice(0, dash), release: vr.slice(dash + 1) };
}

/** `name-[e:]v-r.arch` → parts; undefined when the string has no version, release and arch. */
export function parseNevra(nevra: string): NevraParts | undefined {
  const dot = nevra.lastIndexOf('.');
  const rel = nevra.lastIndexOf('-', dot);
  const ver = nevra.lastIndexOf('-', rel - 1);
  if (dot <= 0 || rel <= 0 || ver <= 0 || rel > dot) return undefined;
  const evr = parseEvr(nevra.slice(ver + 1, dot));
  return { name: nevra.slice(0, ver), ...evr, arch: nevra.slice(dot + 1) };
}

/** The name part of a NEVRA (the whole string when it is not one). */
export function nameOf(nevra: string): string {
  return parseNevra(nevra)?.name ?? nevra;
}

/** `version-release` and arch of a NEVRA, as a transaction table shows them. */
export function versionArchOf(nevra: string): { evr: string; arch: string } {
  const p = parseNevra(nevra);
  return p ? { evr: formatEvr(p), arch: p.arch } : { evr: '', arch: '' };
}

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string | undefined) => c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
const isAlnum = (c: string | undefined) => isDigit(c) || isAlpha(c);

/** rpm's rpmvercmp of two version (or release) strings: -1, 0 or 1. */
export function vercmp(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;
    const numeric = isDigit(a[i]);
    const take = numeric ? isDigit : isAlpha;
    const si = i;
    const sj = j;
    while (i < a.length && take(a[i])) i++;
    while (j < b.length && take(b[j])) j++;
    // A numeric segment is newer than an alphabetic one.
    if (j === sj) return numeric ? 1 : -1;
    let x = a.slice(si, i);
    let y = b.slice(sj, j);
    if (numeric) {
      x = x.replace(/^0+/, '');
      y = y.replace(/^0+/, '');
      if (x.length !== y.length) return x.length > y.length ? 1 : -1;
    }
    if (x !== y) return x > y ? 1 : -1;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/**
 * Compare two EVRs (strings `[e:]v[-r]` or parts) as rpm orders packages: epoch, then version,
 * then release, where a release that is present (even empty: `1.0-`) sorts after a missing one.
 * Parts with release '' count as having none.
 */
export function compareEvr(a: string | Evr, b: string | Evr): -1 | 0 | 1 {
  const x = typeof a === 'string' ? parseEvr(a) : a;
  const y = typeof b === 'string' ? parseEvr(b) : b;
  if (x.epoch !== y.epoch) return x.epoch > y.epoch ? 1 : -1;
  const v = vercmp(x.version, y.version);
  if (v !== 0) return v;
  const hasX = typeof a === 'string' ? hasRelease(a) : x.release !== '';
  const hasY = typeof b === 'string' ? hasRelease(b) : y.release !== '';
  if (hasX !== hasY) return hasX ? 1 : -1;
  return hasX ? vercmp(x.release, y.release) : 0;
}

function hasRelease(evr: string): boolean {
  const colon = evr.indexOf(':');
  return evr.slice(colon > 0 && /^\d+$/.test(evr.slice(0, colon)) ? colon + 1 : 0).includes('-');
}
