/** `layer override remove|reset`: rpm-ostree's base overrides, as transactions. */
import { LayerError } from '../../errors.js';
import { parseArgs, splitSubcommand, bool, str } from '../args.js';
import { TRANSACTION_FLAGS, needPackages, runChange } from '../common.js';
import { localRpmPath } from './install.js';

export const usage = `layer override remove PKG... [transaction flags]
layer override replace FILE.rpm... [transaction flags]
layer override replace --from repo=NAME PKG... [transaction flags]
layer override reset PKG...|--all [transaction flags]
  remove: leave base packages out of the tree (each name must match exactly one base package);
  packages of the base that require them make the transaction fail, naming them.
  replace: replace base packages by local packages of the same name (newer or older), or
  (--from repo=NAME) by the newest version the enabled repo NAME has, with its new dependencies.
  reset: bring overridden base packages back (--all: every override).
  The new deployment is composed from the base with the overrides applied first, then the
  layered packages, as rpm-ostree does; status shows RemovedBasePackages and ReplacedBasePackages.`;

const FLAGS = { ...TRANSACTION_FLAGS, all: {}, from: { value: true } };

export async function run(argv: string[]): Promise<number> {
  const { sub, rest } = splitSubcommand(argv, FLAGS);
  const p = parseArgs(`override ${sub ?? ''}`.trim(), rest, FLAGS);
  const command = `layer override ${argv.join(' ')}`;
  if (sub === 'remove') {
    needPackages('override remove', p.positionals);
    return runChange(p, { kind: 'override-remove', packages: p.positionals }, command);
  }
  if (sub === 'replace') {
    needPackages('override replace', p.positionals);
    const from = str(p, 'from');
    if (from !== undefined) return runChange(p, { kind: 'override-replace-repo', repo: repoOf(from), packages: p.positionals }, command);
    const files = p.positionals.map((a) => {
      const path = localRpmPath(a);
      if (!path) throw new LayerError('LAYER_USAGE', `override replace: '${a}' is not an existing .rpm file`, { hint: `to replace it from a repo: layer override replace --from repo=NAME ${a}` });
      return path;
    });
    return runChange(p, { kind: 'override-replace', localRpms: files }, command);
  }
  if (sub === 'reset') {
    if (bool(p, 'all')) return runChange(p, { kind: 'override-reset', packages: 'all' }, command);
    needPackages('override reset', p.positionals);
    return runChange(p, { kind: 'override-reset', packages: p.positionals }, command);
  }
  throw new LayerError('LAYER_USAGE', sub ? `unknown override command '${sub}'` : 'layer override: remove or reset?', { hint: usage.split('\n')[0] });
}

/** `--from repo=NAME` (rpm-ostree's spelling; koji/bodhi sources are not supported). */
function repoOf(from: string): string {
  const m = /^repo=(.+)$/.exec(from);
  if (!m?.[1]) throw new LayerError('LAYER_USAGE', `override replace: --from takes repo=NAME, not '${from}'`, { hint: 'layer override replace --from repo=updates PKG' });
  return m[1];
}
