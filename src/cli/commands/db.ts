/**
 * `layer db list [DEPLOYMENT]` and `layer db diff [A [B]]`. Deployments are named by index in
 * boot order (0 = default), id, or checksum prefix. `db diff` without arguments compares the
 * booted deployment with the pending one, else the rollback deployment with the default.
 */
import { diffDeployments, listPackages } from '../../engine/db.js';
import { LayerError } from '../../errors.js';
import { Sysroot, type Deployment } from '../../sysroot/index.js';
import type { PackageDiff } from '../../engine/types.js';
import { join, resolve } from 'node:path';
import { escapeControl } from '../../util/escape.js';
import { bool, parseArgs, splitSubcommand, str, type Parsed } from '../args.js';
import { advisoryDetails } from '../render-upgrade.js';
import { emit, sysrootOf } from '../output.js';
import { diffText } from '../render.js';
import { blockText, diffFormatOf, diffLines, pkgdiffJson } from '../diff-format.js';

export const usage = `layer db list [--sysroot DIR] [--json] [DEPLOYMENT]
layer db diff [--sysroot DIR] [--json] [--format=block|diff|json] [--advisories [--reposdir DIR]] [FROM [TO]]
  --format  rpm-ostree's layouts: block (name old -> new), diff (!old =new -new +new lines),
            json ({"pkgdiff": [[name, type, {PreviousPackage, NewPackage}]]}: 0 added, 1 removed,
            2 upgraded, 3 downgraded)
  --advisories  also the security advisories (repos' updateinfo.xml) that apply to FROM and
            that TO fixes: id, severity, packages, CVEs (repos: TO's /etc/yum.repos.d or --reposdir)`;

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
  const p = parseArgs(`db ${sub}`, rest, sub === 'diff' ? { format: { value: true }, advisories: {}, reposdir: { value: true } } : {});
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
  if (bool(p, 'advisories')) return diffAdvisories(p, s, a, b, diff);
  const format = diffFormatOf(str(p, 'format'));
  if (format === 'json') {
    process.stdout.write(JSON.stringify(pkgdiffJson(diff), null, 2) + '\n');
    return 0;
  }
  if (format === 'block' || format === 'diff') {
    const body = format === 'block' ? blockText(diff) : diffLines(diff);
    emit(p, { from: a.id, to: b.id, ...diff }, () => `ostree diff commit from: ${a.osname} ${a.id}\nostree diff commit to:   ${b.osname} ${b.id}\n${body}`);
    return 0;
  }
  emit(p, { from: a.id, to: b.id, ...diff }, () => `diff from: ${a.osname} ${a.id}\ndiff to:   ${b.osname} ${b.id}\n${diffText(diff)}`);
  return 0;
}

/** `db diff --advisories`: the diff, then the security advisories FROM is open to and TO fixes (metadata only). */
async function diffAdvisories(p: Parsed, s: Sysroot, a: Deployment, b: Deployment, diff: PackageDiff): Promise<number> {
  // Loaded only here: the repo stack is heavy, and plain `db diff` reads rpmdbs alone.
  const { securityAdvisories } = await import('../../engine/advisories.js');
  const { silentReport } = await import('../../report.js');
  const reposdir = str(p, 'reposdir');
  const advisories = await securityAdvisories({
    ...(reposdir ? { reposdir: resolve(reposdir) } : {}), tree: b.path, cacheDir: join(s.stateDir, 'cache'), report: silentReport,
    before: listPackages(a.path), after: listPackages(b.path),
  });
  emit(p, { from: a.id, to: b.id, ...diff, advisories }, () =>
    `diff from: ${a.osname} ${a.id}\ndiff to:   ${b.osname} ${b.id}\n${diffText(diff)}${advisoryDetails(advisories) || 'No security advisories.\n'}`);
  return 0;
}
