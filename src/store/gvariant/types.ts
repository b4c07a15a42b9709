/**
 * GVariant type strings parsed into a small tree, with the alignment and fixed size each type
 * has (formats.md §1.1). Only what OSTree uses is supported: basic types, `s o g`, `v`, `mT`,
 * `aT`, structs and dict entries.
 */
import { LayerError } from '../../errors.js';

export type GType =
  | { kind: 'basic'; code: BasicCode; align: number; fixed: number | undefined; sig: string }
  | { kind: 'variant'; align: 8; fixed: undefined; sig: 'v' }
  | { kind: 'maybe'; elem: GType; align: number; fixed: undefined; sig: string }
  | { kind: 'array'; elem: GType; align: number; fixed: undefined; sig: string }
  | { kind: 'struct'; members: GType[]; align: number; fixed: number | undefined; sig: string };

export type BasicCode = 'y' | 'b' | 'n' | 'q' | 'i' | 'u' | 'h' | 'x' | 't' | 'd' | 's' | 'o' | 'g';

const BASIC: Record<BasicCode, [align: number, fixed: number | undefined]> = {
  y: [1, 1], b: [1, 1], n: [2, 2], q: [2, 2], i: [4, 4], u: [4, 4], h: [4, 4],
  x: [8, 8], t: [8, 8], d: [8, 8], s: [1, undefined], o: [1, undefined], g: [1, undefined],
};

const cache = new Map<string, GType>();

/** Parse one complete type string ("(a{sv}aya(say)sstayay)"); cached, types are immutable. */
export function parseType(sig: string): GType {
  const hit = cache.get(sig);
  if (hit) return hit;
  const [t, end] = parseAt(sig, 0);
  if (end !== sig.length) throw badType(sig);
  cache.set(sig, t);
  return t;
}

/** True when `sig` is exactly one valid (supported) type: used to validate variant payloads. */
export function isValidType(sig: string): boolean {
  try {
    parseType(sig);
    return true;
  } catch {
    return false;
  }
}

function badType(sig: string): LayerError {
  return new LayerError('LAYER_STORE_CORRUPT', `invalid GVariant type string '${sig}'`);
}

function alignUp(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}

function parseAt(sig: string, pos: number): [GType, number] {
  const c = sig[pos];
  if (c === undefined) throw badType(sig);
  if (c in BASIC) {
    const [align, fixed] = BASIC[c as BasicCode];
    return [{ kind: 'basic', code: c as BasicCode, align, fixed, sig: c }, pos + 1];
  }
  if (c === 'v') return [{ kind: 'variant', align: 8, fixed: undefined, sig: 'v' }, pos + 1];
  if (c === 'a' || c === 'm') {
    const [elem, end] = parseAt(sig, pos + 1);
    const kind = c === 'a' ? 'array' : 'maybe';
    return [{ kind, elem, align: elem.align, fixed: undefined, sig: sig.slice(pos, end) }, end];
  }
  if (c === '(' || c === '{') {
    const close = c === '(' ? ')' : '}';
    const members: GType[] = [];
    let p = pos + 1;
    while (sig[p] !== close) {
      if (p >= sig.length) throw badType(sig);
      const [m, end] = parseAt(sig, p);
      members.push(m);
      p = end;
    }
    if (c === '{' && (members.length !== 2 || members[0]?.kind !== 'basic')) throw badType(sig);
    return [structType(members, sig.slice(pos, p + 1)), p + 1];
  }
  throw badType(sig);
}

function structType(members: GType[], sig: string): GType {
  let align = 1;
  let size = 0;
  let fixed = true;
  for (const m of members) {
    align = Math.max(align, m.align);
    if (m.fixed === undefined) fixed = false;
    else size = alignUp(size, m.align) + m.fixed;
  }
  // The unit struct `()` is one zero byte (formats.md §1.1).
  const fixedSize = fixed ? (members.length === 0 ? 1 : alignUp(size, align)) : undefined;
  return { kind: 'struct', members, align, fixed: fixedSize, sig };
}
