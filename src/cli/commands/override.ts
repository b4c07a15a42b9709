/** `layer override remove|reset`: rpm-ostree's base overrides, as transactions. */
import { LayerError } from '../../errors.js';
import { parseArgs, splitSubcommand, bool } from '../args.js';
import { TRANSACTION_FLAGS, needPackages, runChange } from '../common.js';
import { localRpmPath } from './install.js';

export const usage = `layer override remove PKG... [transaction flags]
layer override replace FILE.rpm... [transaction flags]
layer override reset PKG...|--all [transaction flags]
  remove: leave base packages out of the tree (each name must match exactly one base package);
  packages of the base that require them make the transaction fail, naming them.
  replace: replace base packages by local packages of the same name (newer or older).
  reset: bring overridden base packages back (--all: every override).
  The new deployment is composed from the base with the overrides applied first, then the
  layered packages, as rpm-ostree does; status shows RemovedBasePackages.`;

const FLAGS = { ...TRANSACTION_FLAGS, all: {} };

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
    const files = p.positionals.map((a) => {
      const path = localRpmPath(a);
      if (!path) throw new LayerError('LAYER_USAGE', `override replace: '${a}' is not an existing .rpm file`, { hint: 'replacing from the repos (--from repo=NAME) is not supported yet' });
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
