/**
 * rpm's transaction check over a composed package set, run before anything is checked out:
 * every Requires of a package being installed is satisfied by the new tree (a provide, the
 * package itself, or a file); packages kept from the base still find what the removed packages
 * used to provide; no Conflicts holds between a new package and any other. rpm checks the
 * transaction's packages the same way and leaves untouched installed ones alone, so a base
 * with dependency problems of its own is not blamed on the user's request.
 *
 * Dependencies are rpm's strings: `name`, `name OP [epoch:]version[-release]`, or a rich
 * (boolean) dependency `(A and B)`, `(A or B)`, `(A if B [else C])`, `(A unless B [else C])`,
 * `(A with B)`, `(A without B)`. Ranges overlap as rpm's rpmdsCompare decides, a release
 * missing on either side matching any release.
 */
import { LayerError } from '../errors.js';
import { parseEvr, vercmp } from '../nevra.js';
import type { PackageRecord } from '../solver/types.js';

export interface CheckedPackage extends PackageRecord {
  nevra: string;
}

export interface DependencyProblem {
  kind: 'requires' | 'conflicts';
  /** The package whose dependency fails. */
  package: string;
  /** The dependency as written. */
  dependency: string;
  /** For a conflict: the package that provides the conflicting capability. */
  with?: string;
}

const LESS = 1;
const GREATER = 2;
const EQUAL = 4;

interface Dep {
  name: string;
  flags: number;
  evr: string;
}

function parseDep(s: string): Dep {
  const m = /^(\S+)\s*(<=|>=|=|<|>)\s*(\S+)$/.exec(s.trim());
  if (!m?.[1] || !m[2] || !m[3]) return { name: s.trim(), flags: 0, evr: '' };
  const op = m[2];
  const flags = (op.includes('<') ? LESS : 0) | (op.includes('>') ? GREATER : 0) | (op.includes('=') ? EQUAL : 0);
  return { name: m[1], flags, evr: m[3] };
}

/** EVR order for matching: a release missing on either side is not compared (rpm's rpmdsCompare). */
function matchCmp(a: string, b: string): number {
  const x = parseEvr(a);
  const y = parseEvr(b);
  if (x.epoch !== y.epoch) return x.epoch > y.epoch ? 1 : -1;
  const v = vercmp(x.version, y.version);
  if (v !== 0 || x.release === '' || y.release === '') return v;
  return vercmp(x.release, y.release);
}

/** Do the ranges of a provide and a requirement overlap? */
function overlaps(p: Dep, r: Dep): boolean {
  if (p.flags === 0 || r.flags === 0 || p.evr === '' || r.evr === '') return true;
  const sense = matchCmp(p.evr, r.evr);
  if (sense < 0) return (p.flags & GREATER) !== 0 || (r.flags & LESS) !== 0;
  if (sense > 0) return (p.flags & LESS) !== 0 || (r.flags & GREATER) !== 0;
  return ((p.flags & EQUAL) !== 0 && (r.flags & EQUAL) !== 0) || ((p.flags & LESS) !== 0 && (r.flags & LESS) !== 0)
    || ((p.flags & GREATER) !== 0 && (r.flags & GREATER) !== 0);
}

/** Who satisfies what in a package set. */
class ProvideIndex {
  private readonly provides = new Map<string, { dep: Dep; pkg: CheckedPackage }[]>();
  private readonly files = new Map<string, CheckedPackage>();

  constructor(pkgs: readonly CheckedPackage[]) {
    for (const p of pkgs) {
      // Every package provides itself at its own EVR (rpm adds the self-provide).
      this.add({ name: p.name, flags: EQUAL, evr: `${p.epoch}:${p.version}-${p.release}` }, p);
      for (const s of p.provides) this.add(parseDep(s), p);
      for (const f of p.files) this.files.set(f, p);
    }
  }

  private add(dep: Dep, pkg: CheckedPackage): void {
    const list = this.provides.get(dep.name);
    if (list) list.push({ dep, pkg });
    else this.provides.set(dep.name, [{ dep, pkg }]);
  }

  /** The packages that satisfy a plain dependency (each once: a package self-provides and lists `name = EVR` too). */
  who(dep: Dep): CheckedPackage[] {
    const out = new Set((this.provides.get(dep.name) ?? []).filter((e) => overlaps(e.dep, dep)).map((e) => e.pkg));
    const file = dep.name.startsWith('/') ? this.files.get(dep.name) : undefined;
    if (file) out.add(file);
    return [...out];
  }

