/** `layer rebase REPO:REF`: another OSTree ref as the base, the layered requests carried (rpm-ostree's rebase). */
import { LayerError } from '../../errors.js';
import { parseArgs } from '../args.js';
import { TRANSACTION_FLAGS, runChange } from '../common.js';

export const usage = `layer rebase [--sysroot DIR] [--reposdir DIR] [--unchanged-exit-77] [--json] REPO:REF
  Make the newest commit of another OSTree ref (a local repo) the base; the layered packages are
  solved again on it. A pin (layer deploy) is dropped.`;

export async function run(argv: string[]): Promise<number> {
  const p = parseArgs('rebase', argv, TRANSACTION_FLAGS);
  const ref = p.positionals[0];
  if (ref === undefined || p.positionals.length > 1) throw new LayerError('LAYER_USAGE', 'layer rebase: give one REPO:REF', { hint: usage });
  return runChange(p, { kind: 'rebase', ref }, `layer rebase ${argv.join(' ')}`);
}
