/**
 * The shim's result lines -> a plain SolveResult. Line kinds (tab-separated, see ly_solve in
 * wasm/shim.c):
 *   K id name evr arch repo    a package referenced by later lines
 *   T type reason id obs,ids   a transaction step (libsolv transaction type, decision reason)
 *   X action selector          a job selector that matched nothing
 *   P text | U type src tgt dep text | S | E text    problems, their rules, solutions, elements
 */
import { assert } from '../errors.js';
import { actionName } from './encode.js';
import type { LeftOutWeak, Nevra, PackageRef, Problem, ProblemRule, SolveResult, StepKind, StepReason, TransactionStep } from './types.js';

/** libsolv SolverRuleinfo values (src/rules.h) -> stable names used in ProblemRule.type. */
const ruleTypes: Record<number, string> = {
  0x100: 'pkg',
  0x101: 'not-installable',
  0x102: 'nothing-provides',
  0x103: 'requires',
  0x104: 'self-conflict',
  0x105: 'conflicts',
  0x106: 'same-name',
  0x107: 'obsoletes',
  0x108: 'implicit-obsoletes',
  0x109: 'installed-obsoletes',
  0x10a: 'recommends',
  0x10b: 'constrains',
  0x10c: 'supplements',
  0x200: 'update',
  0x300: 'feature',
  0x400: 'job',
  0x401: 'job-nothing-provides',
  0x402: 'job-provided-by-system',
  0x403: 'job-unknown-package',
  0x404: 'job-unsupported',
  0x500: 'distupgrade',
  0x600: 'infarch',
  0x700: 'choice',
  0x800: 'learnt',
  0x900: 'best',
  0xa00: 'yumobs',
  0xb00: 'recommends-rule',
  0xc00: 'blacklist',
  0xd00: 'strict-repo-priority',
};

/** libsolv SOLVER_TRANSACTION_* (src/transaction.h), shown "active" (from the new package's side). */
const stepKinds: Record<number, StepKind> = {
  0x10: 'erase',
  0x20: 'install',
  0x21: 'reinstall',
  0x22: 'downgrade',
  0x23: 'reinstall',
  0x24: 'upgrade',
  0x25: 'install', // OBSOLETES: a new name replacing installed packages via Obsoletes
  0x30: 'install', // MULTIINSTALL
  0x31: 'reinstall', // MULTIREINSTALL
};

/** libsolv SOLVER_REASON_* (src/solver.h). */
function reasonOf(r: number): StepReason {
  switch (r) {
    case 3: // RESOLVE_JOB (the shim folds job unit rules into this)
    case 4: // UPDATE_INSTALLED: the user asked for updates
      return 'requested';
    case 5:
      return 'cleanup';
    case 7:
      return 'weak-dependency';
    case 1:
    case 2:
    case 6:
    case 8:
      return 'dependency';
    default:
      return 'unknown';
  }
}

/** Split libsolv's `[epoch:]version[-release]`. */
export function splitEvr(evr: string): { epoch: number; version: string; release: string } {
  const colon = evr.indexOf(':');
  const epoch = colon > 0 && /^\d+$/.test(evr.slice(0, colon)) ? Number(evr.slice(0, colon)) : 0;
  const vr = colon > 0 ? evr.slice(colon + 1) : evr;
  const dash = vr.lastIndexOf('-');
  return dash < 0 ? { epoch, version: vr, release: '' } : { epoch, version: vr.slice(0, dash), release: vr.slice(dash + 1) };
}

/** Decode "K" package lines (ly_repo_list). */
export function decodePackages(text: string): PackageRef[] {
  const out: PackageRef[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [tag, , name = '', evr = '', arch = '', repo = ''] = line.split('\t');
    assert(tag === 'K', `unexpected package list line ${JSON.stringify(line)}`);
    out.push({ nevra: `${name}-${evr}.${arch}` as Nevra, name, ...splitEvr(evr), arch, repo });
  }
  return out;
}

export function decodeResult(text: string): SolveResult {
  const pkgs = new Map<number, PackageRef>();
  const steps: TransactionStep[] = [];
  const problems: Problem[] = [];
  const noMatch: Problem[] = [];
  const leftOut: LeftOutWeak[] = [];
  const ref = (id: string): PackageRef => {
    const p = pkgs.get(Number(id));
    assert(p, `solver result references unknown solvable ${id}`);
    return p;
  };
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split('\t');
    const at = (i: number): string => f[i] ?? '';
    switch (at(0)) {
      case 'K': {
        const name = at(2);
        const evr = at(3);
        const arch = at(4);
        pkgs.set(Number(at(1)), { nevra: `${name}-${evr}.${arch}` as Nevra, name, ...splitEvr(evr), arch, repo: at(5) });
        break;
      }
      case 'T': {
        const kind = stepKinds[Number(at(1))];
        assert(kind, `unknown libsolv transaction type ${at(1)}`);
        const pkg = ref(at(3));
        const replaces = at(4) ? at(4).split(',').map(ref) : [];
        const reason = reasonOf(Number(at(2)));
        steps.push(replaces.length ? { kind, pkg, replaces, reason } : { kind, pkg, reason });
        // dnf lists packages removed through another name's Obsoletes as their own step.
        for (const old of replaces) {
          if (old.name !== pkg.name) steps.push({ kind: 'obsoleted', pkg: old, obsoletedBy: pkg, reason: 'dependency' });
        }
        break;
      }
      case 'W':
        leftOut.push({ pkg: ref(at(1)), dep: at(2) });
        break;
      case 'X': {
        const action = actionName[Number(at(1))] ?? 'install';
        const what = at(2);
        const text = `package ${what} does not exist`;
        noMatch.push({
          text: `${text} (job: ${action} ${what})`,
          code: 'LAYER_NO_MATCH',
          rules: [{ type: 'job-unknown-package', text, dep: what }],
          solutions: [[{ text: `do not ask to ${action} ${what}` }]],
        });
        break;
      }
      case 'P':
        problems.push({ text: at(1), rules: [], solutions: [] });
        break;
      case 'U': {
        const prob = problems.at(-1);
        assert(prob, 'rule line before any problem');
        const rule: ProblemRule = { type: ruleTypes[Number(at(1))] ?? `rule-0x${Number(at(1)).toString(16)}`, text: at(5) };
        if (at(2) !== '0') rule.source = ref(at(2));
        if (at(3) !== '0') rule.target = ref(at(3));
        if (at(4)) rule.dep = at(4);
        prob.rules.push(rule);
        break;
      }
      case 'S':
        problems.at(-1)?.solutions.push([]);
        break;
      case 'E':
        problems.at(-1)?.solutions.at(-1)?.push({ text: at(1) });
        break;
      default:
        assert(false, `unexpected solver result line ${JSON.stringify(line)}`);
    }
  }
  if (noMatch.length) return { ok: false, problems: noMatch };
  if (problems.length) return { ok: false, problems };
  return { ok: true, transaction: leftOut.length ? { steps, leftOut } : { steps } };
}
