/**
 * `layer db list [DEPLOYMENT]` and `layer db diff [A [B]]`. Deployments are named by index in
 * boot order (0 = default), id, or checksum prefix. `db diff` without arguments compares the
 * booted deployment with the pending one, else the rollback deployment with the default.
 */
import { diffDeployments, listPackages } from '../../engine/db.js';
import { LayerError } from '../../errors.js';
import { Sysroot, type Deployment } from '../../sysroot/index.js';
import { escapeControl } from '../../util/escape.js';
import { parseArgs, splitSubcommand } from '../args.js';
import { emit, sysrootOf } from '../output.js';
import { diffText } from '../render.js';

export const usage = `layer db list [--sysroot DIR] [--json] [DEPLOYMENT]
layer db diff [--sysroot DIR] [--json] [FROM [TO]]`;

function pair(s: Sysroot, args: string[]): [Deployment, Deployment] {
  const st = s.status();
  if (args.length >= 1) {
    const a = s.find(args[0]!);
    const b = args[1] !== undefined ? s.find(args[1]) : st.deployments[0]!;
    return [a, b];
  }
  if (st.pending && st.booted) return [st.booted, st.pending];
  if (!st.rollback || !st.deployments[0]) throw new LayerError('LAYER_USAGE', 'db diff: only one deployment; name two to compare', { hint: 'layer db diff FROM TO' });
  return [st.rollback, st.deployments[0]];
}

export async function run(argv: string[]): Promise<number> {
  // Options may come before the subcommand (`db --sysroot S list`) as well as after it.
  const { sub, rest } = splitSubcommand(argv);
  if (sub !== 'list' && sub !== 'diff') {
    throw new LayerError('LAYER_USAGE', sub === undefined ? 'layer db: missing subcommand (list or diff)' : `layer db: unknown subcommand '${sub}'`, { hint: usage });
  }
  const p = parseArgs(`db ${sub}`, rest, {});
  const s = Sysroot.open(sysrootOf(p));
  if (sub === 'list') {
    const d = p.positionals[0] !== undefined ? s.find(p.positionals[0]) : s.deployments()[0];
    if (!d) throw new LayerError('LAYER_SYSROOT', `${s.path} has no deployments`);
    const pkgs = listPackages(d.path);
    // NEVRAs come from package headers: escaped for the terminal, kept as they are in JSON.
    emit(p, { deployment: d.id, packages: pkgs.map((x) => x.nevra) }, () => `${d.osname} ${d.id}\n${pkgs.map((x) => `  ${escapeControl(x.nevra)}\n`).join('')}`);
    return 0;
  }
  const [a, b] = pair(s, p.positionals);
  const diff = diffDeployments(a, b);
  emit(p, { from: a.id, to: b.id, ...diff }, () => `diff from: ${a.osname} ${a.id}\ndiff to:   ${b.osname} ${b.id}\n${diffText(diff)}`);
  return 0;
}
