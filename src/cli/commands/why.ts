/**
 * `layer why PKG [--deployment D] [--json]`: why a package is in a deployment (engine/why.ts):
 * requested, the dependency chain from a requested package, or the base.
 */
import { selectDeployment } from '../../engine/run.js';
import { explainPackage, type WhyAnswer } from '../../engine/why.js';
import { LayerError } from '../../errors.js';
import { Sysroot, type Deployment } from '../../sysroot/index.js';
import { escapeControl } from '../../util/escape.js';
import { parseArgs, str } from '../args.js';
import { emit, sysrootOf } from '../output.js';

export const usage = `layer why PKG [--sysroot DIR] [--deployment N|ID|pending|booted|rollback] [--json]
  Why PKG (a name or NEVRA) is in a deployment (default: the default one): requested (and by
  which spec), pulled in by a chain of requires / recommends / supplements from a requested
  package, or in the base (with the chain from a recipe package for a recipe base).`;

function answerText(a: WhyAnswer, d: Deployment): string {
  const e = escapeControl;
  const chainText = (): string => {
    const lines = [`  ${e(a.root ?? '')}${a.requestedAs ? `  (${a.reason === 'base' ? 'recipe' : 'requested'}: ${e(a.requestedAs)})` : ''}\n`];
    a.steps.forEach((s, i) => lines.push(`  ${'  '.repeat(i)}└─ ${s.kind === 'supplements' ? `supplemented by (${e(s.dep)})` : `${s.kind} ${e(s.dep)}`}: ${e(s.nevra)}\n`));
    return lines.join('');
  };
  switch (a.reason) {
    case 'requested':
      return `${e(a.nevra)} is requested${a.requestedAs !== a.nevra ? ` as '${e(a.requestedAs ?? '')}'` : ''}.\n`;
    case 'dependency':
      return `${e(a.nevra)} is layered as a ${a.steps.some((s) => s.kind !== 'requires') ? 'weak ' : ''}dependency of a requested package:\n${chainText()}`;
    case 'base':
      if (a.root === a.nevra) return `${e(a.nevra)} is in the base, named by its recipe as '${e(a.requestedAs ?? '')}'.\n`;
      return `${e(a.nevra)} is in the base (${e(d.origin.baseRef)} ${d.origin.baseCommit.slice(0, 12)})${a.root ? ':' : '.'}\n${a.root ? chainText() : ''}`;
    default:
      return `${e(a.nevra)} is layered, but no chain of requires, recommends or supplements from a requested package leads to it\n` +
        '  (the solver took it for a rule layer does not trace, e.g. an obsoletes or a file conflict).\n';
  }
}

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('why', argv, { deployment: { value: true } });
  const spec = p.positionals[0];
  if (spec === undefined || p.positionals.length > 1) throw new LayerError('LAYER_USAGE', 'layer why: name one package', { hint: usage });
  const s = Sysroot.open(sysrootOf(p));
  const d = selectDeployment(s, str(p, 'deployment'));
  const answers = explainPackage(s, d, spec);
  const json = {
    deployment: { id: d.id, osname: d.osname, index: d.index },
    packages: answers.map((a) => ({
      nevra: a.nevra, name: a.name, reason: a.reason,
      ...(a.requestedAs !== undefined ? { 'requested-as': a.requestedAs } : {}), ...(a.root ? { root: a.root } : {}),
      chain: a.steps,
    })),
  };
  emit(p, json, () => answers.map((a) => answerText(a, d)).join(''));
  return 0;
}
