/**
 * The extra index keys rpm files a rich dependency under (rpm:lib/rpmdb.c updateRichDep over
 * rpmrichParse in lib/rpmds.c). Besides the whole `(a if b)` string, rpm indexes every plain
 * name inside it; names in an `if`/`unless` condition are negated and stored with a `!` prefix,
 * so `(a if b)` adds `a` and `!b`. `rpmlib(...)` names are left out, duplicates collapse, and
 * the result is sorted the way rpm's argvSort sorts the internal `' '`/`'!'`-prefixed names.
 *
 * This is a separate parser from the solver's: it only has to reproduce rpm's callback order,
 * not evaluate anything. A string rpm could not parse yields no extra keys (as in rpm).
 */

const OPS = new Set(['and', 'or', 'if', 'unless', 'else', 'with', 'without']);

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

class RichNames {
  private p = 0;
  private neg = false;
  readonly names: string[] = [];

  constructor(private readonly s: string) {}

  private skipWhite(): void {
    while (this.p < this.s.length && (isSpace(this.s[this.p]) || this.s[this.p] === ',')) this.p++;
  }

  /** A token ends at white space, ',' or an unbalanced ')' (rpm's SKIPNONWHITEX). */
  private token(): string {
    const start = this.p;
    let depth = 0;
    while (this.p < this.s.length) {
      const c = this.s[this.p]!;
      if (isSpace(c) || c === ',') break;
      if (c === ')' && depth-- <= 0) break;
      if (c === '(') depth++;
      this.p++;
    }
    return this.s.slice(start, this.p);
  }

  private simple(): void {
    const name = this.token();
    if (name === '') throw new Error('name required');
    this.skipWhite();
    const save = this.p;
    const rel = this.token();
    if (/^(<|>|=|<=|>=|=<|=>|==)$/.test(rel)) {
      this.skipWhite();
      if (this.token() === '') throw new Error('version required');
    } else {
      this.p = save;
    }
    if (!(name.length > 7 && name.startsWith('rpmlib('))) this.names.push((this.neg ? '!' : ' ') + name);
  }

  /** One parenthesised level; mirrors rpmrichParseInternal plus updateRichDepCB's bookkeeping. */
  group(): void {
    let mark = this.names.length;
    if (this.s[this.p++] !== '(') throw new Error("does not start with '('");
    let op = 'single';
    for (;;) {
      this.skipWhite();
      if (this.s[this.p] === ')') throw new Error('empty rich dependency');
      if (this.s[this.p] === '(') this.group();
      else this.simple();
      this.skipWhite();
      if (this.p >= this.s.length) throw new Error('unterminated');
      if (this.s[this.p] === ')') break;
      const word = this.token();
      if (!OPS.has(word)) throw new Error(`unknown op ${word}`);
      op = word;
      if (op === 'if' || op === 'unless') {
        mark = this.names.length;
        this.neg = !this.neg;
      } else if (op === 'else') {
        // The else branch applies when the condition fails: re-add the condition names inverted.
        const cond = this.names.slice(mark);
        for (const n of cond) this.names.push((n[0] === '!' ? ' ' : '!') + n.slice(1));
        this.neg = !this.neg;
      }
    }
    this.p++;
    if (op === 'if' || op === 'unless') this.neg = !this.neg;
  }
}

/** The names rpm adds to a dependency index for rich dependency `dep` (empty if it is not one). */
export function richDepNames(dep: string): string[] {
  if (!dep.startsWith('(')) return [];
  const parser = new RichNames(dep);
  try {
    parser.group();
  } catch {
    return [];
  }
  // argvSort is strcmp order; compare code units of the prefixed names like rpm does.
  const sorted = [...parser.names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const out: string[] = [];
  sorted.forEach((n, i) => {
    if (i > 0 && sorted[i - 1] === n) return;
    out.push(n[0] === ' ' ? n.slice(1) : n);
  });
  return out;
}