  /** Is the dependency (plain or rich) satisfied in this set? */
  satisfied(s: string): boolean {
    const t = s.trim();
    if (t.startsWith('(')) return this.rich(t);
    const dep = parseDep(t);
    // rpm answers rpmlib() itself, from the rpm that runs the transaction.
    return dep.name.startsWith('rpmlib(') || this.who(dep).length > 0;
  }

  private rich(s: string): boolean {
    const parts = splitRich(s);
    if (parts.length === 1) return this.satisfied(parts[0] ?? '');
    const [a = '', op, b = '', op2, c] = parts;
    const A = () => this.satisfied(a);
    const B = () => this.satisfied(b);
    switch (op) {
      case 'and':
      case 'with':
        return parts.filter((_, i) => i % 2 === 0).every((x) => this.satisfied(x));
      case 'or':
        return parts.filter((_, i) => i % 2 === 0).some((x) => this.satisfied(x));
      case 'if':
        return op2 === 'else' ? (B() ? A() : this.satisfied(c ?? '')) : !B() || A();
      case 'unless':
        return op2 === 'else' ? (B() ? this.satisfied(c ?? '') : A()) : B() || A();
      case 'without':
        return A();
      default:
        throw new LayerError('LAYER_RPM_FORMAT', `dependency '${s}': unknown operator '${op ?? ''}'`);
    }
  }
}

/** `(A op B op C)` → [A, op, B, op, C] at the top level (nested parentheses kept whole). */
function splitRich(s: string): string[] {
  const inner = s.trim().slice(1, -1).trim();
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const word of inner.split(/(\s+|\(|\))/).filter((w) => w !== '')) {
    if (word === '(') depth++;
    if (word === ')') depth--;
    if (depth === 0 && ['and', 'or', 'if', 'unless', 'else', 'with', 'without'].includes(word)) {
      out.push(cur.trim(), word);
      cur = '';
    } else cur += word;
  }
  out.push(cur.trim());
  return out;
}

/**
 * The problems rpm's check would report for a transaction that installs `installed` and
 * removes `removed` from a tree that will hold `result` (kept + installed).
 */
export function checkDependencies(result: readonly CheckedPackage[], installed: readonly CheckedPackage[], removed: readonly CheckedPackage[]): DependencyProblem[] {
  const now = new ProvideIndex(result);
  const problems: DependencyProblem[] = [];
  const isNew = new Set(installed.map((p) => p.nevra));
  for (const p of installed) {
    for (const r of [...p.prerequires, ...p.requires]) if (!now.satisfied(r)) problems.push({ kind: 'requires', package: p.nevra, dependency: r });
  }
  if (removed.length > 0) {
    // A kept package that needed something only a removed package provided.
    const before = new ProvideIndex([...result.filter((p) => !isNew.has(p.nevra)), ...removed]);
    for (const p of result) {
      if (isNew.has(p.nevra)) continue;
      for (const r of [...p.prerequires, ...p.requires]) {
        if (before.satisfied(r) && !now.satisfied(r)) problems.push({ kind: 'requires', package: p.nevra, dependency: r });
      }
    }
  }
  for (const p of result) {
    for (const c of p.conflicts) {
      if (c.trim().startsWith('(')) continue;
      for (const other of now.who(parseDep(c))) {
        if (other.nevra === p.nevra || (!isNew.has(p.nevra) && !isNew.has(other.nevra))) continue;
        problems.push({ kind: 'conflicts', package: p.nevra, dependency: c, with: other.nevra });
      }
    }
  }
  return problems;
}

/** The error for the first problems, in rpm's words ("X is needed by Y"). */
export function dependencyError(problems: readonly DependencyProblem[]): LayerError {
  const lines = problems.slice(0, 10).map((p) =>
    p.kind === 'requires' ? `${p.dependency} is needed by ${p.package}` : `${p.dependency} conflicts with ${p.package} (provided by ${p.with ?? '?'})`);
  const more = problems.length > 10 ? `\n  … and ${problems.length - 10} more` : '';
  return new LayerError('LAYER_UNSOLVABLE', `the composed package set fails rpm's dependency check:\n  ${lines.join('\n  ')}${more}`, {
    hint: 'a package the solver chose cannot be installed as it is (a broken weak dependency can be left out with --ignore-weak-deps)',
    data: { problems },
  });
}
